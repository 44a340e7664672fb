"""The storage-neutral record layer every adapter implements.

Aggregates are stored as *records*: a kind ("customer", "facility", ...), a string id, a
version, a JSON-compatible document (made by `adapters.records.codec`) and a few queryable *columns*
extracted from the aggregate (status, customer id, region, due dates, amounts ...).

Everything above this layer is shared by all adapters, so their observable behaviour is the
same: the identity map, dirty detection, version bumps, event collection into the outbox and
the typed repositories live in `adapters.records.unit_of_work` and use only `RecordTransaction`.
An adapter (memory, sql, files) implements `RecordBackend` / `RecordTransaction` and nothing
else: that is the whole contract between the shared layer and a storage technology.

Semantics every backend must honour (the conformance suite checks them):
- `insert` of an existing (kind, id) or of a duplicate value in a unique column raises
  `IntegrityError`; `update` whose `record.version` is not stored version + 1 (or whose row is
  missing) raises `ConflictError`. Nothing of the transaction is visible to others before
  `commit`; `rollback` (or an exception) discards everything, including outbox entries.
- `find` returns records ordered by `order_by` (NULLs last) then id, strictly after the
  keyset position `after` (an `(order_value, id)` pair), at most `limit` of them. Filters
  combine with AND.
- Decimal columns keep every digit (up to 10^15 with 2 decimals at least); dates are dates;
  strings come back unchanged (unicode, quotes, NUL).
- The outbox numbers entries with strictly increasing sequences that are never reused:
  `prune_outbox(through=n)` deletes entries up to `n` atomically, and later commits go on
  numbering after the last sequence ever assigned, also after a reopen.
- Driver / OS errors are translated into the `creditmgmt.ports.errors` tree, `raise ... from e`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeAlias

import attrs
import orjson

from creditmgmt.ports.errors import (
    ConfigurationError,
    DataError,
    IntegrityError,
    OutboxRangeError,
)
from creditmgmt.ports.slices import bucket_of

ColumnValue: TypeAlias = str | int | bool | Decimal | date | None
ColumnType: TypeAlias = Literal["str", "int", "bool", "decimal", "date"]
Document: TypeAlias = dict[str, Any]
#: A keyset position in an ordered `find`: the order column's value and the id.
Keyset: TypeAlias = tuple[ColumnValue, str]

#: Longest text a queryable string column holds (documents have no limit).
MAX_COLUMN_TEXT = 255


@attrs.frozen
class ColumnSpec:
    """A queryable column of a kind. Unique columns are enforced by the backend (NULLs exempt).

    `few_values`: the column holds one of a few values (a status, a currency, a code), so a
    filter on it matches a large share of the rows. A backend that plans its own queries
    without statistics (SQLite) should let the index of any other filter in the same query
    find the rows instead (see `adapters.sql.backend`)."""

    name: str
    type: ColumnType
    unique: bool = False
    indexed: bool = True
    few_values: bool = False


@attrs.frozen
class KindSpec:
    """A stored aggregate kind and its queryable columns (besides id, version, bucket)."""

    kind: str
    columns: tuple[ColumnSpec, ...]
    column_names: frozenset[str] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "column_names", frozenset(c.name for c in self.columns))

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"kind {self.kind!r} has no column {name!r}")


class Pristine:
    """An aggregate as committed, kept by an in-process store: its field values and document.

    Made by the unit of work at commit: `state` is `adapters.records.clone.snapshot(aggregate)` and
    `document` its codec document (JSON-compatible by construction). Neither is ever mutated
    or handed out: loads restore a fresh aggregate from `state`. Backends that cannot keep
    objects (SQL) ignore it.
    """

    __slots__ = ("document", "state")

    def __init__(self, state: tuple[Any, ...], document: Document) -> None:
        self.state = state
        self.document = document


class Record:
    """A stored aggregate: kind, id, version, document and queryable columns.

    The document can be given parsed (`document`), as JSON text (`text`, parsed on first
    access; `DataError` naming the kind and id when it is not a JSON object) or through a
    `pristine` copy. Treat a record's document as read-only.
    """

    __slots__ = ("_document", "_text", "columns", "id", "kind", "pristine", "version")

    def __init__(
        self,
        kind: str,
        id: str,
        version: int,
        document: Document | None = None,
        columns: Mapping[str, ColumnValue] | None = None,
        *,
        text: str | bytes | None = None,
        pristine: Pristine | None = None,
    ) -> None:
        if document is None and text is None and pristine is None:
            raise TypeError("a Record needs a document, its JSON text or a pristine copy")
        self.kind = kind
        self.id = id
        self.version = version
        self.columns: Mapping[str, ColumnValue] = {} if columns is None else columns
        self.pristine = pristine
        self._document = document
        self._text = text

    @property
    def document(self) -> Document:
        if self._document is None:
            if self._text is not None:
                self._document = load_document(self.kind, self.id, self._text)
            else:
                assert self.pristine is not None
                # a private copy with plain JSON types, as a durable store would return it
                self._document = _json_copy(self.pristine.document)
        return self._document

    @property
    def text(self) -> str | bytes | None:
        """The document's JSON text when the record was built from it (else None)."""
        return self._text

    @property
    def bucket(self) -> int:
        return bucket_of(self.id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return (self.kind, self.id, self.version, dict(self.columns), self.document) == (
            other.kind,
            other.id,
            other.version,
            dict(other.columns),
            other.document,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Record({self.kind!r}, {self.id!r}, version={self.version})"


def _json_copy(document: Document) -> Document:
    result: Document = orjson.loads(orjson.dumps(document))
    return result


def dump_json(document: object) -> str:
    """Compact JSON text of a document (UTF-8 kept, no spaces, keys in the order given).

    orjson writes the same text as `json.dumps(ensure_ascii=False, separators=(",", ":"))`
    about seven times faster (a loan's document carries its whole schedule, and the daily run
    writes every loan that moved). Stricter than the standard library where that is right for
    a stored document: an object key must be a string, an integer must fit in 64 bits, a string
    must be valid UTF-8.

    Raises:
        TypeError: what JSON cannot hold, or what the rules above refuse.
    """
    return orjson.dumps(document).decode()


def record_json(record: Record) -> str:
    """`dump_json` of a record's document for a backend to store.

    Raises:
        DataError: the document holds what `dump_json` refuses, naming the kind and id.
    """
    try:
        return dump_json(record.document)
    except TypeError as e:
        raise DataError(f"{record.kind} {record.id}: document is not JSON: {e}") from e


# Filters -----------------------------------------------------------------------------------
@attrs.frozen
class In:
    """Column value is one of `values`."""

    values: tuple[ColumnValue, ...]


@attrs.frozen
class Range:
    """`lower <= value < upper` (either side open when None); `upper_inclusive` makes it <=."""

    lower: ColumnValue = None
    upper: ColumnValue = None
    upper_inclusive: bool = False


@attrs.frozen
class Partition:
    """Hash partition `index` of `count` (0 <= index < count), over `bucket_of(id)`."""

    index: int
    count: int


Filter: TypeAlias = ColumnValue | In | Range
#: Keys are column names, or "id"; the special key "partition" takes a `Partition`.
Where: TypeAlias = Mapping[str, Filter | Partition]


class OutboxEntry:
    """A domain event written in the same transaction as the aggregates that recorded it.

    `sequence` is assigned by the backend at commit, strictly increasing per store and never
    reused, also after `RecordBackend.prune_outbox` deleted entries. The
    document may be given parsed or as JSON `text` (parsed on first access; `DataError`
    naming the entry when it is not a JSON object); treat it as read-only.
    """

    __slots__ = (
        "_document",
        "_encode",
        "_event",
        "_text",
        "aggregate_id",
        "aggregate_kind",
        "event_type",
        "recorded_at",
        "sequence",
    )

    def __init__(
        self,
        aggregate_kind: str,
        aggregate_id: str,
        event_type: str,
        document: Document | None,
        recorded_at: datetime,
        sequence: int = 0,
        *,
        text: str | bytes | None = None,
        deferred: tuple[Callable[[Any], Document], Any] | None = None,
    ) -> None:
        """`deferred=(encode, event)` makes the document on first use: only for an immutable
        event whose encoding cannot fail (`codec.can_defer_event`), so nothing changes but
        when the work is done."""
        if document is None and text is None and deferred is None:
            raise TypeError("an OutboxEntry needs its document or the document's JSON text")
        self.aggregate_kind = aggregate_kind
        self.aggregate_id = aggregate_id
        self.event_type = event_type
        self.recorded_at = recorded_at
        self.sequence = sequence
        self._document = document
        self._text = text
        self._encode: Callable[[Any], Document] | None = None
        self._event: Any = None
        if deferred is not None:
            self._encode, self._event = deferred

    @property
    def document(self) -> Document:
        if self._document is None:
            if self._text is not None:
                self._document = load_document("outbox entry", str(self.sequence), self._text)
            else:
                assert self._encode is not None
                self._document = self._encode(self._event)
        return self._document

    @property
    def text(self) -> str | bytes | None:
        """The document's JSON text when the entry was built from it (else None)."""
        return self._text

    def document_text(self) -> str | bytes:
        """The document as compact JSON text (made once from the parsed document if needed)."""
        if self._text is None:
            self._text = dump_json(self.document)
        return self._text

    def numbered(self, sequence: int) -> OutboxEntry:
        """The same entry with its store sequence number."""
        return OutboxEntry(
            self.aggregate_kind,
            self.aggregate_id,
            self.event_type,
            self._document,
            self.recorded_at,
            sequence,
            text=self._text,
            deferred=None if self._encode is None else (self._encode, self._event),
        )

    def _key(self) -> tuple[Any, ...]:
        return (
            self.aggregate_kind,
            self.aggregate_id,
            self.event_type,
            self.document,
            self.recorded_at,
            self.sequence,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OutboxEntry):
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"OutboxEntry({self.aggregate_kind!r}, {self.aggregate_id!r}, {self.event_type!r}, "
            f"sequence={self.sequence})"
        )


class RecordTransaction(Protocol):
    """One transaction on a record store. Not thread-safe; one per unit of work."""

    def get(self, kind: str, record_id: str) -> Record | None: ...

    def get_many(self, kind: str, record_ids: Sequence[str]) -> list[Record]: ...

    def find(
        self,
        kind: str,
        *,
        where: Where | None = None,
        order_by: str = "id",
        after: tuple[ColumnValue, str] | None = None,
        limit: int | None = None,
    ) -> list[Record]: ...

    def count(self, kind: str, *, where: Where | None = None) -> int: ...

    def insert(self, record: Record) -> None: ...

    def update(self, record: Record) -> None: ...

    def append_outbox(self, entries: Iterable[OutboxEntry]) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class CheckedTransaction(RecordTransaction, ABC):
    """A base for a store's `RecordTransaction`: `find` checks that the transaction is open
    (`_check`) and its arguments (`check_find_arguments`) the same way in every store, then
    selects with the store's own `_find`."""

    def find(
        self,
        kind: str,
        *,
        where: Where | None = None,
        order_by: str = "id",
        after: tuple[ColumnValue, str] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        self._check()
        check_find_arguments(self._spec(kind), where, order_by, after, limit)
        return self._find(kind, where, order_by, after, limit)

    @abstractmethod
    def _check(self) -> None:
        """Raise `StoreUnavailableError` when the transaction has ended or its store closed."""

    @abstractmethod
    def _spec(self, kind: str) -> KindSpec: ...

    @abstractmethod
    def _find(
        self, kind: str, where: Where | None, order_by: str, after: Keyset | None, limit: int | None
    ) -> list[Record]:
        """`find` once its arguments are checked."""


class RecordBackend(Protocol):
    """A record store: opens transactions, reads the outbox, and closes.

    An in-process backend may also set a true attribute `keeps_pristine`: it then keeps the
    `Record.pristine` of what it stores and returns it with the record, which lets the unit of
    work copy an aggregate instead of decoding its document (see `adapters.records.clone`).
    """

    kinds: Mapping[str, KindSpec]

    def begin(self) -> RecordTransaction: ...

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[OutboxEntry]: ...

    def prune_outbox(self, *, through: int) -> int:
        """Delete every outbox entry with `sequence <= through`, atomically; return how many.

        Later entries keep their sequences, and sequences are never reused: entries committed
        after a prune number on from the last sequence ever assigned (also after the store is
        opened again). Commits running concurrently lose nothing.

        Raises:
            OutboxRangeError: `through` is negative or beyond the last sequence assigned
                (names both); nothing was deleted.
            StoreUnavailableError: the store is closed or cannot be reached.
        """
        ...

    def close(self) -> None: ...


def check_options(store: str, options: Mapping[str, object], accepted: frozenset[str]) -> None:
    """Raise `ConfigurationError` naming the options of `options` that a backend's
    `open_backend` does not take (and those it does), the same message for every store."""
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ConfigurationError(
            f"{store} store does not take option(s) {', '.join(unknown)} "
            f"(it takes: {', '.join(sorted(accepted)) or 'none'})"
        )


def check_prune(through: int, last_sequence: int) -> None:
    """Raise `OutboxRangeError` unless `0 <= through <= last_sequence` (the same message in
    every store)."""
    if isinstance(through, bool) or not isinstance(through, int):
        raise TypeError(f"through must be an int sequence number, got {through!r}")
    if through < 0:
        raise OutboxRangeError(f"cannot prune the outbox through {through}: must be >= 0")
    if through > last_sequence:
        raise OutboxRangeError(
            f"cannot prune the outbox through {through}: beyond the last sequence {last_sequence}"
        )


def check_record(record: Record, spec: KindSpec) -> None:
    """Raise `DataError` for a record no store can hold the same way everywhere.

    String columns must not contain NUL (PostgreSQL text cannot); documents may (JSON escapes
    it). Unknown column names are refused.
    """
    columns = record.columns
    if not spec.column_names.issuperset(columns):
        unknown = sorted(set(columns) - spec.column_names)
        raise DataError(f"{record.kind} {record.id}: unknown column {unknown[0]!r}")
    for value in columns.values():
        if isinstance(value, str) and ("\x00" in value or len(value) > MAX_COLUMN_TEXT):
            _refuse_text_column(record)
    if record.pristine is None and not isinstance(record.document, dict):
        raise DataError(f"{record.kind} {record.id}: the document must be a JSON object")


def check_new_record(record: Record, spec: KindSpec) -> None:
    """`check_record` for an insert, which also needs the record at version 1
    (`IntegrityError` otherwise)."""
    check_record(record, spec)
    if record.version != 1:
        raise IntegrityError(f"{record.kind} {record.id}: a new record starts at version 1")


def _refuse_text_column(record: Record) -> None:
    for name, value in record.columns.items():
        if isinstance(value, str) and "\x00" in value:
            raise DataError(f"{record.kind} {record.id}: column {name} contains a NUL character")
        if isinstance(value, str) and len(value) > MAX_COLUMN_TEXT:
            raise DataError(
                f"{record.kind} {record.id}: column {name} is {len(value)} characters long "
                f"(at most {MAX_COLUMN_TEXT} in a queryable column)"
            )


def load_document(kind: str, record_id: str, text: str | bytes) -> Document:
    """Parse a stored JSON document; `DataError` naming the kind and id when it is not one."""
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError as e:  # invalid UTF-8 and nesting past 1,024 levels included
        raise DataError(f"{kind} {record_id}: stored document is not valid JSON ({e})") from e
    if not isinstance(document, dict):
        raise DataError(f"{kind} {record_id}: stored document is not a JSON object")
    return document


# Shared in-Python selection (memory and file stores; the SQL store compiles the same rules) --
def matches(record_id: str, columns: Mapping[str, ColumnValue], where: Where) -> bool:
    """Whether a record with that id and those columns passes every filter of `where`."""
    for name, test in where.items():
        if name == "partition":
            if not isinstance(test, Partition):
                raise ValueError("the 'partition' filter takes a Partition")
            if bucket_of(record_id) % test.count != test.index:
                return False
            continue
        value = record_id if name == "id" else columns.get(name)
        if isinstance(test, In):
            if value not in test.values:
                return False
        elif isinstance(test, Range):
            if value is None:
                return False
            if test.lower is not None and value < test.lower:  # type: ignore[operator]
                return False
            if test.upper is not None and (
                value > test.upper  # type: ignore[operator]
                if test.upper_inclusive
                else value >= test.upper  # type: ignore[operator]
            ):
                return False
        elif isinstance(test, Partition):
            raise ValueError(f"a Partition filter goes under the key 'partition', not {name!r}")
        elif value != test:
            return False
    return True


def check_find_arguments(
    spec: KindSpec, where: Where | None, order_by: str, after: object, limit: int | None
) -> None:
    """Raise `ValueError` for unknown columns or unsupported combinations (same in every store)."""
    known = {c.name for c in spec.columns} | {"id"}
    for name in where or {}:
        if name != "partition" and name not in known:
            raise ValueError(f"kind {spec.kind!r} has no column {name!r}")
    if order_by not in known:
        raise ValueError(f"kind {spec.kind!r} cannot be ordered by {order_by!r}")
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")


def select(
    records: Iterable[Record],
    *,
    where: Where | None,
    order_by: str,
    after: tuple[ColumnValue, str] | None,
    limit: int | None,
) -> list[Record]:
    """Filter, order (NULLs last, then id) and page records exactly as the contract says:
    with `after=(value, id)`, only records strictly after that position in the order."""
    chosen = [r for r in records if matches(r.id, r.columns, where or {})]
    if order_by == "id":
        chosen.sort(key=lambda r: r.id)
        if after is not None:
            chosen = [r for r in chosen if r.id > after[1]]
    else:
        chosen.sort(key=lambda r: order_key(r.columns.get(order_by), r.id))
        if after is not None:
            start = order_key(*after)
            chosen = [r for r in chosen if order_key(r.columns.get(order_by), r.id) > start]
    return chosen if limit is None else chosen[:limit]


def order_key(value: ColumnValue, record_id: str) -> tuple[bool, Any, str]:
    """The position of a record when ordering by a column: NULLs last, then by id."""
    return (value is None, value if value is not None else 0, record_id)
