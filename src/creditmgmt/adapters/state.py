"""In-process record state shared by the memory and file stores.

`RecordState` holds committed records (documents as JSON text, so what comes back is what a
durable store gives back), unique indexes and the outbox, behind one lock. A commit is checked
completely against the committed state (`prepare`), handed to an optional persistence hook
(the file store's journal), and only then applied — all or nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from creditmgmt.adapters.records import (
    ColumnValue,
    KindSpec,
    OutboxEntry,
    Record,
    RecordTransaction,
    Where,
    check_find_arguments,
    check_record,
    load_document,
    select,
)
from creditmgmt.ports.errors import ConflictError, IntegrityError, StoreUnavailableError


@attrs.frozen
class StoredRow:
    version: int
    document: str  # JSON text
    columns: Mapping[str, ColumnValue]


@attrs.frozen
class Write:
    op: str  # "insert" | "update"
    record: Record
    document: str  # the record's document as JSON text


UniqueChanges = dict[tuple[str, str], dict[ColumnValue, str | None]]


@attrs.frozen
class PreparedCommit:
    writes: tuple[Write, ...]
    outbox: tuple[OutboxEntry, ...]  # with sequence numbers assigned
    unique: UniqueChanges


class RecordState:
    """Committed records of every kind, with their unique indexes and outbox."""

    def __init__(self, kinds: Mapping[str, KindSpec]) -> None:
        self.kinds = dict(kinds)
        self.lock = threading.RLock()
        self.rows: dict[str, dict[str, StoredRow]] = {k: {} for k in self.kinds}
        self.outbox: list[OutboxEntry] = []
        self.last_sequence = 0
        self.unique: dict[tuple[str, str], dict[ColumnValue, str]] = {
            (k, c.name): {} for k, spec in self.kinds.items() for c in spec.columns if c.unique
        }
        self.closed = False

    def spec(self, kind: str) -> KindSpec:
        try:
            return self.kinds[kind]
        except KeyError:
            raise ValueError(f"unknown kind {kind!r}") from None

    def check_open(self) -> None:
        if self.closed:
            raise StoreUnavailableError("the store was closed")

    def record(self, kind: str, record_id: str, row: StoredRow) -> Record:
        document = load_document(kind, record_id, row.document)
        return Record(kind, record_id, row.version, document, row.columns)

    # commit -------------------------------------------------------------------------------
    def prepare(self, writes: Sequence[Write], outbox: Sequence[OutboxEntry]) -> PreparedCommit:
        """Check a commit against the committed state (caller holds the lock)."""
        self.check_open()
        for w in writes:
            rec = w.record
            current = self.rows[rec.kind].get(rec.id)
            if w.op == "insert" and current is not None:
                raise IntegrityError(f"{rec.kind} {rec.id} already exists")
            if w.op == "update" and (current is None or current.version != rec.version - 1):
                found = "missing" if current is None else f"version {current.version}"
                raise ConflictError(
                    f"{rec.kind} {rec.id}: expected version {rec.version - 1}, found {found}"
                )
        unique = self._unique_changes(writes)
        numbered = tuple(
            attrs.evolve(e, sequence=self.last_sequence + i + 1) for i, e in enumerate(outbox)
        )
        return PreparedCommit(tuple(writes), numbered, unique)

    def apply(self, commit: PreparedCommit) -> None:
        """Apply a prepared commit (caller holds the lock)."""
        for key, values in commit.unique.items():
            index = self.unique[key]
            for value, owner in values.items():
                if owner is None:
                    index.pop(value, None)
                else:
                    index[value] = owner
        for w in commit.writes:
            self.rows[w.record.kind][w.record.id] = StoredRow(
                w.record.version, w.document, dict(w.record.columns)
            )
        self.outbox.extend(commit.outbox)
        if commit.outbox:
            self.last_sequence = commit.outbox[-1].sequence

    def _unique_changes(self, writes: Sequence[Write]) -> UniqueChanges:
        changes: UniqueChanges = {}
        for w in writes:
            rec = w.record
            current = self.rows[rec.kind].get(rec.id)
            for col in self.kinds[rec.kind].columns:
                if not col.unique:
                    continue
                old = None if current is None else current.columns.get(col.name)
                new = rec.columns.get(col.name)
                if old == new:
                    continue
                key = (rec.kind, col.name)
                pending = changes.setdefault(key, {})
                if old is not None:
                    pending[old] = None
                if new is not None:
                    owner = pending[new] if new in pending else self.unique[key].get(new)
                    if owner is not None and owner != rec.id:
                        raise IntegrityError(
                            f"{rec.kind} {rec.id}: {col.name} {new!r} is already used by {owner}"
                        )
                    pending[new] = rec.id
        return changes

    def read_outbox(self, after: int, limit: int) -> list[OutboxEntry]:
        with self.lock:
            return [e for e in self.outbox if e.sequence > after][:limit]


Persist = Callable[[PreparedCommit], None]


class StateTransaction(RecordTransaction):
    """Staged writes over a `RecordState`; `persist` runs between the checks and the apply."""

    def __init__(self, state: RecordState, persist: Persist | None = None) -> None:
        self._s = state
        self._persist = persist
        self._writes: list[Write] = []
        self._staged: dict[tuple[str, str], Record] = {}
        self._outbox: list[OutboxEntry] = []
        self._done = False

    def _check(self) -> None:
        if self._done:
            raise StoreUnavailableError("this transaction has ended")
        self._s.check_open()

    def get(self, kind: str, record_id: str) -> Record | None:
        self._check()
        self._s.spec(kind)
        staged = self._staged.get((kind, record_id))
        if staged is not None:
            return staged
        with self._s.lock:
            row = self._s.rows[kind].get(record_id)
        return None if row is None else self._s.record(kind, record_id, row)

    def get_many(self, kind: str, record_ids: Sequence[str]) -> list[Record]:
        found = (self.get(kind, i) for i in record_ids)
        return [r for r in found if r is not None]

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
        check_find_arguments(self._s.spec(kind), where, order_by, after, limit)
        with self._s.lock:
            rows = list(self._s.rows[kind].items())
        # select on column values first; parse only the documents that are returned
        light = {rid: Record(kind, rid, row.version, {}, row.columns) for rid, row in rows}
        light.update({rid: r for (k, rid), r in self._staged.items() if k == kind})
        chosen = select(light.values(), where=where, order_by=order_by, after=after, limit=limit)
        full = dict(rows)
        return [
            self._staged.get((kind, r.id)) or self._s.record(kind, r.id, full[r.id]) for r in chosen
        ]

    def count(self, kind: str, *, where: Where | None = None) -> int:
        if not where and not any(k == kind for k, _ in self._staged):
            self._check()
            with self._s.lock:
                return len(self._s.rows[self._s.spec(kind).kind])
        return len(self.find(kind, where=where))

    def insert(self, record: Record) -> None:
        self._check()
        check_record(record, self._s.spec(record.kind))
        key = (record.kind, record.id)
        if record.version != 1:
            raise IntegrityError(f"{record.kind} {record.id}: a new record starts at version 1")
        if key in self._staged or self.get(record.kind, record.id) is not None:
            raise IntegrityError(f"{record.kind} {record.id} already exists")
        self._stage("insert", record)

    def update(self, record: Record) -> None:
        self._check()
        check_record(record, self._s.spec(record.kind))
        self._stage("update", record)

    def _stage(self, op: str, record: Record) -> None:
        import json

        text = json.dumps(record.document, ensure_ascii=False, separators=(",", ":"))
        self._writes.append(Write(op, record, text))
        self._staged[(record.kind, record.id)] = record

    def append_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        self._check()
        self._outbox.extend(entries)

    def commit(self) -> None:
        self._check()
        self._done = True
        if not self._writes and not self._outbox:
            return
        with self._s.lock:
            prepared = self._s.prepare(self._writes, self._outbox)
            if self._persist is not None:
                self._persist(prepared)
            self._s.apply(prepared)

    def rollback(self) -> None:
        self._done = True
        self._writes.clear()
        self._staged.clear()
        self._outbox.clear()
