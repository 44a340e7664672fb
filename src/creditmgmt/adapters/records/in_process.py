"""In-process record state shared by the memory and file stores.

`RecordState` holds committed records, unique indexes and the outbox, behind one lock. A row
keeps its document as JSON text and/or as a `Pristine` copy made by the unit of work (the
decoded aggregate and its codec document, never handed out: loads get a fresh copy). Records
from other writers are stored as JSON text, so what comes back is what a durable store gives
back. A commit is checked completely against the committed state (`prepare`), handed to an
optional persistence hook (the file store's journal), and only then applied — all or nothing.

Reads of a transaction see one snapshot: the committed state as of its first read. Every
commit numbers a *generation*; a row replaced while some transaction reads an older
generation keeps its predecessor (`StoredRow.prev`), and a reader walks back to the row of
its generation. Predecessors no open reader can see are dropped at the next commit of that
row, so without concurrent readers no history is kept at all.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from creditmgmt.adapters.records.contract import (
    CheckedTransaction,
    ColumnValue,
    Document,
    Keyset,
    KindSpec,
    OutboxEntry,
    Pristine,
    Record,
    Where,
    check_new_record,
    check_prune,
    check_record,
    dump_json,
    matches,
    order_key,
    record_json,
    select,
)
from creditmgmt.domain.pii import mask
from creditmgmt.ports.errors import (
    ConflictError,
    IntegrityError,
    StoreUnavailableError,
)


class StoredRow:
    """A committed record: version, columns, and its document as text and/or pristine copy."""

    __slots__ = ("columns", "generation", "prev", "pristine", "text", "version")

    def __init__(
        self,
        version: int,
        columns: Mapping[str, ColumnValue],
        text: str | bytes | None = None,
        pristine: Pristine | None = None,
        *,
        generation: int = 0,
        prev: StoredRow | None = None,
    ) -> None:
        if text is None and pristine is None:
            raise ValueError("a stored row needs its document text or a pristine copy")
        self.version = version
        self.columns = columns
        self.text = text
        self.pristine = pristine
        #: the commit that wrote this row, and the row it replaced (kept for open readers)
        self.generation = generation
        self.prev = prev

    def as_of(self, generation: int) -> StoredRow | None:
        """This row as a reader of `generation` sees it (None: written after it)."""
        row: StoredRow | None = self
        while row is not None and row.generation > generation:
            row = row.prev
        return row

    def document_text(self) -> str | bytes:
        """The document as JSON text (made from the pristine document when needed)."""
        if self.text is None:
            assert self.pristine is not None
            self.text = dump_json(self.pristine.document)
        return self.text


class Write:
    """One staged insert or update; `text` is the document's JSON text once known."""

    __slots__ = ("op", "record", "text")

    def __init__(self, op: str, record: Record, text: str | bytes | None) -> None:
        self.op = op  # "insert" | "update"
        self.record = record
        self.text = text

    def document_text(self) -> str | bytes:
        if self.text is None:
            self.text = dump_json(self.record.document)
        return self.text


UniqueChanges = dict[tuple[str, str], dict[ColumnValue, str | None]]
_NO_UNIQUE_CHANGES: UniqueChanges = {}  # shared, never modified


class PreparedCommit:
    """A commit checked against the committed state, ready to persist and apply."""

    __slots__ = ("outbox", "unique", "writes")

    def __init__(
        self,
        writes: tuple[Write, ...],
        outbox: tuple[OutboxEntry, ...],  # with sequence numbers assigned
        unique: UniqueChanges,
    ) -> None:
        self.writes = writes
        self.outbox = outbox
        self.unique = unique


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
        self.unique_columns: dict[str, tuple[str, ...]] = {
            k: tuple(c.name for c in spec.columns if c.unique) for k, spec in self.kinds.items()
        }
        # ids of each kind in order, for keyset pagination; rebuilt lazily after bulk inserts
        self._sorted_ids: dict[str, list[str] | None] = dict.fromkeys(self.kinds)
        # (kind, column) -> order keys of every row, for keyset scans ordered by a column;
        # built on first use, kept up to date by small commits, dropped by big ones
        self._column_orders: dict[tuple[str, str], list[tuple[bool, Any, str]]] = {}
        self.closed = False
        #: the number of the last commit applied, and per kind the last commit writing it
        self.generation = 0
        self.kind_generation: dict[str, int] = dict.fromkeys(self.kinds, 0)
        #: generation -> how many open transactions read as of it
        self._readers: dict[int, int] = {}

    def begin_read(self) -> int:
        """Register a reader of the current generation and return it (see `end_read`)."""
        with self.lock:
            generation = self.generation
            self._readers[generation] = self._readers.get(generation, 0) + 1
            return generation

    def end_read(self, generation: int) -> None:
        """The reader registered by `begin_read` is done."""
        with self.lock:
            left = self._readers[generation] - 1
            if left:
                self._readers[generation] = left
            else:
                del self._readers[generation]

    def spec(self, kind: str) -> KindSpec:
        try:
            return self.kinds[kind]
        except KeyError:
            raise ValueError(f"unknown kind {kind!r}") from None

    def check_open(self) -> None:
        if self.closed:
            raise StoreUnavailableError("the store was closed")

    def record(self, kind: str, record_id: str, row: StoredRow) -> Record:
        return Record(
            kind, record_id, row.version, None, row.columns, text=row.text, pristine=row.pristine
        )

    def sorted_ids(self, kind: str) -> list[str]:
        """The ids of `kind` in order (caller holds the lock; do not modify the list)."""
        ids = self._sorted_ids[kind]
        if ids is None:
            ids = self._sorted_ids[kind] = sorted(self.rows[kind])
        return ids

    def column_order(self, kind: str, column: str) -> list[tuple[bool, Any, str]]:
        """Order keys `(is null, value, id)` of every row of `kind` by `column`, sorted
        (caller holds the lock; do not modify the list)."""
        keys = self._column_orders.get((kind, column))
        if keys is None:
            keys = sorted(
                order_key(row.columns.get(column), rid) for rid, row in self.rows[kind].items()
            )
            self._column_orders[(kind, column)] = keys
        return keys

    def _note_column_changes(self, writes: Sequence[Write]) -> None:
        if not self._column_orders:
            return
        if len(writes) > 64:
            self._column_orders.clear()  # cheaper to sort again when next needed
            return
        for (kind, column), keys in self._column_orders.items():
            for w in writes:
                rec = w.record
                if rec.kind != kind:
                    continue
                current = self.rows[kind].get(rec.id)
                new = order_key(rec.columns.get(column), rec.id)
                if current is not None:
                    old = order_key(current.columns.get(column), rec.id)
                    if old == new:
                        continue
                    at = bisect.bisect_left(keys, old)
                    if at < len(keys) and keys[at] == old:
                        del keys[at]
                bisect.insort(keys, new)

    def _note_new_ids(self, kind: str, new_ids: list[str]) -> None:
        ids = self._sorted_ids[kind]
        if ids is None:
            return
        if len(new_ids) > 64:
            self._sorted_ids[kind] = None  # cheaper to sort again when next needed
            return
        for record_id in new_ids:
            bisect.insort(ids, record_id)

    # commit -------------------------------------------------------------------------------
    def prepare(self, writes: Sequence[Write], outbox: Sequence[OutboxEntry]) -> PreparedCommit:
        """Check a commit against the committed state (caller holds the lock)."""
        self.check_open()
        rows = self.rows
        for w in writes:
            rec = w.record
            current = rows[rec.kind].get(rec.id)
            if w.op == "insert":
                if current is not None:
                    raise IntegrityError(f"{rec.kind} {rec.id} already exists")
            elif current is None or current.version != rec.version - 1:
                found = "missing" if current is None else f"version {current.version}"
                raise ConflictError(
                    f"{rec.kind} {rec.id}: expected version {rec.version - 1}, found {found}"
                )
        with_unique = self.unique_columns
        unique = (
            self._unique_changes(writes)
            if any(with_unique[w.record.kind] for w in writes)
            else _NO_UNIQUE_CHANGES
        )
        if outbox:
            first = self.last_sequence + 1
            numbered = tuple(e.numbered(seq) for seq, e in enumerate(outbox, first))
        else:
            numbered = ()
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
        self._note_column_changes(commit.writes)  # before the rows change: needs old values
        rows = self.rows
        new_ids: dict[str, list[str]] | None = None
        generation = self.generation + 1
        # the oldest generation an open reader sees; older row versions are never read again
        oldest = min(self._readers) if self._readers else None
        kind_generation = self.kind_generation
        for w in commit.writes:
            rec = w.record
            kind_rows = rows[rec.kind]
            old = kind_rows.get(rec.id)
            if old is None and w.op == "insert":
                if new_ids is None:
                    new_ids = {}
                new_ids.setdefault(rec.kind, []).append(rec.id)
            if old is not None and oldest is not None:
                _drop_unseen(old, oldest)
            else:
                old = None
            kind_rows[rec.id] = StoredRow(
                rec.version, rec.columns, w.text, rec.pristine, generation=generation, prev=old
            )
            kind_generation[rec.kind] = generation
        self.generation = generation
        if new_ids:
            for kind, ids in new_ids.items():
                self._note_new_ids(kind, ids)
        if commit.outbox:
            self.outbox.extend(commit.outbox)
            self.last_sequence = commit.outbox[-1].sequence

    def _unique_changes(self, writes: Sequence[Write]) -> UniqueChanges:
        changes: UniqueChanges = {}
        for w in writes:
            rec = w.record
            names = self.unique_columns[rec.kind]
            if not names:
                continue
            current = self.rows[rec.kind].get(rec.id)
            for name in names:
                old = None if current is None else current.columns.get(name)
                new = rec.columns.get(name)
                if old == new:
                    continue
                key = (rec.kind, name)
                pending = changes.setdefault(key, {})
                if old is not None:
                    pending[old] = None
                if new is not None:
                    owner = pending[new] if new in pending else self.unique[key].get(new)
                    if owner is not None and owner != rec.id:
                        raise IntegrityError(
                            f"{rec.kind} {rec.id}: duplicate value {mask(str(new))} in unique "
                            f"column {name} (already used by {owner})"
                        )
                    pending[new] = rec.id
        return changes

    def prune_count(self, through: int) -> int:
        """How many entries `prune_outbox(through=...)` would delete; `OutboxRangeError`
        when `through` is out of range (caller holds the lock)."""
        self.check_open()
        check_prune(through, self.last_sequence)
        return bisect.bisect_right(self.outbox, through, key=lambda e: e.sequence)

    def prune(self, through: int) -> int:
        """Drop the outbox entries with `sequence <= through` (caller holds the lock and has
        checked `through` with `prune_count`); `last_sequence` is kept, so no sequence is
        ever handed out again. Returns how many were dropped."""
        count = bisect.bisect_right(self.outbox, through, key=lambda e: e.sequence)
        if count:
            del self.outbox[:count]
        return count

    def read_outbox(self, after: int, limit: int) -> list[OutboxEntry]:
        with self.lock:
            start = bisect.bisect_right(self.outbox, after, key=lambda e: e.sequence)
            return self.outbox[start : start + limit]


_NO_DOC: Document = {}


def _drop_unseen(row: StoredRow, oldest: int) -> None:
    """Cut a row's history below the version the oldest open reader (`oldest`) sees: every
    reader stops at or before the first version at or below its generation."""
    while row.prev is not None and row.generation > oldest:
        row = row.prev
    row.prev = None


Persist = Callable[[PreparedCommit], None]


class StateTransaction(CheckedTransaction):
    """Staged writes over a `RecordState`; `persist` runs between the checks and the apply.

    Reads see the committed state as of the first read (and this transaction's own staged
    writes); a single read needs no lock (one dict lookup of an immutable row), multi-row reads
    take it.
    """

    def __init__(self, state: RecordState, persist: Persist | None = None) -> None:
        self._s = state
        self._persist = persist
        self._writes: list[Write] = []
        self._staged: dict[tuple[str, str], Record] = {}
        self._outbox: list[OutboxEntry] = []
        self._done = False
        #: the generation this transaction reads (None until its first read)
        self._snapshot: int | None = None

    def _generation(self) -> int:
        snapshot = self._snapshot
        if snapshot is None:
            snapshot = self._snapshot = self._s.begin_read()
        return snapshot

    def _end(self) -> None:
        self._done = True
        if self._snapshot is not None:
            self._s.end_read(self._snapshot)
            self._snapshot = None

    def _changed_since(self, kind: str) -> bool:
        """Whether a commit after this transaction's snapshot wrote `kind` (caller holds the
        lock): then the shared sorted indexes no longer describe what it sees."""
        return self._s.kind_generation[kind] > self._generation()

    def _visible(self, kind: str) -> list[tuple[str, StoredRow]]:
        """The rows of `kind` as of the snapshot (caller holds the lock)."""
        generation = self._generation()
        found = []
        for rid, row in self._rows(kind).items():
            seen = row if row.generation <= generation else row.as_of(generation)
            if seen is not None:
                found.append((rid, seen))
        return found

    def _check(self) -> None:
        if self._done:
            raise StoreUnavailableError("this transaction has ended")
        if self._s.closed:
            raise StoreUnavailableError("the store was closed")

    def _rows(self, kind: str) -> dict[str, StoredRow]:
        rows = self._s.rows.get(kind)
        if rows is None:
            raise ValueError(f"unknown kind {kind!r}")
        return rows

    def get(self, kind: str, record_id: str) -> Record | None:
        if self._done or self._s.closed:
            self._check()
        if self._staged:
            staged = self._staged.get((kind, record_id))
            if staged is not None:
                return staged
        row = self._snapshot_row(kind, record_id)
        if row is None:
            return None
        return Record(
            kind, record_id, row.version, None, row.columns, text=row.text, pristine=row.pristine
        )

    def committed_row(self, kind: str, record_id: str) -> StoredRow | None:
        """The committed row, when this transaction has staged nothing of that kind and id
        (the unit of work's fast path to a pristine copy); else None: use `get`."""
        if self._done or self._s.closed:
            self._check()
        if self._staged and (kind, record_id) in self._staged:
            return None
        return self._snapshot_row(kind, record_id)

    def _snapshot_row(self, kind: str, record_id: str) -> StoredRow | None:
        """The committed row of `kind` and `record_id` as this transaction's snapshot sees it
        (None: there is none, or it was written after the snapshot)."""
        rows = self._rows(kind)
        # the snapshot first: a row looked up before it could predate it
        generation = self._snapshot if self._snapshot is not None else self._generation()
        row = rows.get(record_id)
        if row is not None and row.generation > generation:
            return row.as_of(generation)
        return row

    def get_many(self, kind: str, record_ids: Sequence[str]) -> list[Record]:
        found = (self.get(kind, i) for i in record_ids)
        return [r for r in found if r is not None]

    def _spec(self, kind: str) -> KindSpec:
        return self._s.spec(kind)

    def _find(
        self, kind: str, where: Where | None, order_by: str, after: Keyset | None, limit: int | None
    ) -> list[Record]:
        with self._s.lock:
            changed = self._changed_since(kind)
            staged = any(k == kind for k, _ in self._staged)
            # the id index orders every version of a row alike (ids never change); a column
            # index only describes the latest versions
            if not staged and (not changed or order_by == "id"):
                return self._find_in_order(kind, order_by, where or {}, after, limit)
            # staged writes, or commits since the snapshot: select from what this reads
            rows = self._visible(kind) if changed else list(self._rows(kind).items())
        # select on column values first; build full records only for what is returned
        light = {rid: Record(kind, rid, row.version, _NO_DOC, row.columns) for rid, row in rows}
        light.update({rid: r for (k, rid), r in self._staged.items() if k == kind})
        chosen = select(light.values(), where=where, order_by=order_by, after=after, limit=limit)
        full = dict(rows)
        return [
            self._staged.get((kind, r.id)) or self._s.record(kind, r.id, full[r.id]) for r in chosen
        ]

    def _find_in_order(
        self,
        kind: str,
        order_by: str,
        where: Where,
        after: tuple[ColumnValue, str] | None,
        limit: int | None,
    ) -> list[Record]:
        # keyset pagination over a sorted index (ids, or (column, id) keys): a batch costs its
        # size plus what it skips
        found: list[Record] = []
        if limit == 0:
            return found
        with self._s.lock:
            rows = self._rows(kind)
            ids: Iterable[str]
            if order_by == "id":
                sorted_ids = self._s.sorted_ids(kind)
                start = 0 if after is None else bisect.bisect_right(sorted_ids, after[1])
                ids = itertools.islice(sorted_ids, start, None)
            else:
                keys = self._s.column_order(kind, order_by)
                start = 0 if after is None else bisect.bisect_right(keys, order_key(*after))
                ids = (key[2] for key in itertools.islice(keys, start, None))
            generation = self._generation()
            for rid in ids:
                row = rows[rid]
                if row.generation > generation:
                    seen = row.as_of(generation)  # committed after this snapshot
                    if seen is None:
                        continue
                    row = seen
                if where and not matches(rid, row.columns, where):
                    continue
                found.append(self._s.record(kind, rid, row))
                if limit is not None and len(found) >= limit:
                    break
        return found

    def count(self, kind: str, *, where: Where | None = None) -> int:
        if not where and not any(k == kind for k, _ in self._staged):
            self._check()
            with self._s.lock:
                if not self._changed_since(kind):
                    return len(self._rows(kind))
        return len(self.find(kind, where=where))

    def insert(self, record: Record) -> None:
        self._check()
        check_new_record(record, self._s.spec(record.kind))
        key = (record.kind, record.id)
        if key in self._staged or record.id in self._rows(record.kind):
            raise IntegrityError(f"{record.kind} {record.id} already exists")
        self._stage("insert", record)

    def update(self, record: Record) -> None:
        if self._done or self._s.closed:
            self._check()
        spec = self._s.kinds.get(record.kind)
        check_record(record, spec if spec is not None else self._s.spec(record.kind))
        if record.pristine is not None:  # the common case, kept short
            self._writes.append(Write("update", record, None))
            self._staged[(record.kind, record.id)] = record
            return
        self._stage("update", record)

    def _stage(self, op: str, record: Record) -> None:
        # a pristine document comes from the codec (JSON-compatible by construction); any
        # other document is serialised now, so what is stored is what a durable store keeps
        text: str | None = None
        if record.pristine is None:
            text = record_json(record)
            record = Record(record.kind, record.id, record.version, None, record.columns, text=text)
        self._writes.append(Write(op, record, text))
        self._staged[(record.kind, record.id)] = record

    def append_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        self._check()
        self._outbox.extend(entries)

    def commit(self) -> None:
        if self._done or self._s.closed:
            self._check()
        self._end()
        if not self._writes and not self._outbox:
            return
        with self._s.lock:
            prepared = self._s.prepare(self._writes, self._outbox)
            if self._persist is not None:
                self._persist(prepared)
            self._s.apply(prepared)

    def rollback(self) -> None:
        self._end()
        self._writes.clear()
        self._staged.clear()
        self._outbox.clear()
