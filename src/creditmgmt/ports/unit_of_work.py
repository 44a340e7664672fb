"""The unit of work: one atomic change across every repository.

    with uow:
        facility = uow.facilities.get(facility_id)
        ...
        uow.commit()

Leaving the block without `commit()` — normally or by an exception — rolls everything back.
`commit()` writes every new or changed aggregate with an optimistic version check (a stale
aggregate raises `ConflictError` and nothing of the unit is stored) and writes the domain
events the aggregates recorded to the outbox in the same transaction. After a commit the unit
may go on with a new transaction inside the same block.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

from creditmgmt.ports import repositories as repos
from creditmgmt.ports.audit import AuditLog


class UnitOfWork(ABC):
    customers: repos.CustomerRepository
    groups: repos.GroupRepository
    credit_files: repos.CreditFileRepository
    facilities: repos.FacilityRepository
    drawdowns: repos.DrawdownRepository
    applications: repos.ApplicationRepository
    risk_events: repos.RiskEventRepository
    interactions: repos.InteractionRepository
    tasks: repos.TaskRepository
    classifications: repos.ClassificationRepository
    collaterals: repos.CollateralRepository
    guarantees: repos.GuaranteeRepository
    audit: AuditLog

    def __enter__(self) -> Self:
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back what was not committed (`_end`); a unit that checks what it committed raises
        `ChangedAfterCommitError` here when the block ends normally and an aggregate it
        committed was changed after that commit."""
        self._end(normally=exc_type is None)

    @abstractmethod
    def _begin(self) -> None: ...

    def _end(self, *, normally: bool) -> None:
        """Leave the `with` block (`normally`: not by an exception): roll back what was not
        committed. A unit that checks what it committed (`ChangedAfterCommitError`) does it
        here."""
        self.rollback()

    @abstractmethod
    def commit(self) -> None:
        """Store everything atomically. Raises `ConflictError`, `IntegrityError`, `DataError`,
        `StoreUnavailableError`; on any error nothing of the unit was stored."""

    @abstractmethod
    def rollback(self) -> None:
        """Discard everything not committed (a no-op after commit)."""
