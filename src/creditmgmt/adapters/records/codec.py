"""The one private cattrs converter: aggregates and events ⇄ JSON-compatible documents.

Every stored document — aggregate, outbox event or audit entry — is an envelope
`{"schema_version": 1, "kind": ..., "data": {...}}`. Decimals travel as strings (never floats),
`Money` as `{"amount": "12.30", "currency": "CNY"}`, identifiers as plain strings, dates as ISO
dates, timestamps as ISO datetimes with offset (naive timestamps are refused), enums by value.
Integers, strings and booleans are read only as themselves (not `"5"` for an int, nor `"no"`
for a flag), and a tuple only from an array. Unknown keys are rejected. Domain events are a tagged union on `event_type`: an event is
written with its tag wherever it appears (outbox envelope or a field typed with an event base
class) and read back as the tagged class, which must be a subclass of the declared one.
Anything that cannot be read raises `DataError` naming the kind, the id and the field path.

Attrs classes and aggregates are read through `fastpath` first: generated functions that take
only documents cattrs would read into the same value, and hand anything else to cattrs.
"""

from __future__ import annotations

import importlib
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum, IntEnum, StrEnum
from functools import cache
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.v import format_exception

from creditmgmt.adapters.records.clone import clone_value, immutable_annotation, snapshot_plan
from creditmgmt.adapters.records.fastpath import FastStructure
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.domain.ids import EntityId
from creditmgmt.domain.money import Money, money_of_decimal
from creditmgmt.ports.audit import AuditEntry, ChainHead
from creditmgmt.ports.errors import DataError

SCHEMA_VERSION: Final = 1
SUPPORTED_SCHEMA_VERSIONS: Final = frozenset({1})

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

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


_CONVERTER: Final = make_converter()
#: Unstructures any domain event as its tagged class (the converter's dispatch, done once).
_EVENT_HOOK: Final[Callable[[DomainEvent], dict[str, Any]]] = _CONVERTER.get_unstructure_hook(
    DomainEvent
)


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


def _format_error(exc: BaseException, type_: Any) -> str:
    # cattrs' default says only "invalid value for type": keep our validators' explanation
    base = format_exception(exc, type_)
    if isinstance(exc, (ValueError, TypeError, CreditMgmtError)) and str(exc):
        return f"{base}: {exc}"
    return base


def _describe(exc: BaseException, path: str) -> str:
    if isinstance(exc, cattrs.BaseValidationError):
        return "; ".join(cattrs.transform_error(exc, path=path, format_exception=_format_error))
    return f"{path}: {exc}"


def encode(kind: str, aggregate: Aggregate) -> dict[str, Any]:
    """The stored document of an aggregate.

    Raises:
        DataError: a value that cannot be stored (e.g. a naive timestamp).
    """
    cls = type(aggregate)
    hook = _aggregate_hooks.get(cls)
    if hook is None:
        hook = _aggregate_hooks[cls] = _CONVERTER.get_unstructure_hook(cls)
    return _enveloped(kind, hook, aggregate, _aggregate_id)


def _aggregate_id(aggregate: Any) -> object:
    return getattr(aggregate, "id", "?")


def _enveloped(
    kind: str, hook: Callable[[Any], dict[str, Any]], value: Any, name: Callable[[Any], object]
) -> dict[str, Any]:
    """The envelope of `hook(value)`; a value that cannot be encoded raises `DataError`
    naming `kind` and `name(value)` (an id, an event type)."""
    try:
        data = hook(value)
    except DataError:
        raise
    except (TypeError, ValueError, AttributeError) as e:
        raise DataError(f"{kind} {name(value)}: cannot encode: {e}") from e
    return {"schema_version": SCHEMA_VERSION, "kind": kind, "data": data}


#: The converter's unstructure function per aggregate class (skips its dispatch per call).
_aggregate_hooks: dict[type, Callable[[Any], dict[str, Any]]] = {}


def encode_changes(
    kind: str,
    aggregate: Aggregate,
    previous: tuple[Any, ...],
    previous_document: dict[str, Any],
) -> tuple[dict[str, Any], tuple[Any, ...]] | None:
    """The new document and snapshot of `aggregate`, or None when it encodes exactly as
    `previous_document`.

    `previous` is the `adapters.clone.snapshot` that `previous_document` was encoded from and
    `aggregate` was restored from (restoring shares immutable field values). A field whose
    immutable value is still the very same object cannot have changed; every other field is
    encoded again and compared. The document always equals `encode(kind, aggregate)` and the
    snapshot `clone.snapshot(aggregate)`; both come from one pass over the fields.

    Raises:
        DataError: a value that cannot be stored (e.g. a naive timestamp).
    """
    try:
        found = _change_finder(type(aggregate))(aggregate, previous, previous_document["data"])
    except DataError:
        raise
    except (TypeError, ValueError, AttributeError) as e:
        raise DataError(f"{kind} {getattr(aggregate, 'id', '?')}: cannot encode: {e}") from e
    if found is None:
        return None
    changed, state = found
    data = {**previous_document["data"], **changed}
    return {"schema_version": SCHEMA_VERSION, "kind": kind, "data": data}, state


_Finder = Callable[
    [Any, tuple[Any, ...], dict[str, Any]], tuple[dict[str, Any], tuple[Any, ...]] | None
]
_change_finders: dict[type, _Finder] = {}


def _change_finder(cls: type) -> _Finder:
    """Generated per class: the fields whose encoding differs from the previous document,
    and the new snapshot, in one pass."""
    cached = _change_finders.get(cls)
    if cached is not None:
        return cached
    attrs.resolve_types(cls)
    hints = typing.get_type_hints(cls)
    namespace: dict[str, Any] = {"_get": getattr, "_clone_value": clone_value}
    lines = ["def changes(agg, prev, data):", "    out = {}"]
    state: list[str] = []
    for i, (name, mode) in enumerate(snapshot_plan(cls)):
        if mode == "drop":
            state.append("None")
            continue
        # `agg.__x` would be name-mangled in generated code: read such fields by getattr
        read = f"_get(agg, {name!r})" if name.startswith("__") else f"agg.{name}"
        lines.append(f"    v{i} = {read}")
        state.append(f"v{i}" if mode == "share" else f"_clone_value(v{i})")
        if name == "version":
            continue
        hook = f"_h{i}"
        namespace[hook] = _CONVERTER.get_unstructure_hook(hints[name])
        indent = "    "
        if immutable_annotation(hints[name]):
            lines.append(f"    if v{i} is not prev[{i}]:")
            indent = "        "
        lines.append(f"{indent}u = {hook}(v{i})")
        lines.append(f"{indent}if u != data[{name!r}]:")
        lines.append(f"{indent}    out[{name!r}] = u")
    lines.append("    if not out:")
    lines.append("        return None")
    lines.append(f"    return out, ({', '.join(state)},)")
    # safe: the source is built from the class's own field names (repr-quoted), no outside text
    exec(compile("\n".join(lines), f"<changes {cls.__qualname__}>", "exec"), namespace)  # noqa: S102
    finder: _Finder = namespace["changes"]
    _change_finders[cls] = finder
    return finder


#: What reading a damaged document can raise inside cattrs and the domain's validators.
_UNREADABLE: Final = (
    cattrs.BaseValidationError,
    CreditMgmtError,
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RecursionError,
)


def decode(kind: str, cls: type[A], document: object, *, record_id: str, version: int) -> A:
    """Read a stored document back into an aggregate carrying `version`.

    Raises:
        DataError: not an envelope, an unknown schema version, another kind, or a field that
            cannot be read — the message names the kind, the id and the field path.
    """
    where = f"{kind} {record_id}"
    aggregate = _structure_data(_envelope(document, kind, where), cls, where)
    if str(getattr(aggregate, "id", "")) != record_id:
        raise DataError(f"{where}: document holds id {getattr(aggregate, 'id', None)}")
    aggregate.version = version
    return aggregate


def _structure_data(data: object, cls: type[T], where: str) -> T:
    """The envelope's `data` read as `cls`; a `DataError` names `where` and the field path."""
    try:
        return _CONVERTER.structure(data, cls)
    except _UNREADABLE as e:
        raise DataError(f"{where}: {_describe(e, 'data')}") from e


def _envelope(document: object, kind: str, where: str) -> object:
    if not isinstance(document, dict) or set(document) != {"schema_version", "kind", "data"}:
        raise DataError(f"{where}: stored document is not a creditmgmt envelope")
    schema = document["schema_version"]
    if type(schema) is not int or schema not in SUPPORTED_SCHEMA_VERSIONS:
        raise DataError(
            f"{where}: unknown schema version {schema!r} (this release reads "
            f"{sorted(SUPPORTED_SCHEMA_VERSIONS)}); upgrade creditmgmt or migrate the store"
        )
    if document["kind"] != kind:
        raise DataError(f"{where}: stored document is a {document['kind']!r}")
    data = document["data"]
    if not isinstance(data, dict):
        raise DataError(f"{where}: stored data is a JSON {type(data).__name__}, not an object")
    return data


def encode_event(event: DomainEvent) -> dict[str, Any]:
    """The outbox document of an event: an envelope around the tagged event."""
    return _enveloped("event", _EVENT_HOOK, event, _event_type)


def _event_type(event: Any) -> object:
    return type(event).event_type


#: Field types whose encoding cannot fail (datetime can: a naive one is refused).
_SAFE_LEAVES: Final = (str, int, bool, Decimal, Money, EntityId, Enum)


def _cannot_fail(tp: object) -> bool:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is type(None):
        return True
    if origin in (typing.Union, types.UnionType):
        return all(_cannot_fail(a) for a in args)
    if origin is tuple:
        return all(a is Ellipsis or _cannot_fail(a) for a in args)
    if not isinstance(tp, type) or issubclass(tp, datetime):
        return False
    return issubclass(tp, date) or issubclass(tp, _SAFE_LEAVES)


_deferrable: dict[type, bool] = {}


def can_defer_event(cls: type[DomainEvent]) -> bool:
    """Whether an event of `cls` may be encoded later than its commit with the same result
    and no error: it is deeply immutable and no field can fail to encode."""
    known = _deferrable.get(cls)
    if known is None:
        hints = typing.get_type_hints(cls)
        known = _deferrable[cls] = immutable_annotation(cls) and all(
            _cannot_fail(hints[f.name]) for f in attrs.fields(cls)
        )
    return known


def decode_event(document: object, *, where: str = "outbox") -> DomainEvent:
    """Read an outbox document back into its event class.

    Raises:
        DataError: not an envelope, an unknown schema version or event type, or a field that
            cannot be read — naming `where`, the event type and the field path.
    """
    data = _envelope(document, "event", where)
    tag = data.get(EVENT_TAG) if isinstance(data, dict) else None
    return _structure_data(data, DomainEvent, f"{where}: event {tag}")


def encode_audit(entry: AuditEntry) -> dict[str, Any]:
    """The stored document of an audit entry (naive timestamps raise `DataError`)."""
    return {"schema_version": SCHEMA_VERSION, "kind": "audit", "data": unstructure(entry)}


def decode_audit(document: object, *, record_id: str) -> AuditEntry:
    """Raises `DataError` naming the audit entry id and the field path."""
    where = f"audit {record_id}"
    return _structure_data(_envelope(document, "audit", where), AuditEntry, where)


def encode_audit_head(head: ChainHead) -> dict[str, Any]:
    """The stored document of the audit chain's head."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "audit_head",
        "data": {"sequence": head.sequence, "hash": head.hash},
    }


def decode_audit_head(document: object) -> ChainHead:
    """Raises `DataError` naming the audit chain head and what is wrong with it."""
    data = _envelope(document, "audit_head", "audit chain head")
    if not isinstance(data, dict):
        raise DataError("audit chain head: data is not an object")
    sequence, digest = data.get("sequence"), data.get("hash")
    if type(sequence) is not int or sequence < 0 or not isinstance(digest, str):
        raise DataError(f"audit chain head: bad sequence {sequence!r} or hash {digest!r}")
    return ChainHead(sequence, digest)


def unstructure(value: object) -> Any:
    """Unstructure any supported value (used for audit entries and reports)."""
    return _CONVERTER.unstructure(value)


def structure(value: object, cls: type[Any]) -> Any:
    """Structure a value; raises `DataError` with the field path."""
    try:
        return _CONVERTER.structure(value, cls)
    except _UNREADABLE as e:
        raise DataError(_describe(e, cls.__name__)) from e
