"""Fast, exact copies of aggregates for the in-process stores (memory, files).

An in-process store keeps a private *snapshot* of every aggregate it committed — the tuple of
its field values — and hands out a fresh object restored from it on every load, so a caller
mutating what it loaded can never change stored state (real rollback), without paying for a
JSON + cattrs round trip on every load. A snapshot costs one tuple; a restore one object.

A snapshot or copy shares every value that cannot change — str, int, Decimal, dates, enums, ids, `Money`
and any frozen attrs class whose fields are all of such types, and tuples of them — and copies
everything that can (lists, dicts, sets, mutable attrs instances) recursively. Which fields are
immutable is decided once per class from its type annotations; a field whose annotation cannot
be resolved or is not known to be immutable is copied value by value at run time, so an
unusual annotation costs speed, never correctness. Recorded domain events are not state: a
copy starts with none.
"""

from __future__ import annotations

import copy as _copy
import enum
import types
import typing
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Final, TypeVar

import attrs

from creditmgmt.domain.events import Aggregate

T = TypeVar("T")

#: Values of these types never change.
_LEAVES: Final = (str, int, float, bool, bytes, Decimal, date, datetime, time, timedelta)
_LEAF_TYPES: Final[frozenset[type]] = frozenset({*_LEAVES, type(None)})

_immutable_cache: dict[object, bool] = {}
_cloners: dict[type, Callable[[Any], Any]] = {}


def immutable_annotation(tp: object) -> bool:
    """Whether every value allowed by annotation `tp` is deeply immutable."""
    try:
        cached = _immutable_cache.get(tp)
    except TypeError:  # unhashable annotation
        return False
    if cached is not None:
        return cached
    _immutable_cache[tp] = False  # provisional: a self-referencing type is not trusted
    result = _decide(tp)
    _immutable_cache[tp] = result
    return result


def _decide(tp: object) -> bool:
    if tp is None or tp is type(None):
        return True
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return all(immutable_annotation(a) for a in args)
    if origin is typing.Literal:
        return True
    if origin in (tuple, frozenset):
        return bool(args) and all(a is Ellipsis or immutable_annotation(a) for a in args)
    if origin is not None or not isinstance(tp, type):
        return False
    if issubclass(tp, _LEAVES) or issubclass(tp, enum.Enum):
        return True
    if attrs.has(tp) and _is_frozen(tp):
        hints = _hints(tp)
        if hints is None:
            return False
        return all(immutable_annotation(hints.get(f.name)) for f in attrs.fields(tp))
    return False


def _is_frozen(cls: type) -> bool:
    setattr_ = getattr(cls, "__setattr__", None)
    return getattr(setattr_, "__name__", "") == "_frozen_setattrs"


def _hints(cls: type) -> dict[str, Any] | None:
    try:
        return typing.get_type_hints(cls)
    except Exception:
        return None


def clone_value(value: Any) -> Any:
    """A copy of `value` that shares nothing mutable with it."""
    t = type(value)
    if t in _LEAF_TYPES or isinstance(value, enum.Enum):
        return value
    cloner = _cloners.get(t)
    if cloner is not None:
        return cloner(value)
    if t is list:
        return [clone_value(v) for v in value]
    if t is tuple:
        items = tuple(clone_value(v) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if t is dict:
        return {k: clone_value(v) for k, v in value.items()}
    if t is set:
        return {clone_value(v) for v in value}
    if t is frozenset:
        return value
    if attrs.has(t):
        return _cloner_for(t)(value)
    return _copy.deepcopy(value)


def _cloner_for(cls: type) -> Callable[[Any], Any]:
    cloner = _cloners.get(cls)
    if cloner is None:
        cloner = _build_cloner(cls)
        _cloners[cls] = cloner
    return cloner


def _build_cloner(cls: type) -> Callable[[Any], Any]:
    if immutable_annotation(cls):
        return _identity
    layout = _layout(cls)
    snap, rest = _snapshotter(layout), _restorer(layout)
    return lambda src: rest(snap(src), getattr(src, "version", 0))


def _identity(value: T) -> T:
    return value


@attrs.frozen
class _Layout:
    cls: type
    names: tuple[str, ...]  # every attrs field, in order
    shared: frozenset[str]  # fields whose annotation is deeply immutable
    events_field: str | None  # the aggregate's recorded-events list: not state


_layouts: dict[type, _Layout] = {}


def _layout(cls: type) -> _Layout:
    layout = _layouts.get(cls)
    if layout is None:
        hints = _hints(cls) or {}
        names = tuple(f.name for f in attrs.fields(cls))
        shared = frozenset(n for n in names if immutable_annotation(hints.get(n)))
        events = "_pending_events" if issubclass(cls, Aggregate) else None
        layout = _layouts[cls] = _Layout(cls, names, shared, events)
    return layout


def _read(obj: str, name: str) -> str:
    # `obj.__x` would be name-mangled inside generated code: read such fields by getattr
    return f"_get({obj}, {name!r})" if name.startswith("__") else f"{obj}.{name}"


def _compile(source: list[str], name: str, label: str, **extra: Any) -> Callable[[Any], Any]:
    namespace: dict[str, Any] = {
        "_new": object.__new__,
        "_set": object.__setattr__,
        "_get": getattr,
        "_clone_value": clone_value,
        **extra,
    }
    # safe: the source is built here from the class's own attrs field names, no outside text
    exec(compile("\n".join(source), label, "exec"), namespace)  # noqa: S102
    result: Callable[[Any], Any] = namespace[name]
    return result


def _snapshotter(layout: _Layout) -> Callable[[Any], tuple[Any, ...]]:
    items = []
    for name in layout.names:
        if name == layout.events_field:
            items.append("None")
        elif name in layout.shared:
            items.append(_read("src", name))
        else:
            items.append(f"_clone_value({_read('src', name)})")
    source = ["def snapshot(src):", f"    return ({', '.join(items)},)"]
    return _compile(source, "snapshot", f"<snapshot {layout.cls.__qualname__}>")


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The fastest way to set field `name` on a bare instance, bypassing attrs' on-setattr.

    For a slotted class that is the slot's own `__set__` (a third faster than
    `object.__setattr__`, which must look the descriptor up on every call)."""
    for klass in cls.__mro__:
        descriptor = klass.__dict__.get(name)
        if isinstance(descriptor, types.MemberDescriptorType):
            setter: Callable[[Any, Any], None] = descriptor.__set__
            return setter
        if descriptor is not None:
            break
    return lambda obj, value: object.__setattr__(obj, name, value)


def _restorer(layout: _Layout) -> Callable[[tuple[Any, ...], int], Any]:
    source = ["def restore(state, version):", "    out = _new(_cls)"]
    setters: dict[str, Any] = {}
    for i, name in enumerate(layout.names):
        if name == layout.events_field:
            value = "[]"
        elif name == "version" and layout.events_field is not None:
            value = "version"
        elif name in layout.shared:
            value = f"state[{i}]"
        else:
            value = f"_clone_value(state[{i}])"
        setters[f"_s{i}"] = _slot_setter(layout.cls, name)
        source.append(f"    _s{i}(out, {value})")
    source.append("    return out")
    label = f"<restore {layout.cls.__qualname__}>"
    return _compile(source, "restore", label, _cls=layout.cls, **setters)  # type: ignore[return-value]


_snapshotters: dict[type, Callable[[Any], tuple[Any, ...]]] = {}
_restorers: dict[type, Callable[[tuple[Any, ...], int], Any]] = {}


def snapshot(aggregate: Any) -> tuple[Any, ...]:
    """The aggregate's field values (see `layout`), sharing nothing mutable with it."""
    cls = type(aggregate)
    fn = _snapshotters.get(cls)
    if fn is None:
        fn = _snapshotters[cls] = _snapshotter(_layout(cls))
    return fn(aggregate)


def restore(cls: type[T], state: tuple[Any, ...], version: int | None = None) -> T:
    """A new `cls` instance from a `snapshot`, sharing nothing mutable with it, no events.

    For an aggregate, `version` (when given) replaces the snapshot's version."""
    fn = _restorers.get(cls)
    if fn is None:
        fn = _restorers[cls] = _restorer(_layout(cls))
    if version is None:
        names = _layout(cls).names
        version = state[names.index("version")] if "version" in names else 0
    return fn(state, version)  # type: ignore[no-any-return]


def layout(cls: type) -> tuple[str, ...]:
    """The field names a `snapshot` of `cls` holds, in order."""
    return _layout(cls).names


def snapshot_plan(cls: type) -> tuple[tuple[str, str], ...]:
    """How a `snapshot` of `cls` takes each field, in order: "share" the value, "copy" it
    with `clone_value`, or "drop" it (the recorded events, stored as None)."""
    lay = _layout(cls)
    return tuple(
        (n, "drop" if n == lay.events_field else "share" if n in lay.shared else "copy")
        for n in lay.names
    )


def clone_aggregate(aggregate: T) -> T:
    """A copy of an aggregate that shares nothing mutable with it and has no pending events."""
    return _cloner_for(type(aggregate))(aggregate)  # type: ignore[no-any-return]
