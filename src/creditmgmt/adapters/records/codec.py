"""Aggregates, events and audit entries ⇄ JSON-compatible documents.

Every stored document — aggregate, outbox event or audit entry — is an envelope
`{"schema_version": 1, "kind": ..., "data": {...}}` whose data the one converter
(`records.converter`: how decimals, money, identifiers, dates, enums and events are written
and read) produces and reads. Anything that cannot be read raises `DataError` naming the kind,
the id and the field path.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.v import format_exception

from creditmgmt.adapters.records.clone import clone_value, immutable_annotation, snapshot_plan
from creditmgmt.adapters.records.converter import EVENT_TAG, make_converter
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.domain.ids import EntityId
from creditmgmt.domain.money import Money
from creditmgmt.ports.audit import AuditEntry, ChainHead
from creditmgmt.ports.errors import DataError

SCHEMA_VERSION: Final = 1
SUPPORTED_SCHEMA_VERSIONS: Final = frozenset({1})

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")

_CONVERTER: Final = make_converter()
#: Unstructures any domain event as its tagged class (the converter's dispatch, done once).
_EVENT_HOOK: Final[Callable[[DomainEvent], dict[str, Any]]] = _CONVERTER.get_unstructure_hook(
    DomainEvent
)


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
