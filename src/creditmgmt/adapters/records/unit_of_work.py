"""The unit of work and repositories shared by every adapter, over any `RecordBackend`.

Because the identity map, dirty detection, version checks and outbox collection live here,
the memory, SQL and file stores behave the same by construction; each adapter only stores
records. Writes happen at `commit()` only: new aggregates are inserted with version 1,
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

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from types import MappingProxyType, TracebackType
from typing import Any, Final, Generic, Self, TypeVar, overload

from creditmgmt.adapters.records import codec
from creditmgmt.adapters.records.clone import restore, snapshot
from creditmgmt.adapters.records.committed import Committed, check_committed
from creditmgmt.adapters.records.contract import (
    ColumnValue,
    Filter,
    In,
    OutboxEntry,
    Partition,
    Pristine,
    Range,
    Record,
    RecordBackend,
    RecordTransaction,
    Where,
)
from creditmgmt.adapters.records.gcpause import gc_paused
from creditmgmt.adapters.records.kinds import (
    AUDIT_SPEC,
    BY_CLASS,
    BY_KIND,
    KindBinding,
    binding_for,
)
from creditmgmt.domain.application import CreditApplication
from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.collateral import Collateral, Guarantee
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import (
    ApplicationId,
    ClassificationId,
    CollateralId,
    CreditFileId,
    CustomerId,
    DrawdownId,
    EntityId,
    FacilityId,
    GroupId,
    GuaranteeId,
    InteractionId,
    RiskEventId,
    TaskId,
)
from creditmgmt.domain.interaction import (
    ComplaintStatus,
    FollowUpTask,
    Interaction,
)
from creditmgmt.domain.loan import Drawdown
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.ports import repositories as ports
from creditmgmt.ports.audit import GENESIS, AuditEntry, AuditLog, ChainHead, chain
from creditmgmt.ports.clock import Clock
from creditmgmt.ports.errors import (
    ConfigurationError,
    ConflictError,
    IntegrityError,
    NotFoundError,
)
from creditmgmt.ports.slices import PortfolioSlice
from creditmgmt.ports.store import Store
from creditmgmt.ports.unit_of_work import UnitOfWork

A = TypeVar("A", bound=Aggregate)
I = TypeVar("I", bound=EntityId)  # noqa: E741
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

    customers: _Lazy[ports.CustomerRepository] = _Lazy(lambda uow: _Customers(uow))
    groups: _Lazy[ports.GroupRepository] = _Lazy(lambda uow: _Groups(uow))
    credit_files: _Lazy[ports.CreditFileRepository] = _Lazy(lambda uow: _CreditFiles(uow))
    facilities: _Lazy[ports.FacilityRepository] = _Lazy(lambda uow: _Facilities(uow))
    drawdowns: _Lazy[ports.DrawdownRepository] = _Lazy(lambda uow: _Drawdowns(uow))
    applications: _Lazy[ports.ApplicationRepository] = _Lazy(lambda uow: _Applications(uow))
    risk_events: _Lazy[ports.RiskEventRepository] = _Lazy(lambda uow: _RiskEvents(uow))
    interactions: _Lazy[ports.InteractionRepository] = _Lazy(lambda uow: _Interactions(uow))
    tasks: _Lazy[ports.TaskRepository] = _Lazy(lambda uow: _Tasks(uow))
    classifications: _Lazy[ports.ClassificationRepository] = _Lazy(
        lambda uow: _Classifications(uow)
    )
    collaterals: _Lazy[ports.CollateralRepository] = _Lazy(lambda uow: _Collaterals(uow))
    guarantees: _Lazy[ports.GuaranteeRepository] = _Lazy(lambda uow: _Guarantees(uow))
    audit: _Lazy[AuditLog] = _Lazy(lambda uow: _Audit(uow))

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

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back what was not committed; raise `ChangedAfterCommitError` when the block
        ends normally and an aggregate it committed was changed after that commit."""
        committed, self._committed = self._committed, []
        self.rollback()
        if exc_type is None:
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
            # a bulk commit builds many acyclic objects: see adapters.records.gcpause
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
                events = agg._pending_events
                if events:
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
            head_was_missing = bool(self._audit) and _append_chained(tx, self._audit)
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
        for t in self._tracked.values():
            if t.aggregate._pending_events:
                t.aggregate.collect_events()
        self._tracked = {}
        self._audit = []
        self._committed.extend(committed)

    def _chain_head_exists(self) -> bool:
        probe = self._backend.begin()
        try:
            return probe.get(AUDIT_SPEC.kind, AUDIT_HEAD_ID) is not None
        finally:
            probe.rollback()

    # identity map ---------------------------------------------------------------------------
    def _decode(self, binding: KindBinding, record: Record) -> Aggregate:
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

    def _load(self, binding: KindBinding, agg_id: str) -> Aggregate | None:
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

    def _add(self, aggregate: Aggregate) -> None:
        binding = BY_CLASS.get(type(aggregate)) or binding_for(aggregate)  # raises TypeError
        agg_id = getattr(aggregate, "id").value  # noqa: B009 - every aggregate has an EntityId
        key = (binding.kind, agg_id)
        if key in self._tracked:
            raise IntegrityError(f"{key[0]} {key[1]} is already in this unit of work")
        self._tracked[key] = _Tracked(binding, aggregate, agg_id, None)

    def _find(
        self,
        binding: KindBinding,
        where: Mapping[str, Any],
        *,
        order_by: str = "id",
        limit: int | None = None,
    ) -> list[Aggregate]:
        clean: dict[str, Any] = {k: v for k, v in where.items() if v is not None}
        records = self.tx.find(binding.kind, where=clean, order_by=order_by, limit=limit)
        return [self._decode(binding, r) for r in records]


#: The id of the audit chain's head record, stored beside the entries (never an entry id:
#: entry ids are the desk's, which never start with "~").
AUDIT_HEAD_ID: Final = "~chain-head"
_HEAD_COLUMNS: Final[Mapping[str, ColumnValue]] = {
    "subject": "~audit-chain",
    "actor": "~store",
    "action": "chain-head",
}


def _read_head(tx: RecordTransaction) -> tuple[Record | None, ChainHead]:
    record = tx.get(AUDIT_SPEC.kind, AUDIT_HEAD_ID)
    if record is None:
        return None, ChainHead(0, GENESIS)
    return record, codec.decode_audit_head(record.document)


def _append_chained(tx: RecordTransaction, entries: list[AuditEntry]) -> bool:
    """Insert `entries` chained after the stored head and move the head; True when the
    chain had no head yet (so a racing first append shows up as a duplicate head)."""
    head_record, head = _read_head(tx)
    chained, new_head = chain(entries, head)
    for entry in chained:
        if entry.id == AUDIT_HEAD_ID:
            raise IntegrityError(f"audit entry id {entry.id!r} is reserved")
        tx.insert(
            Record(
                AUDIT_SPEC.kind,
                entry.id,
                1,
                codec.encode_audit(entry),
                {"subject": entry.subject, "actor": entry.actor, "action": entry.action},
            )
        )
    document = codec.encode_audit_head(new_head)
    if head_record is None:
        tx.insert(Record(AUDIT_SPEC.kind, AUDIT_HEAD_ID, 1, document, _HEAD_COLUMNS))
        return True
    tx.update(
        Record(AUDIT_SPEC.kind, AUDIT_HEAD_ID, head_record.version + 1, document, _HEAD_COLUMNS)
    )
    return False


def _set_version(aggregate: Aggregate, version: int) -> None:
    # `version` has no validator: skip attrs' on-setattr pipeline on this hot path
    object.__setattr__(aggregate, "version", version)


def _col(value: object) -> ColumnValue:
    if value is None or isinstance(value, (bool, int, str, date)):
        return value
    if isinstance(value, EntityId):
        return value.value
    return str(value)


#: How one query argument of a repository becomes a record filter: (column, filter), or None
#: for an argument that does not filter (a `None` value never filters).
_Arg = Callable[[Any], tuple[str, Filter] | None]


def _is(column: str) -> _Arg:
    """The column equals the argument."""
    return lambda value: (column, _col(value))


def _before(column: str, *, inclusive: bool = False) -> _Arg:
    """The column (a date) is before the argument, or on it when `inclusive`."""
    return lambda value: (column, Range(upper=value, upper_inclusive=inclusive))


def _ids_in(ids: Sequence[EntityId]) -> In:
    """An `In` filter over the string form of some ids (empty: matches nothing)."""
    return In(tuple(str(i) for i in ids))


def _any_of(column: str) -> _Arg:
    """The column is one of the argument's ids (an empty sequence matches nothing)."""
    return lambda ids: (column, _ids_in(ids))


def _open_complaints(wanted: bool) -> tuple[str, Filter] | None:
    return ("complaint_status", ComplaintStatus.OPEN) if wanted else None


class _Repo(ports.Repository[A, I], Generic[A, I]):
    """A repository over the records of one kind. Its query arguments are declared, not
    written out: `_scans` names the filters its `scan` takes and `_finds` those of its
    `find` (the ports declare the signatures), each mapped to the record filter it makes."""

    _binding: KindBinding  # set per repository class
    #: the column a slice's customer range bounds (None: the kind has no customer)
    _customer_column: str | None = "customer_id"
    _scans: Mapping[str, _Arg] = MappingProxyType({})
    _finds: Mapping[str, _Arg] = MappingProxyType({})
    _find_order = "id"

    def __init__(self, uow: RecordUnitOfWork) -> None:
        self._uow = uow

    @property
    def kind(self) -> str:
        return self._binding.kind

    def get(self, aggregate_id: I) -> A:
        key = aggregate_id.value if isinstance(aggregate_id, EntityId) else str(aggregate_id)
        found = self._uow._load(self._binding, key)
        if found is None:
            raise NotFoundError(f"{self.kind} {aggregate_id} not found")
        return found  # type: ignore[return-value]

    def get_many(self, aggregate_ids: list[I]) -> list[A]:
        wanted = [str(i) for i in aggregate_ids]
        missing = [i for i in wanted if (self.kind, i) not in self._uow._tracked]
        for record in self._uow.tx.get_many(self.kind, missing) if missing else []:
            self._uow._decode(self._binding, record)
        tracked = self._uow._tracked
        return [tracked[(self.kind, i)].aggregate for i in wanted if (self.kind, i) in tracked]  # type: ignore[misc]

    def add(self, aggregate: A) -> None:
        self._uow._add(aggregate)

    def exists(self, aggregate_id: I) -> bool:
        key = (self.kind, str(aggregate_id))
        return key in self._uow._tracked or self._uow.tx.get(*key) is not None

    def count(self) -> int:
        return self._uow.tx.count(self.kind)

    def _filters(self, method: str, args: Mapping[str, _Arg], given: Mapping[str, Any]) -> Where:
        where: dict[str, Filter | Partition] = {}
        for name, value in given.items():
            make = args.get(name)
            if make is None:
                raise TypeError(
                    f"{self.kind} {method}() got an unexpected keyword argument {name!r}"
                )
            made = None if value is None else make(value)
            if made is not None:
                where[made[0]] = made[1]
        return where

    def scan(
        self, *, slice: PortfolioSlice = PortfolioSlice.ALL, batch_size: int = 1000, **filters: Any
    ) -> Iterator[list[A]]:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigurationError(
                f"{self.kind} scan batch_size must be >= 1, got {batch_size!r}"
            )
        if not isinstance(slice, PortfolioSlice):
            raise ConfigurationError(
                f"{self.kind} scan slice must be a PortfolioSlice, got {slice!r}"
            )
        where = dict(self._filters("scan", self._scans, filters))
        # keyset order: by the range filter's column when there is one (the store's
        # (column, id) index then seeks each batch), else by id
        ranged = [k for k, v in where.items() if isinstance(v, Range)]
        order_by = ranged[0] if ranged else "id"
        if slice.ranged:
            column = self._customer_column
            if column is None:
                raise ConfigurationError(
                    f"{self.kind} has no customer: scan slice customer_from/customer_to "
                    "cannot apply"
                )
            low, high = slice.customer_from, slice.customer_to
            where[column] = Range(
                lower=None if low is None else str(low), upper=None if high is None else str(high)
            )
            order_by = column
        if slice.partitioned:
            where["partition"] = Partition(slice.index, slice.count)
        return self._batches(where, batch_size, order_by)

    def _batches(self, where: Where, batch_size: int, order_by: str) -> Iterator[list[A]]:
        after: tuple[ColumnValue, str] | None = None
        while True:
            records = self._uow.tx.find(
                self.kind, where=where, order_by=order_by, after=after, limit=batch_size
            )
            if not records:
                return
            last = records[-1]
            after = (last.id if order_by == "id" else last.columns.get(order_by), last.id)
            yield [self._uow._decode(self._binding, r) for r in records]  # type: ignore[misc]
            if len(records) < batch_size:
                return

    def _where(self, limit: int | None = None, order_by: str = "id", **where: Any) -> list[A]:
        clean = {k: v if isinstance(v, (Range, In)) else _col(v) for k, v in where.items()}
        return self._uow._find(self._binding, clean, order_by=order_by, limit=limit)  # type: ignore[return-value]


class _Finds(_Repo[A, I], Generic[A, I]):
    """A repository with a `find` over its declared query arguments (`_finds`)."""

    def find(self, *, limit: int | None = None, **filters: Any) -> list[A]:
        where = self._filters("find", self._finds, filters)
        return self._uow._find(self._binding, where, order_by=self._find_order, limit=limit)  # type: ignore[return-value]


def _args(**makers: _Arg) -> Mapping[str, _Arg]:
    """A repository's query arguments, in the order they apply (a later one wins a column)."""
    return MappingProxyType(makers)


_STATUS: Final = _args(status=_is("status"))


class _Customers(_Finds[Customer, CustomerId], ports.CustomerRepository):
    _binding = BY_KIND["customer"]
    _customer_column = "id"
    _scans = _STATUS
    _finds = _args(
        **{
            name: _is(name)
            for name in (
                "status",
                "home_region",
                "industry_code",
                "segment",
                "group_id",
                "relationship_manager",
                "is_remote",
            )
        }
    )

    def by_registration_id(self, registration_id: str) -> Customer | None:
        found = self._where(1, registration_id=registration_id)
        return found[0] if found else None


class _Groups(_Repo[CustomerGroup, GroupId], ports.GroupRepository):
    _binding = BY_KIND["group"]
    _customer_column = None

    def by_limit_facility(self, facility_id: FacilityId) -> CustomerGroup | None:
        found = self._where(1, limit_facility_id=facility_id)
        return found[0] if found else None


class _CreditFiles(_Repo[CreditFile, CreditFileId], ports.CreditFileRepository):
    _binding = BY_KIND["credit_file"]

    def for_customer(self, customer_id: CustomerId) -> CreditFile | None:
        found = self._where(1, customer_id=customer_id)
        return found[0] if found else None

    def for_customers(self, customer_ids: Sequence[CustomerId]) -> list[CreditFile]:
        return self._where(customer_id=_ids_in(customer_ids))


class _Facilities(_Finds[Facility, FacilityId], ports.FacilityRepository):
    _binding = BY_KIND["facility"]
    _scans = _args(**_STATUS, maturing_before=_before("maturity_date"))
    _finds = _args(
        customer_id=_is("customer_id"),
        group_id=_is("group_id"),
        level=_is("level"),
        **_scans,
        customer_ids=_any_of("customer_id"),  # after customer_id: the batch wins
    )

    def children(self, parent_id: FacilityId) -> list[Facility]:
        return self._where(parent_id=parent_id)

    def path_to_root(self, facility_id: FacilityId) -> list[Facility]:
        chain = [self.get(facility_id)]
        while chain[-1].parent_id is not None:
            if len(chain) > 64:
                raise IntegrityError(f"facility {facility_id}: parent links form a cycle")
            chain.append(self.get(chain[-1].parent_id))
        chain.reverse()
        return chain

    def tree(self, root_id: FacilityId) -> list[Facility]:
        nodes = [self.get(root_id)]
        frontier = [root_id]
        while frontier:
            found = self._where(parent_id=_ids_in(frontier))
            nodes.extend(found)
            frontier = [n.id for n in found]
        return nodes


class _Drawdowns(_Finds[Drawdown, DrawdownId], ports.DrawdownRepository):
    _binding = BY_KIND["drawdown"]
    _scans = _args(**_STATUS, unpaid_due_before=_before("oldest_unpaid_due"))
    _finds = _args(
        facility_id=_is("facility_id"),
        customer_id=_is("customer_id"),
        **_scans,
        customer_ids=_any_of("customer_id"),
    )


class _Applications(_Finds[CreditApplication, ApplicationId], ports.ApplicationRepository):
    _binding = BY_KIND["application"]
    _scans = _STATUS
    _finds = _args(customer_id=_is("customer_id"), **_STATUS, maker=_is("maker"))


class _RiskEvents(_Finds[RiskEvent, RiskEventId], ports.RiskEventRepository):
    _binding = BY_KIND["risk_event"]
    _scans = _args(**_STATUS, review_due_before=_before("review_due"))
    _finds = _args(
        customer_id=_is("customer_id"),
        facility_id=_is("facility_id"),
        severity=_is("severity"),
        type=_is("type"),
        **_scans,
        customer_ids=_any_of("customer_id"),
    )


class _Interactions(_Finds[Interaction, InteractionId], ports.InteractionRepository):
    _binding = BY_KIND["interaction"]
    _finds = _args(
        customer_id=_is("customer_id"), kind=_is("kind_code"), open_complaints=_open_complaints
    )


class _Tasks(_Finds[FollowUpTask, TaskId], ports.TaskRepository):
    _binding = BY_KIND["task"]
    _scans = _args(**_STATUS, due_on_or_before=_before("due", inclusive=True))
    _finds = _args(customer_id=_is("customer_id"), assignee=_is("assignee"), **_scans)
    _find_order = "due"


class _Classifications(
    _Finds[ClassificationEntry, ClassificationId], ports.ClassificationRepository
):
    _binding = BY_KIND["classification"]
    _scans = _args(as_of=_is("as_of"))
    _finds = _args(customer_id=_is("customer_id"), category=_is("category"), **_scans)

    def history(
        self, *, facility_id: FacilityId, drawdown_id: DrawdownId | None = None
    ) -> list[ClassificationEntry]:
        entries = self._where(order_by="as_of", facility_id=facility_id, drawdown_id=drawdown_id)
        if drawdown_id is None:
            entries = [e for e in entries if e.drawdown_id is None]
        return entries

    def latest(
        self, *, facility_id: FacilityId, drawdown_id: DrawdownId | None = None
    ) -> ClassificationEntry | None:
        entries = self.history(facility_id=facility_id, drawdown_id=drawdown_id)
        return entries[-1] if entries else None


class _Collaterals(_Repo[Collateral, CollateralId], ports.CollateralRepository):
    _binding = BY_KIND["collateral"]
    _customer_column = None
    _scans = _args(revaluation_due_by=_before("revaluation_due", inclusive=True))

    def revaluation_due(self, *, as_of: date) -> list[Collateral]:
        return self._where(revaluation_due=Range(upper=as_of, upper_inclusive=True))


class _Guarantees(_Repo[Guarantee, GuaranteeId], ports.GuaranteeRepository):
    _binding = BY_KIND["guarantee"]
    _customer_column = None

    def by_guarantor(self, guarantor_id: CustomerId) -> list[Guarantee]:
        return self._where(guarantor_id=guarantor_id)


class _Audit(AuditLog):
    def __init__(self, uow: RecordUnitOfWork) -> None:
        self._uow = uow

    def append(self, entry: AuditEntry) -> None:
        if entry.at.tzinfo is None:
            raise IntegrityError(f"audit entry {entry.id}: timestamp must be timezone-aware")
        self._uow._audit.append(entry)

    def get(self, entry_id: str) -> AuditEntry | None:
        if entry_id == AUDIT_HEAD_ID:
            return None
        record = self._uow.tx.get(AUDIT_SPEC.kind, entry_id)
        return None if record is None else codec.decode_audit(record.document, record_id=record.id)

    def entries(self, *, subject: str | None = None, actor: str | None = None) -> list[AuditEntry]:
        where = {k: v for k, v in {"subject": subject, "actor": actor}.items() if v is not None}
        records = self._uow.tx.find(AUDIT_SPEC.kind, where=where)
        entries = [
            codec.decode_audit(r.document, record_id=r.id) for r in records if r.id != AUDIT_HEAD_ID
        ]
        return sorted(entries, key=lambda e: (e.at, e.sequence or 0, e.id))

    def head(self) -> ChainHead:
        return _read_head(self._uow.tx)[1]


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
