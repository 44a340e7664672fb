"""Repositories: how the core reaches stored aggregates, one per aggregate kind.

Query methods take keyword-only arguments; a `None` argument does not filter. `get` raises
`NotFoundError` naming the kind and the id. `scan` streams the portfolio in bounded batches
(keyset pagination over the id) for the daily run: the whole book or one `PortfolioSlice` of
it (a hash partition of several, a range of customer ids, or both), so independent workers —
threads, processes or machines — can each take a share and together see every aggregate
exactly once; repositories add the filters their run needs (status, due dates).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Generic, TypeVar

from creditmgmt.domain.application import ApplicationStatus, CreditApplication
from creditmgmt.domain.classification import Category, ClassificationEntry
from creditmgmt.domain.collateral import Collateral, Guarantee
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer, CustomerStatus, Segment
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility, FacilityLevel, FacilityStatus
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
    UserId,
)
from creditmgmt.domain.interaction import FollowUpTask, Interaction, InteractionKind, TaskStatus
from creditmgmt.domain.loan import Drawdown, LoanStatus
from creditmgmt.domain.risk import RiskEvent, RiskEventStatus, Severity
from creditmgmt.ports.slices import PortfolioSlice

A = TypeVar("A", bound=Aggregate)
I = TypeVar("I", bound=EntityId)  # noqa: E741 - the conventional name for an id type


class Repository(ABC, Generic[A, I]):
    """Operations every repository has."""

    @abstractmethod
    def get(self, aggregate_id: I) -> A:
        """The aggregate with that id. Raises `NotFoundError` (names kind and id), `DataError`."""

    @abstractmethod
    def get_many(self, aggregate_ids: list[I]) -> list[A]:
        """The aggregates that exist among `aggregate_ids`, in the order given (missing skipped)."""

    @abstractmethod
    def add(self, aggregate: A) -> None:
        """Track a new aggregate; it is inserted at commit (`IntegrityError` if the id or a
        unique value is taken)."""

    @abstractmethod
    def exists(self, aggregate_id: I) -> bool: ...

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def scan(
        self, *, slice: PortfolioSlice = PortfolioSlice.ALL, batch_size: int = 1000
    ) -> Iterator[list[A]]:
        """Stream the aggregates of the kind in `slice` of the book, in batches of at most
        `batch_size`, ordered by id — or, when the slice has a customer range or a due-date
        filter is given, by that column and then id.

        The slice's hash partition is over the aggregate's id; its customer range over the
        aggregate's customer (the customer's own id for customers). Raises
        `ConfigurationError` (a `ValueError`) naming the argument for a batch size below 1
        or a customer range on a kind that has no customer. Subclasses add filters; every
        filter combines with the slice (AND)."""


class CustomerRepository(Repository[Customer, CustomerId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
        status: CustomerStatus | None = None,
    ) -> Iterator[list[Customer]]: ...

    @abstractmethod
    def find(
        self,
        *,
        status: CustomerStatus | None = None,
        home_region: str | None = None,
        industry_code: str | None = None,
        segment: Segment | None = None,
        group_id: GroupId | None = None,
        relationship_manager: UserId | None = None,
        is_remote: bool | None = None,
        limit: int | None = None,
    ) -> list[Customer]: ...

    @abstractmethod
    def by_registration_id(self, registration_id: str) -> Customer | None: ...


class GroupRepository(Repository[CustomerGroup, GroupId]):
    @abstractmethod
    def by_limit_facility(self, facility_id: FacilityId) -> CustomerGroup | None: ...


class CreditFileRepository(Repository[CreditFile, CreditFileId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
    ) -> Iterator[list[CreditFile]]: ...

    @abstractmethod
    def for_customer(self, customer_id: CustomerId) -> CreditFile | None: ...

    @abstractmethod
    def for_customers(self, customer_ids: Sequence[CustomerId]) -> list[CreditFile]:
        """The files of any of these customers (one query for a batch)."""


class FacilityRepository(Repository[Facility, FacilityId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
        status: FacilityStatus | None = None,
        maturing_before: date | None = None,
    ) -> Iterator[list[Facility]]:
        """Customer range filters on the facility's customer (group nodes have none)."""

    @abstractmethod
    def children(self, parent_id: FacilityId) -> list[Facility]: ...

    @abstractmethod
    def path_to_root(self, facility_id: FacilityId) -> list[Facility]:
        """The nodes root → `facility_id`. Raises `NotFoundError` for a missing node."""

    @abstractmethod
    def tree(self, root_id: FacilityId) -> list[Facility]:
        """Every node of the tree under `root_id` (included), parents before children."""

    @abstractmethod
    def find(
        self,
        *,
        customer_id: CustomerId | None = None,
        group_id: GroupId | None = None,
        status: FacilityStatus | None = None,
        level: FacilityLevel | None = None,
        maturing_before: date | None = None,
        limit: int | None = None,
        customer_ids: Sequence[CustomerId] | None = None,
    ) -> list[Facility]:
        """`customer_ids`: facilities of any of these customers (one query for a batch)."""


class DrawdownRepository(Repository[Drawdown, DrawdownId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
        status: LoanStatus | None = None,
        unpaid_due_before: date | None = None,
    ) -> Iterator[list[Drawdown]]: ...

    @abstractmethod
    def find(
        self,
        *,
        facility_id: FacilityId | None = None,
        customer_id: CustomerId | None = None,
        status: LoanStatus | None = None,
        unpaid_due_before: date | None = None,
        limit: int | None = None,
        customer_ids: Sequence[CustomerId] | None = None,
    ) -> list[Drawdown]:
        """`unpaid_due_before`: loans whose oldest unpaid installment is due before that date;
        `customer_ids`: loans of any of these customers (one query for a batch)."""


class ApplicationRepository(Repository[CreditApplication, ApplicationId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
        status: ApplicationStatus | None = None,
    ) -> Iterator[list[CreditApplication]]: ...

    @abstractmethod
    def find(
        self,
        *,
        customer_id: CustomerId | None = None,
        status: ApplicationStatus | None = None,
        maker: UserId | None = None,
        limit: int | None = None,
    ) -> list[CreditApplication]: ...


class RiskEventRepository(Repository[RiskEvent, RiskEventId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
        status: RiskEventStatus | None = None,
        review_due_before: date | None = None,
    ) -> Iterator[list[RiskEvent]]: ...

    @abstractmethod
    def find(
        self,
        *,
        customer_id: CustomerId | None = None,
        facility_id: FacilityId | None = None,
        status: RiskEventStatus | None = None,
        severity: Severity | None = None,
        type: str | None = None,
        review_due_before: date | None = None,
        limit: int | None = None,
        customer_ids: Sequence[CustomerId] | None = None,
    ) -> list[RiskEvent]:
        """`customer_ids`: events of any of these customers (one query for a batch)."""


class InteractionRepository(Repository[Interaction, InteractionId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
    ) -> Iterator[list[Interaction]]: ...

    @abstractmethod
    def find(
        self,
        *,
        customer_id: CustomerId | None = None,
        kind: InteractionKind | None = None,
        open_complaints: bool = False,
        limit: int | None = None,
    ) -> list[Interaction]: ...


class TaskRepository(Repository[FollowUpTask, TaskId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
        status: TaskStatus | None = None,
        due_on_or_before: date | None = None,
    ) -> Iterator[list[FollowUpTask]]: ...

    @abstractmethod
    def find(
        self,
        *,
        customer_id: CustomerId | None = None,
        assignee: UserId | None = None,
        status: TaskStatus | None = None,
        due_on_or_before: date | None = None,
        limit: int | None = None,
    ) -> list[FollowUpTask]: ...


class ClassificationRepository(Repository[ClassificationEntry, ClassificationId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
        as_of: date | None = None,
    ) -> Iterator[list[ClassificationEntry]]: ...

    @abstractmethod
    def history(
        self, *, facility_id: FacilityId, drawdown_id: DrawdownId | None = None
    ) -> list[ClassificationEntry]:
        """Entries for an exposure, oldest as-of date first."""

    @abstractmethod
    def latest(
        self, *, facility_id: FacilityId, drawdown_id: DrawdownId | None = None
    ) -> ClassificationEntry | None: ...

    @abstractmethod
    def find(
        self,
        *,
        customer_id: CustomerId | None = None,
        category: Category | None = None,
        as_of: date | None = None,
        limit: int | None = None,
    ) -> list[ClassificationEntry]: ...


class CollateralRepository(Repository[Collateral, CollateralId]):
    @abstractmethod
    def scan(
        self,
        *,
        slice: PortfolioSlice = PortfolioSlice.ALL,
        batch_size: int = 1000,
        revaluation_due_by: date | None = None,
    ) -> Iterator[list[Collateral]]:
        """`revaluation_due_by`: collateral whose revaluation is due on or before that date."""

    @abstractmethod
    def revaluation_due(self, *, as_of: date) -> list[Collateral]:
        """Collateral whose revaluation is due on or before `as_of`."""


class GuaranteeRepository(Repository[Guarantee, GuaranteeId]):
    @abstractmethod
    def by_guarantor(self, guarantor_id: CustomerId) -> list[Guarantee]: ...
