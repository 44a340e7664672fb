"""The typed repositories of the record stores, one per aggregate kind.

Each repository reads the records of its kind through its unit of work (`RecordSession`:
the transaction and the identity map). Query arguments are declared, not written out: a
repository's `_scans` and `_finds` tables map each argument its port declares to the record
filter it makes, so the ports (`creditmgmt.ports.repositories`) hold the signatures once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from types import MappingProxyType
from typing import Any, Final, Generic, Protocol, TypeVar

from creditmgmt._gcpause import gc_paused
from creditmgmt.adapters.records.contract import (
    ColumnValue,
    Filter,
    In,
    Partition,
    Range,
    Record,
    RecordTransaction,
    Where,
)
from creditmgmt.adapters.records.kinds import BY_KIND, KindBinding
from creditmgmt.domain import ids
from creditmgmt.domain.application import CreditApplication
from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.collateral import Collateral, Guarantee
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.interaction import ComplaintStatus, FollowUpTask, Interaction
from creditmgmt.domain.loan import Drawdown
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.ports import repositories as ports
from creditmgmt.ports.errors import ConfigurationError, IntegrityError, NotFoundError
from creditmgmt.ports.slices import PortfolioSlice

A = TypeVar("A", bound=Aggregate)
I = TypeVar("I", bound=ids.EntityId)  # noqa: E741


class RecordSession(Protocol):
    """What a repository needs from its unit of work (`RecordUnitOfWork` is one): the
    transaction, and the identity map that hands out one aggregate per (kind, id)."""

    @property
    def tx(self) -> RecordTransaction: ...

    def tracked(self, kind: str, record_id: str) -> Aggregate | None:
        """The aggregate the unit already holds for (kind, id), if any."""

    def load(self, binding: KindBinding, record_id: str) -> Aggregate | None:
        """The aggregate of that kind and id (tracked, or read and tracked); None if absent."""

    def decode(self, binding: KindBinding, record: Record) -> Aggregate:
        """The aggregate of a record read by the caller (the tracked one if already held)."""

    def track_new(self, aggregate: Aggregate) -> None:
        """Track a new aggregate, inserted at commit (`IntegrityError` if already held)."""

    def select(
        self, binding: KindBinding, where: Mapping[str, Any], order_by: str, limit: int | None
    ) -> list[Aggregate]:
        """The aggregates whose records pass `where` (`None` values do not filter), in the
        order of the column `order_by` then id, at most `limit` of them."""


def _col(value: object) -> ColumnValue:
    if value is None or isinstance(value, (bool, int, str, date)):
        return value
    if isinstance(value, ids.EntityId):
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


def _ids_in(values: Sequence[ids.EntityId]) -> In:
    """An `In` filter over the string form of some ids (empty: matches nothing)."""
    return In(tuple(str(i) for i in values))


def _any_of(column: str) -> _Arg:
    """The column is one of the argument's ids (an empty sequence matches nothing)."""
    return lambda values: (column, _ids_in(values))


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

    def __init__(self, uow: RecordSession) -> None:
        self._uow = uow

    @property
    def kind(self) -> str:
        return self._binding.kind

    def get(self, aggregate_id: I) -> A:
        key = aggregate_id.value if isinstance(aggregate_id, ids.EntityId) else str(aggregate_id)
        found = self._uow.load(self._binding, key)
        if found is None:
            raise NotFoundError(f"{self.kind} {aggregate_id} not found")
        return found  # type: ignore[return-value]

    def get_many(self, aggregate_ids: list[I]) -> list[A]:
        uow, kind = self._uow, self.kind
        wanted = [str(i) for i in aggregate_ids]
        missing = [i for i in wanted if uow.tracked(kind, i) is None]
        if missing:
            with gc_paused():  # a batch read: see creditmgmt._gcpause
                for record in uow.tx.get_many(kind, missing):
                    uow.decode(self._binding, record)
        found = [uow.tracked(kind, i) for i in wanted]
        return [a for a in found if a is not None]  # type: ignore[misc]

    def add(self, aggregate: A) -> None:
        self._uow.track_new(aggregate)

    def exists(self, aggregate_id: I) -> bool:
        key = str(aggregate_id)
        return self._uow.tracked(self.kind, key) is not None or (
            self._uow.tx.get(self.kind, key) is not None
        )

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
            with gc_paused():  # a batch read, never across the yield: see creditmgmt._gcpause
                records = self._uow.tx.find(
                    self.kind, where=where, order_by=order_by, after=after, limit=batch_size
                )
                batch = [self._uow.decode(self._binding, r) for r in records]
            if not records:
                return
            last = records[-1]
            after = (last.id if order_by == "id" else last.columns.get(order_by), last.id)
            yield batch  # type: ignore[misc]
            if len(records) < batch_size:
                return

    def _where(self, limit: int | None = None, order_by: str = "id", **where: Any) -> list[A]:
        clean = {k: v if isinstance(v, (Range, In)) else _col(v) for k, v in where.items()}
        return self._uow.select(self._binding, clean, order_by=order_by, limit=limit)  # type: ignore[return-value]


class _Finds(_Repo[A, I], Generic[A, I]):
    """A repository with a `find` over its declared query arguments (`_finds`)."""

    def find(self, *, limit: int | None = None, **filters: Any) -> list[A]:
        where = self._filters("find", self._finds, filters)
        return self._uow.select(self._binding, where, order_by=self._find_order, limit=limit)  # type: ignore[return-value]


def _args(*columns: str, **makers: _Arg) -> Mapping[str, _Arg]:
    """A repository's query arguments, in the order they apply (a later one wins a column):
    each of `columns` an equality filter on the column of that name, then `makers`."""
    return MappingProxyType({**{c: _is(c) for c in columns}, **makers})


#: `customer_ids`: the aggregates of any of these customers (one query for a batch); listed
#: after `customer_id`, so the batch wins when both are given.
_BATCH: Final = _args(customer_ids=_any_of("customer_id"))


class Customers(_Finds[Customer, ids.CustomerId], ports.CustomerRepository):
    _binding = BY_KIND["customer"]
    _customer_column = "id"
    _scans = _args("status")
    _finds = _args(
        "status",
        "home_region",
        "industry_code",
        "segment",
        "group_id",
        "relationship_manager",
        "is_remote",
    )

    def by_registration_id(self, registration_id: str) -> Customer | None:
        found = self._where(1, registration_id=registration_id)
        return found[0] if found else None


class Groups(_Repo[CustomerGroup, ids.GroupId], ports.GroupRepository):
    _binding = BY_KIND["group"]
    _customer_column = None

    def by_limit_facility(self, facility_id: ids.FacilityId) -> CustomerGroup | None:
        found = self._where(1, limit_facility_id=facility_id)
        return found[0] if found else None


class CreditFiles(_Repo[CreditFile, ids.CreditFileId], ports.CreditFileRepository):
    _binding = BY_KIND["credit_file"]

    def for_customer(self, customer_id: ids.CustomerId) -> CreditFile | None:
        found = self._where(1, customer_id=customer_id)
        return found[0] if found else None

    def for_customers(self, customer_ids: Sequence[ids.CustomerId]) -> list[CreditFile]:
        return self._where(customer_id=_ids_in(customer_ids))


class Facilities(_Finds[Facility, ids.FacilityId], ports.FacilityRepository):
    _binding = BY_KIND["facility"]
    _scans = _args("status", maturing_before=_before("maturity_date"))
    _finds = _args("customer_id", "group_id", "level", **_scans, **_BATCH)

    def children(self, parent_id: ids.FacilityId) -> list[Facility]:
        return self._where(parent_id=parent_id)

    def path_to_root(self, facility_id: ids.FacilityId) -> list[Facility]:
        chain = [self.get(facility_id)]
        while chain[-1].parent_id is not None:
            if len(chain) > 64:
                raise IntegrityError(f"facility {facility_id}: parent links form a cycle")
            chain.append(self.get(chain[-1].parent_id))
        chain.reverse()
        return chain

    def tree(self, root_id: ids.FacilityId) -> list[Facility]:
        nodes = [self.get(root_id)]
        frontier = [root_id]
        while frontier:
            found = self._where(parent_id=_ids_in(frontier))
            nodes.extend(found)
            frontier = [n.id for n in found]
        return nodes


class Drawdowns(_Finds[Drawdown, ids.DrawdownId], ports.DrawdownRepository):
    _binding = BY_KIND["drawdown"]
    _scans = _args("status", unpaid_due_before=_before("oldest_unpaid_due"))
    _finds = _args("facility_id", "customer_id", **_scans, **_BATCH)


class Applications(_Finds[CreditApplication, ids.ApplicationId], ports.ApplicationRepository):
    _binding = BY_KIND["application"]
    _scans = _args("status")
    _finds = _args("customer_id", "status", "maker")


class RiskEvents(_Finds[RiskEvent, ids.RiskEventId], ports.RiskEventRepository):
    _binding = BY_KIND["risk_event"]
    _scans = _args("status", review_due_before=_before("review_due"))
    _finds = _args("customer_id", "facility_id", "severity", "type", **_scans, **_BATCH)


class Interactions(_Finds[Interaction, ids.InteractionId], ports.InteractionRepository):
    _binding = BY_KIND["interaction"]
    _finds = _args("customer_id", kind=_is("kind_code"), open_complaints=_open_complaints)


class Tasks(_Finds[FollowUpTask, ids.TaskId], ports.TaskRepository):
    _binding = BY_KIND["task"]
    _scans = _args("status", due_on_or_before=_before("due", inclusive=True))
    _finds = _args("customer_id", "assignee", **_scans)
    _find_order = "due"


class Classifications(
    _Finds[ClassificationEntry, ids.ClassificationId], ports.ClassificationRepository
):
    _binding = BY_KIND["classification"]
    _scans = _args("as_of")
    _finds = _args("customer_id", "category", "as_of")

    def history(
        self, *, facility_id: ids.FacilityId, drawdown_id: ids.DrawdownId | None = None
    ) -> list[ClassificationEntry]:
        entries = self._where(order_by="as_of", facility_id=facility_id, drawdown_id=drawdown_id)
        if drawdown_id is None:
            entries = [e for e in entries if e.drawdown_id is None]
        return entries

    def latest(
        self, *, facility_id: ids.FacilityId, drawdown_id: ids.DrawdownId | None = None
    ) -> ClassificationEntry | None:
        entries = self.history(facility_id=facility_id, drawdown_id=drawdown_id)
        return entries[-1] if entries else None


class Collaterals(_Repo[Collateral, ids.CollateralId], ports.CollateralRepository):
    _binding = BY_KIND["collateral"]
    _customer_column = None
    _scans = _args(revaluation_due_by=_before("revaluation_due", inclusive=True))

    def revaluation_due(self, *, as_of: date) -> list[Collateral]:
        return self._where(revaluation_due=Range(upper=as_of, upper_inclusive=True))


class Guarantees(_Repo[Guarantee, ids.GuaranteeId], ports.GuaranteeRepository):
    _binding = BY_KIND["guarantee"]
    _customer_column = None

    def by_guarantor(self, guarantor_id: ids.CustomerId) -> list[Guarantee]:
        return self._where(guarantor_id=guarantor_id)
