"""The storage-neutral record layer every adapter implements.

Aggregates are stored as *records*: a kind ("customer", "facility", ...), a string id, a
version, a JSON-compatible document (made by `adapters.codec`) and a few queryable *columns*
extracted from the aggregate (status, customer id, region, due dates, amounts ...).

Everything above this layer is shared by all adapters, so their observable behaviour is the
same: the identity map, dirty detection, version bumps, event collection into the outbox and
the typed repositories live in `adapters.unit_of_work` and use only `RecordTransaction`.
An adapter (memory, sql, files) implements `RecordBackend` / `RecordTransaction` and nothing
else: that is the whole contract between the shared layer and a storage technology.

Semantics every backend must honour (the conformance suite checks them):
- `insert` of an existing (kind, id) or of a duplicate value in a unique column raises
  `IntegrityError`; `update` whose `record.version` is not stored version + 1 (or whose row is
  missing) raises `ConflictError`. Nothing of the transaction is visible to others before
  `commit`; `rollback` (or an exception) discards everything, including outbox entries.
- `find` returns records ordered by `order_by` then id, strictly after the keyset `after`
  (a `(order_value, id)` pair), at most `limit` of them. Filters combine with AND.
- Decimal columns keep every digit (up to 10^15 with 2 decimals at least); dates are dates;
  strings come back unchanged (unicode, quotes, NUL).
- Driver / OS errors are translated into the `creditmgmt.ports.errors` tree, `raise ... from e`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeAlias

import attrs

ColumnValue: TypeAlias = str | int | bool | Decimal | date | None
ColumnType: TypeAlias = Literal["str", "int", "bool", "decimal", "date"]
Document: TypeAlias = dict[str, Any]

#: Longest text a queryable string column holds (documents have no limit).
MAX_COLUMN_TEXT = 255

#: Number of hash buckets ids are spread over; partitions are `bucket % count == index`.
BUCKETS = 1 << 16


def bucket_of(record_id: str) -> int:
    """Stable hash bucket of an id (crc32), the same in every backend and process."""
    return zlib.crc32(record_id.encode("utf-8")) % BUCKETS


@attrs.frozen
class ColumnSpec:
    """A queryable column of a kind. Unique columns are enforced by the backend (NULLs exempt)."""

    name: str
    type: ColumnType
    unique: bool = False
    indexed: bool = True


@attrs.frozen
class KindSpec:
    """A stored aggregate kind and its queryable columns (besides id, version, bucket)."""

    kind: str
    columns: tuple[ColumnSpec, ...]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"kind {self.kind!r} has no column {name!r}")


@attrs.frozen
class Record:
    kind: str
    id: str
    version: int
    document: Document
    columns: Mapping[str, ColumnValue] = attrs.field(factory=dict)

    @property
    def bucket(self) -> int:
        return bucket_of(self.id)


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


@attrs.frozen
class OutboxEntry:
    """A domain event written in the same transaction as the aggregates that recorded it."""

    aggregate_kind: str
    aggregate_id: str
    event_type: str
    document: Document
    recorded_at: datetime
    sequence: int = 0  # assigned by the backend at commit, strictly increasing per store


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


class RecordBackend(Protocol):
    """A record store: opens transactions, reads the outbox, and closes."""

    kinds: Mapping[str, KindSpec]

    def begin(self) -> RecordTransaction: ...

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[OutboxEntry]: ...

    def close(self) -> None: ...


def check_record(record: Record, spec: KindSpec) -> None:
    """Raise `DataError` for a record no store can hold the same way everywhere.

    String columns must not contain NUL (PostgreSQL text cannot); documents may (JSON escapes
    it). Unknown column names are refused.
    """
    from creditmgmt.ports.errors import DataError

    known = {c.name for c in spec.columns}
    for name, value in record.columns.items():
        if name not in known:
            raise DataError(f"{record.kind} {record.id}: unknown column {name!r}")
        if isinstance(value, str) and "\x00" in value:
            raise DataError(f"{record.kind} {record.id}: column {name} contains a NUL character")
        if isinstance(value, str) and len(value) > MAX_COLUMN_TEXT:
            raise DataError(
                f"{record.kind} {record.id}: column {name} is {len(value)} characters long "
                f"(at most {MAX_COLUMN_TEXT} in a queryable column)"
            )
    if not isinstance(record.document, dict):
        raise DataError(f"{record.kind} {record.id}: the document must be a JSON object")


def load_document(kind: str, record_id: str, text: str | bytes) -> Document:
    """Parse a stored JSON document; `DataError` naming the kind and id when it is not one."""
    import json

    from creditmgmt.ports.errors import DataError

    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{kind} {record_id}: stored document is not valid JSON ({e})") from e
    if not isinstance(document, dict):
        raise DataError(f"{kind} {record_id}: stored document is not a JSON object")
    return document


# Shared in-Python selection (memory and file stores; the SQL store compiles the same rules) --
def _matches(record: Record, where: Where) -> bool:
    for name, test in where.items():
        if name == "partition":
            if not isinstance(test, Partition):
                raise ValueError("the 'partition' filter takes a Partition")
            if record.bucket % test.count != test.index:
                return False
            continue
        value = record.id if name == "id" else record.columns.get(name)
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
    if after is not None and order_by != "id":
        raise ValueError("keyset pagination (after=...) is supported when ordering by id")
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
    """Filter, order (NULLs last, then id) and page records exactly as the contract says."""
    chosen = [r for r in records if _matches(r, where or {})]
    if order_by == "id":
        chosen.sort(key=lambda r: r.id)
        if after is not None:
            chosen = [r for r in chosen if r.id > after[1]]
    else:
        chosen.sort(key=lambda r: _order_key(r.columns.get(order_by), r.id))
    return chosen if limit is None else chosen[:limit]


def _order_key(value: ColumnValue, record_id: str) -> tuple[bool, Any, str]:
    return (value is None, value if value is not None else 0, record_id)
