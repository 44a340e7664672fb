"""The unit of work shared by every adapter, over any `RecordBackend`, and the store over it.

Because the identity map, dirty detection, version checks and outbox collection live here,
the memory, SQL and file stores behave the same by construction; each adapter only stores
records (the typed repositories are in `records.repositories`, the audit chain in
`records.audit_chain`). Writes happen at `commit()` only: new aggregates are inserted with version 1,
aggregates whose encoded document changed are updated to version + 1 with an optimistic
check, unchanged ones are not written at all (so re-running an unchanged day writes nothing).
After a commit the unit forgets what it loaded (bounded memory for long scans); load again to
change more. A change made after `commit()` to an aggregate the unit committed (or loaded) is
not lost silently: the unit keeps a weak reference to each such aggregate with the document it
committed, and the next `commit()` of the unit, or leaving its `with` block normally, raises
`ChangedAfterCommitError` naming the kind and id when one still alive differs (an aggregate
the caller let go of costs nothing). Leaving the block by an exception, or calling
`rollback()`, discards such changes as it discards any uncommitted work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, Self, TypeVar, overload

from creditmgmt._gcpause import gc_paused
from creditmgmt.adapters.records import codec
from creditmgmt.adapters.records import repositories as repos
from creditmgmt.adapters.records.audit_chain import AUDIT_HEAD_ID, RecordAuditLog, append_chained
from creditmgmt.adapters.records.clone import restore, snapshot
from creditmgmt.adapters.records.committed import Committed, check_committed
from creditmgmt.adapters.records.contract import (
    OutboxEntry,
    Pristine,
    Record,
    RecordBackend,
    RecordTransaction,
)
from creditmgmt.adapters.records.kinds import (
    AUDIT_SPEC,
    BY_CLASS,
    KindBinding,
    binding_for,
)
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.ports import repositories as ports
from creditmgmt.ports.audit import AuditEntry, AuditLog
from creditmgmt.ports.clock import Clock
from creditmgmt.ports.errors import ConflictError, IntegrityError
from creditmgmt.ports.store import Store
from creditmgmt.ports.unit_of_work import UnitOfWork

R = TypeVar("R")

#: From this many aggregates on, a commit runs with the cyclic garbage collector paused.
_BULK = 256


class _Tracked:
    __slots__ = ("aggregate", "binding", "id", "loaded", "previous")

    def __init__(
        self,
        binding: KindBinding,
        aggregate: Aggregate,
        agg_id: str,
        loaded: dict[str, Any] | None,
        previous: tuple[Any, ...] | None = None,
    ) -> None:
        self.binding = binding
        self.aggregate = aggregate
        self.id = agg_id
        self.loaded = loaded  # the document as loaded (never mutated); None for a new aggregate
        self.previous = previous  # the snapshot `aggregate` was restored from, if any


class _Lazy(Generic[R]):
    """A repository made on first use (a unit of work often touches one or two of them)."""

    def __init__(self, factory: Callable[[RecordUnitOfWork], R]) -> None:
        self._factory = factory
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type) -> Self: ...

    @overload
    def __get__(self, uow: RecordUnitOfWork, owner: type) -> R: ...

    def __get__(self, uow: RecordUnitOfWork | None, owner: type) -> R | Self:
        if uow is None:
            return self
        repo = self._factory(uow)
        uow.__dict__[self._name] = repo  # later reads find the instance attribute first
        return repo


class RecordUnitOfWork(UnitOfWork):
    """`UnitOfWork` over a record backend (see the module doc)."""

    customers: _Lazy[ports.CustomerRepository] = _Lazy(repos.Customers)
    groups: _Lazy[ports.GroupRepository] = _Lazy(repos.Groups)
    credit_files: _Lazy[ports.CreditFileRepository] = _Lazy(repos.CreditFiles)
    facilities: _Lazy[ports.FacilityRepository] = _Lazy(repos.Facilities)
    drawdowns: _Lazy[ports.DrawdownRepository] = _Lazy(repos.Drawdowns)
    applications: _Lazy[ports.ApplicationRepository] = _Lazy(repos.Applications)
    risk_events: _Lazy[ports.RiskEventRepository] = _Lazy(repos.RiskEvents)
    interactions: _Lazy[ports.InteractionRepository] = _Lazy(repos.Interactions)
    tasks: _Lazy[ports.TaskRepository] = _Lazy(repos.Tasks)
    classifications: _Lazy[ports.ClassificationRepository] = _Lazy(repos.Classifications)
    collaterals: _Lazy[ports.CollateralRepository] = _Lazy(repos.Collaterals)
    guarantees: _Lazy[ports.GuaranteeRepository] = _Lazy(repos.Guarantees)
    audit: _Lazy[AuditLog] = _Lazy(RecordAuditLog)

    def __init__(self, backend: RecordBackend, *, clock: Clock) -> None:
        self._backend = backend
        self._clock = clock
        self._keeps_pristine = bool(getattr(backend, "keeps_pristine", False))
        self._tx: RecordTransaction | None = None
        # the transaction's direct read of a committed row, when the backend keeps pristines
        self._committed_row: Callable[[str, str], Any] | None = None
        self._tracked: dict[tuple[str, str], _Tracked] = {}
        self._audit: list[AuditEntry] = []
        #: what the unit committed: a weak reference to each aggregate, with its kind, id and
        #: the document committed (checked by `check_committed`)
        self._committed: list[Committed] = []

    # transaction ----------------------------------------------------------------------------
    def _begin(self) -> None:
        self.rollback()

    def _end(self, *, normally: bool) -> None:
        """Roll back what was not committed; raise `ChangedAfterCommitError` when the block
        ends normally and an aggregate it committed was changed after that commit."""
        committed, self._committed = self._committed, []
        self.rollback()
        if normally:
            check_committed(committed)

    @property
    def tx(self) -> RecordTransaction:
        if self._tx is None:
            tx = self._tx = self._backend.begin()
            keep = self._keeps_pristine
            self._committed_row = getattr(tx, "committed_row", None) if keep else None
        return self._tx

    def rollback(self) -> None:
        tx, self._tx = self._tx, None
        self._tracked = {}
        self._audit = []
        self._committed = []
        if tx is not None:
            tx.rollback()

    def commit(self) -> None:
        """See `UnitOfWork.commit`; also raises `ChangedAfterCommitError` (nothing stored)
        when an aggregate an earlier commit of this unit wrote or loaded was changed since
        (see the module doc)."""
        committed, self._committed = self._committed, []  # each change is reported once
        self._committed = check_committed(committed)
        if len(self._tracked) + len(self._audit) >= _BULK:
            # a bulk commit builds many acyclic objects: see creditmgmt._gcpause
            with gc_paused():
                self._commit()
        else:
            self._commit()

    def _commit(self) -> None:
        tx = self.tx
        keep = self._keeps_pristine
        written: list[tuple[_Tracked, int]] = []
        committed: list[Committed] = []
        outbox: list[OutboxEntry] = []
        with_events: list[Aggregate] = []
        now = None
        head_was_missing = False
        try:
            for t in self._tracked.values():
                agg = t.aggregate
                kind = t.binding.kind
                loaded = t.loaded
                state: tuple[Any, ...] | None = None
                if loaded is None:
                    doc: dict[str, Any] | None = codec.encode(kind, agg)
                elif t.previous is not None:
                    found = codec.encode_changes(kind, agg, t.previous, loaded)
                    doc, state = (None, None) if found is None else found
                else:
                    doc = codec.encode(kind, agg)
                    if doc == loaded:
                        doc = None
                if doc is not None:
                    version = 1 if loaded is None else agg.version + 1
                    pristine = None
                    if keep:
                        pristine = Pristine(snapshot(agg) if state is None else state, doc)
                    record = Record(
                        kind, t.id, version, doc, t.binding.extract(agg), pristine=pristine
                    )
                    if loaded is None:
                        tx.insert(record)
                    else:
                        tx.update(record)
                    written.append((t, version))
                    state = None if pristine is None else pristine.state
                    committed.append(Committed(agg, kind, t.id, doc, state))
                else:
                    committed.append(Committed(agg, kind, t.id, loaded, t.previous))
                events = agg.pending_events
                if events:
                    with_events.append(agg)
                    if now is None:
                        now = self._clock.now()
                    for e in events:
                        if keep and codec.can_defer_event(type(e)):
                            # an in-process store encodes it when read (same result, no error)
                            event_entry = OutboxEntry(
                                kind,
                                t.id,
                                e.event_type,
                                None,
                                now,
                                deferred=(codec.encode_event, e),
                            )
                        else:
                            event_entry = OutboxEntry(
                                kind, t.id, e.event_type, codec.encode_event(e), now
                            )
                        outbox.append(event_entry)
            head_was_missing = bool(self._audit) and append_chained(tx, self._audit)
            if outbox:
                tx.append_outbox(outbox)
            tx.commit()
        except IntegrityError:
            self._tx = None
            tx.rollback()
            if head_was_missing and self._chain_head_exists():
                # another unit started the audit chain first: a lost race, not a bad record
                raise ConflictError(
                    "the audit chain was started by another unit of work at the same time; "
                    "nothing was stored"
                ) from None
            raise
        except BaseException:
            self._tx = None
            tx.rollback()
            raise
        self._tx = None
        for t, version in written:
            _set_version(t.aggregate, version)
        for agg in with_events:
            agg.pull_events()
        self._tracked = {}
        self._audit = []
        self._committed.extend(committed)

    def _chain_head_exists(self) -> bool:
        probe = self._backend.begin()
        try:
            return probe.get(AUDIT_SPEC.kind, AUDIT_HEAD_ID) is not None
        finally:
            probe.rollback()

    # identity map (the `RecordSession` the repositories and the audit log use) ----------
    def tracked(self, kind: str, record_id: str) -> Aggregate | None:
        known = self._tracked.get((kind, record_id))
        return None if known is None else known.aggregate

    def stage_audit(self, entry: AuditEntry) -> None:
        self._audit.append(entry)

    def decode(self, binding: KindBinding, record: Record) -> Aggregate:
        key = (binding.kind, record.id)
        known = self._tracked.get(key)
        if known is not None:
            return known.aggregate
        return self._track(key, binding, record)

    def _track(self, key: tuple[str, str], binding: KindBinding, record: Record) -> Aggregate:
        pristine = record.pristine
        if pristine is not None:
            agg: Aggregate = restore(binding.cls, pristine.state, record.version)
            self._tracked[key] = _Tracked(binding, agg, key[1], pristine.document, pristine.state)
            return agg
        loaded = record.document
        agg = codec.decode(
            binding.kind, binding.cls, loaded, record_id=record.id, version=record.version
        )
        self._tracked[key] = _Tracked(binding, agg, key[1], loaded)
        return agg

    def load(self, binding: KindBinding, agg_id: str) -> Aggregate | None:
        key = (binding.kind, agg_id)
        known = self._tracked.get(key)
        if known is not None:
            return known.aggregate
        tx = self._tx or self.tx
        committed_row = self._committed_row  # set with the transaction
        if committed_row is not None:
            row = committed_row(binding.kind, agg_id)
            if row is not None and row.pristine is not None:
                pristine = row.pristine
                agg: Aggregate = restore(binding.cls, pristine.state, row.version)
                self._tracked[key] = _Tracked(
                    binding, agg, agg_id, pristine.document, pristine.state
                )
                return agg
        record = tx.get(binding.kind, agg_id)
        return None if record is None else self._track(key, binding, record)

    def track_new(self, aggregate: Aggregate) -> None:
        binding = BY_CLASS.get(type(aggregate)) or binding_for(aggregate)  # raises TypeError
        agg_id = aggregate.id.value
        key = (binding.kind, agg_id)
        if key in self._tracked:
            raise IntegrityError(f"{key[0]} {key[1]} is already in this unit of work")
        self._tracked[key] = _Tracked(binding, aggregate, agg_id, None)

    def select(
        self, binding: KindBinding, where: Mapping[str, Any], order_by: str, limit: int | None
    ) -> list[Aggregate]:
        clean: dict[str, Any] = {k: v for k, v in where.items() if v is not None}
        # a batch read parses and decodes many acyclic objects: see creditmgmt._gcpause
        with gc_paused():
            records = self.tx.find(binding.kind, where=clean, order_by=order_by, limit=limit)
            return [self.decode(binding, r) for r in records]


def _set_version(aggregate: Aggregate, version: int) -> None:
    # `version` has no validator: skip attrs' on-setattr pipeline on this hot path
    object.__setattr__(aggregate, "version", version)


class RecordStore(Store):
    """The `Store` port over one `RecordBackend`: makes units of work, reads the outbox."""

    def __init__(self, backend: RecordBackend, *, clock: Clock) -> None:
        self.backend = backend
        self.clock = clock

    def unit_of_work(self) -> RecordUnitOfWork:
        return RecordUnitOfWork(self.backend, clock=self.clock)

    def events(self, *, after: int = 0, limit: int = 1000) -> list[tuple[int, DomainEvent]]:
        """Committed domain events in commit order, with their outbox sequence numbers."""
        return [
            (e.sequence, codec.decode_event(e.document, where=f"outbox entry {e.sequence}"))
            for e in self.backend.read_outbox(after=after, limit=limit)
        ]

    def prune_outbox(self, *, through: int) -> int:
        """Delete every outbox event with `sequence <= through` (events a host has handed
        on), atomically; return how many were deleted.

        Later events keep their sequences and new ones go on numbering after the last
        sequence ever assigned — a pruned sequence is never reused, also after the store is
        opened again. Commits running at the same time lose nothing.

        Raises:
            OutboxRangeError: `through` is negative or beyond the last sequence assigned (a
                `ValueError` too; names the value and the last sequence); nothing was deleted.
            TypeError: `through` is not an int.
            StoreUnavailableError: the store is closed or cannot be reached.
            DataError: a SQL store opened with `create=False` is below schema 3.
        """
        return self.backend.prune_outbox(through=through)

    def close(self) -> None:
        self.backend.close()
