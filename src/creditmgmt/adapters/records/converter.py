"""The one private cattrs converter the codec reads and writes documents with.

Decimals travel as strings (never floats), `Money` as `{"amount": "12.30", "currency":
"CNY"}`, identifiers as plain strings, dates as ISO dates, timestamps as ISO datetimes with
offset (naive timestamps are refused), enums by value. Integers, strings and booleans are read
only as themselves (not `"5"` for an int, nor `"no"` for a flag), and a tuple only from an
array. Unknown keys are rejected. Domain events are a tagged union on `event_type`: an event
is written with its tag wherever it appears (outbox envelope or a field typed with an event
base class) and read back as the tagged class, which must be a subclass of the declared one.

Attrs classes and aggregates are read through `fastpath` first: generated functions that take
only documents cattrs would read into the same value, and hand anything else to cattrs.
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum, IntEnum, StrEnum
from functools import cache
from typing import Any, Final

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from creditmgmt.adapters.records.fastpath import FastStructure
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.domain.ids import EntityId
from creditmgmt.domain.money import Money, money_of_decimal
from creditmgmt.ports.errors import DataError

#: Modules whose DomainEvent subclasses make up the event union (imported on first use).
_EVENT_MODULES = (
    "creditmgmt.domain.application",
    "creditmgmt.domain.classification",
    "creditmgmt.domain.credit_file",
    "creditmgmt.domain.customer",
    "creditmgmt.domain.facility",
    "creditmgmt.domain.group",
    "creditmgmt.domain.interaction",
    "creditmgmt.domain.loan",
    "creditmgmt.domain.risk",
)


def _structure_decimal(value: object, _: type) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"expected a decimal string, got {type(value).__name__} {value!r}")
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a decimal") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not finite")
    return result


def _structure_date(value: object, _: type) -> date:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO date string, got {value!r}")
    return date.fromisoformat(value)


def _structure_datetime(value: object, _: type) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO datetime string, got {value!r}")
    result = datetime.fromisoformat(value)
    if result.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset (timestamps must be aware)")
    return result


#: JSON's own scalars are read only as themselves. cattrs would call the type on the value
#: (`int("5")`, `str(5)`, `bool("no")` is True) and so take what no encoder of ours writes.
_SCALARS: Final = {int: "an integer", str: "a string", bool: "true or false"}


def _exactly(kind: type) -> Callable[[object, type], Any]:
    what = _SCALARS[kind]

    def structure(value: object, _: type) -> Any:
        if type(value) is not kind:
            raise ValueError(f"expected {what}, got {type(value).__name__} {value!r}")
        return value

    return structure


def _by_value(value: object, cls: type[Enum]) -> Enum:
    return cls(value)


def _is_repeated(t: object) -> bool:
    args = typing.get_args(t)
    return typing.get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis


def _array(t: type, conv: cattrs.BaseConverter) -> Callable[[object, type], Any]:
    """`tuple[X, ...]` from a JSON array only (cattrs would iterate a dict's keys or a
    string's characters)."""
    items = homogenous_tuple_structure_factory(t, conv)

    def structure(value: object, declared: type) -> Any:
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"expected an array, got {type(value).__name__} {value!r}")
        return items(value, declared)

    return structure


def _unstructure_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise DataError(f"cannot store naive timestamp {value.isoformat()} (timestamps are aware)")
    return value.isoformat()


#: Decoded amounts by their stored text: Money is immutable, so one instance serves every
#: equal amount read (a schedule's instalments and paid amounts repeat a few values).
_MONEY_MEMO: dict[tuple[str, str], Money] = {}
_MONEY_MEMO_SIZE: Final = 1 << 16


def _structure_money(value: object, _: type) -> Money:
    if type(value) is dict and len(value) == 2:
        amount, currency = value.get("amount"), value.get("currency")
        if type(amount) is str and type(currency) is str:
            found = _MONEY_MEMO.get((amount, currency))
            return _remember_money(amount, currency) if found is None else found
    if not isinstance(value, dict) or len(value) != 2 or set(value) != {"amount", "currency"}:
        raise ValueError(f"expected {{'amount', 'currency'}}, got {value!r}")
    return Money(_structure_decimal(value["amount"], Decimal), str(value["currency"]))


def _remember_money(amount: str, currency: str) -> Money:
    """What `_structure_money` gives for `{"amount": amount, "currency": currency}` when the
    memo does not hold it, kept there. `Money(Decimal(amount), currency)` without the attrs
    `__init__` pipeline (a stored book holds millions of amounts): the same checks and value,
    by the domain's own rule. Stored amounts are exact: one with more decimal places than
    the currency has (which quantising would round) is refused, not rounded on reading."""
    value = _structure_decimal(amount, Decimal)
    money = money_of_decimal(value, currency)
    if money.amount != value:
        raise ValueError(
            f"{amount!r} has more decimal places than {currency} allows (stored amounts are "
            "exact, never rounded on reading)"
        )
    if len(_MONEY_MEMO) >= _MONEY_MEMO_SIZE:
        _MONEY_MEMO.clear()
    _MONEY_MEMO[(amount, currency)] = money
    return money


def _text_reader(t: object) -> Callable[[str], Any] | None:
    """How the hook of `t` reads a `str` (`_structure_date`, `_structure_id`), for fastpath."""
    if t is date:
        return date.fromisoformat
    if _is_id_type(t):
        return t  # type: ignore[return-value]
    return None


def _is_id_type(t: object) -> bool:
    return isinstance(t, type) and issubclass(t, EntityId)


def _is_aggregate(t: object) -> bool:
    return isinstance(t, type) and issubclass(t, Aggregate) and attrs.has(t)


def _is_event(t: object) -> bool:
    return isinstance(t, type) and issubclass(t, DomainEvent) and attrs.has(t)


def _is_id_tuple(t: object) -> bool:
    """`tuple[SomeId, ...]`: unstructured in one comprehension (a hot path of every encode)."""
    args = typing.get_args(t)
    return (
        typing.get_origin(t) is tuple
        and len(args) == 2
        and args[1] is Ellipsis
        and _is_id_type(args[0])
    )


def _enum_value(member: Enum) -> Any:
    return member._value_  # the plain attribute behind the `value` property


EVENT_TAG: Final = "event_type"


def _is_value_class(t: object) -> bool:
    """The attrs classes structured by cattrs' own attrs factory (no hook of ours)."""
    return (
        isinstance(t, type)
        and attrs.has(t)
        and t is not Money
        and not _is_id_type(t)
        and not issubclass(t, (Aggregate, DomainEvent))
    )


def make_converter(*, fast: bool = True) -> cattrs.Converter:
    """Build the converter (see the module doc for the mapping).

    `fast`: read attrs classes and aggregates through `fastpath` first (the same values and
    errors; False gives the plain cattrs converter, the reference the tests compare with).
    """
    # tuples (homogeneous or not) travel as JSON arrays
    conv = cattrs.Converter(forbid_extra_keys=True, unstruct_collection_overrides={tuple: list})
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, _structure_decimal)
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook(datetime, _unstructure_datetime)
    conv.register_structure_hook(datetime, _structure_datetime)
    conv.register_unstructure_hook(
        Money, lambda m: {"amount": str(m.amount), "currency": m.currency}
    )
    conv.register_structure_hook(Money, _structure_money)
    conv.register_unstructure_hook_func(_is_id_type, lambda v: v.value)
    conv.register_structure_hook_func(_is_id_type, _structure_id)
    for scalar in _SCALARS:
        conv.register_structure_hook(scalar, _exactly(scalar))
    # enums by value as before: their `str` / `int` base must not take them to the hooks above
    for enum_base in (Enum, StrEnum, IntEnum):
        conv.register_structure_hook(enum_base, _by_value)
    conv.register_structure_hook_factory(_is_repeated, _array)
    # by value, as plain str / int: `str` and `int` are passed through by class dispatch, which
    # would otherwise win for StrEnum / IntEnum members and leave enum objects in documents
    for enum_base in (Enum, StrEnum, IntEnum):
        conv.register_unstructure_hook(enum_base, _enum_value)
    conv.register_unstructure_hook_func(_is_id_tuple, lambda v: [i.value for i in v])

    # domain events: a tagged union on `event_type`, dispatched on the runtime class
    event_unstructurers: dict[type, Callable[[Any], dict[str, Any]]] = {}
    event_structurers: dict[type, Callable[[Any, Any], Any]] = {}

    def unstructure_event(event: DomainEvent) -> dict[str, Any]:
        cls = type(event)
        fn = event_unstructurers.get(cls)
        if fn is None:
            fn = event_unstructurers[cls] = make_dict_unstructure_fn(cls, conv)
        return {EVENT_TAG: cls.event_type, **fn(event)}

    def structure_event(value: object, declared: type[DomainEvent]) -> DomainEvent:
        if not isinstance(value, dict) or not isinstance(value.get(EVENT_TAG), str):
            raise ValueError(f"expected an event with an {EVENT_TAG!r} tag, got {value!r}")
        tag = value[EVENT_TAG]
        cls = event_types().get(tag)
        if cls is None:
            raise ValueError(f"unknown event type {tag!r}")
        if not issubclass(cls, declared):
            raise ValueError(f"event type {tag!r} is not a {declared.__name__}")
        fn = event_structurers.get(cls)
        if fn is None:
            fn = event_structurers[cls] = make_dict_structure_fn(
                cls, conv, _cattrs_forbid_extra_keys=True
            )
        return fn({k: v for k, v in value.items() if k != EVENT_TAG}, cls)  # type: ignore[no-any-return]

    conv.register_unstructure_hook_func(_is_event, unstructure_event)
    conv.register_structure_hook_func(_is_event, structure_event)

    def aggregate_unstructure(cls: type) -> Callable[[Any], dict[str, Any]]:
        return make_dict_unstructure_fn(
            cls, conv, version=override(omit=True), _pending_events=override(omit=True)
        )

    faster = FastStructure(
        conv,
        compilable=_is_value_class,
        money_type=Money,
        money_memo=_MONEY_MEMO,
        money_miss=_remember_money,
        text_reader=_text_reader,
    )

    def aggregate_structure(cls: type) -> Callable[[Any, Any], Any]:
        slow: Callable[[Any, Any], Any] = make_dict_structure_fn(
            cls,
            conv,
            _cattrs_forbid_extra_keys=True,
            version=override(omit=True),
            _pending_events=override(omit=True),
        )
        if not fast:
            return slow
        return faster.hook(cls, slow, omit=("version", "_pending_events"))

    def value_structure(cls: type) -> Callable[[Any, Any], Any]:
        return faster.hook(cls, conv.gen_structure_attrs_fromdict(cls))

    conv.register_unstructure_hook_factory(_is_aggregate, aggregate_unstructure)
    conv.register_structure_hook_factory(_is_aggregate, aggregate_structure)
    if fast:
        conv.register_structure_hook_factory(_is_value_class, value_structure)
    return conv


def _structure_id(value: object, t: type[EntityId]) -> EntityId:
    if not isinstance(value, str):
        raise ValueError(f"expected an identifier string, got {value!r}")
    return t(value)


@cache
def event_types() -> dict[str, type[DomainEvent]]:
    """Every concrete domain event class by its `event_type` tag."""
    for module in _EVENT_MODULES:
        importlib.import_module(module)
    found: dict[str, type[DomainEvent]] = {}
    stack: list[type[DomainEvent]] = list(DomainEvent.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        # attrs' slotted classes replace the class they decorate; the replaced original stays
        # among __subclasses__ until garbage-collected. Only the class its module exports counts.
        exported: object = importlib.import_module(cls.__module__)
        for part in cls.__qualname__.split("."):
            exported = getattr(exported, part, None)
        if exported is not cls:
            continue
        tag = cls.event_type
        if tag in found and found[tag] is not cls:
            raise RuntimeError(f"event_type {tag!r} used by {found[tag]} and {cls}")
        found[tag] = cls
    return found
