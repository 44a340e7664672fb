"""`CreditDesk`: what host code calls. One method per use case; each use case is written once,
as a method of the mixin beside its domain (`OnboardingCalls` in `services.onboarding`,
`ApplicationCalls` in `services.applications`, `FacilityCalls`, `MovementCalls`, …), whose
body is the call's unit of work. Each call is one unit of work (all of it or nothing),
checked against the role policy and audited (see `services.core`).

Build one with `creditmgmt.bootstrap.open_desk(...)`.
"""

from __future__ import annotations

from creditmgmt.ports.audit import AuditEntry, AuditVerification, verify_chain
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal
from creditmgmt.services.applications import ApplicationCalls
from creditmgmt.services.core import Call
from creditmgmt.services.credit_files import CreditFileCalls
from creditmgmt.services.drawdowns import MovementCalls
from creditmgmt.services.facilities import FacilityCalls
from creditmgmt.services.monitoring import MonitoringCalls
from creditmgmt.services.onboarding import OnboardingCalls
from creditmgmt.services.portfolio import PortfolioCalls
from creditmgmt.services.relationship import RelationshipCalls
from creditmgmt.services.reports import ReportCalls


class CreditDesk(
    OnboardingCalls,
    CreditFileCalls,
    RelationshipCalls,
    ApplicationCalls,
    MonitoringCalls,
    ReportCalls,
    PortfolioCalls,
    FacilityCalls,
    MovementCalls,
):
    """The credit desk (see SERVICES.md for the contract). Every call takes the acting
    `Principal` as `by` and raises `PermissionDeniedError` when its roles do not allow it
    (after writing an audit record of the refusal, and nothing else)."""

    # audit ---------------------------------------------------------------------------------
    def verify_audit(self) -> AuditVerification:
        """Recompute the audit chain; names the first entry that does not match.

        Raises:
            StoreUnavailableError, DataError (an entry that cannot be read at all).
        """

        def read(uow: UnitOfWork) -> AuditVerification:
            return verify_chain(uow.audit.entries(), uow.audit.head())

        with self._store.unit_of_work() as uow:
            return read(uow)

    def audit_trail(self, by: Principal, *, subject: str | None = None) -> list[AuditEntry]:
        """Committed audit entries (of one subject), oldest first. Raises
        PermissionDeniedError."""
        return self._read(
            "verify_audit",
            by,
            lambda uow: uow.audit.entries(subject=subject),
            subject=subject or "",
        )


__all__ = ["Call", "CreditDesk"]
