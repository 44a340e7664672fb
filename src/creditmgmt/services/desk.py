"""`CreditDesk`: what host code calls. One method per use case, a thin facade over the
use-case functions of this package; each call is one unit of work (all of it or nothing),
checked against the role policy and audited (see `services.core`).

Build one with `creditmgmt.bootstrap.open_desk(...)`.
"""

from __future__ import annotations

from datetime import date, datetime

from creditmgmt.domain.ids import (
    CustomerId,
    InteractionId,
    RiskEventId,
    TaskId,
    UserId,
)
from creditmgmt.domain.interaction import Channel, InteractionKind
from creditmgmt.ports.audit import AuditEntry, AuditVerification, verify_chain
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services import relationship as rel
from creditmgmt.services.access import Principal
from creditmgmt.services.applications import ApplicationCalls
from creditmgmt.services.core import Call
from creditmgmt.services.credit_files import CreditFileCalls
from creditmgmt.services.drawdowns import MovementCalls
from creditmgmt.services.facilities import FacilityCalls
from creditmgmt.services.monitoring import MonitoringCalls
from creditmgmt.services.onboarding import OnboardingCalls
from creditmgmt.services.portfolio import PortfolioCalls
from creditmgmt.services.relationship import TimelineItem
from creditmgmt.services.reports import ReportCalls


class CreditDesk(
    OnboardingCalls,
    CreditFileCalls,
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

    # risk events and relationship work ---------------------------------------------------------
    def acknowledge(self, by: Principal, risk_event_id: RiskEventId, *, note: str = "") -> None:
        """open → acknowledged. Raises PermissionDeniedError, InvalidTransitionError."""
        self._risk("acknowledge", by, risk_event_id, note)

    def resolve(self, by: Principal, risk_event_id: RiskEventId, *, note: str) -> None:
        """→ resolved. Raises PermissionDeniedError, InvalidTransitionError."""
        self._risk("resolve", by, risk_event_id, note)

    def escalate(self, by: Principal, risk_event_id: RiskEventId, *, note: str) -> None:
        """→ escalated. Raises PermissionDeniedError, InvalidTransitionError."""
        self._risk("escalate", by, risk_event_id, note)

    def _risk(self, action: str, by: Principal, event_id: RiskEventId, note: str) -> None:
        self._perform(
            action,
            by,
            f"risk_event:{event_id}",
            rel.handle_risk_event,
            event_id,
            action=action,
            note=note,
        )

    def watchlist(self, by: Principal, customer_id: CustomerId, *, reason: str) -> None:
        """Put a customer on the watch list. Raises PermissionDeniedError,
        InvalidTransitionError."""
        self._perform(
            "watchlist", by, f"customer:{customer_id}", rel.watchlist, customer_id, reason=reason
        )

    def log_interaction(
        self,
        by: Principal,
        customer_id: CustomerId,
        *,
        kind: InteractionKind | str,
        at: datetime,
        summary: str,
        channel: Channel | str = Channel.PHONE,
        survey_score: int | None = None,
        follow_up: date | None = None,
    ) -> InteractionId:
        """Log a contact, visit, reminder, complaint or survey (see
        `relationship.log_interaction`).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidValueError.
        """
        return self._perform(
            "log_interaction",
            by,
            f"customer:{customer_id}",
            rel.log_interaction,
            customer_id,
            kind=kind,
            at=at,
            summary=summary,
            channel=channel,
            survey_score=survey_score,
            follow_up=follow_up,
        )

    def resolve_complaint(
        self, by: Principal, interaction_id: InteractionId, *, resolution: str
    ) -> None:
        """Answer a complaint. Raises PermissionDeniedError, InvalidTransitionError."""
        self._perform(
            "resolve_complaint",
            by,
            f"interaction:{interaction_id}",
            rel.resolve_complaint,
            interaction_id,
            resolution=resolution,
        )

    def schedule_task(
        self,
        by: Principal,
        customer_id: CustomerId,
        *,
        title: str,
        due: date,
        assignee: UserId | str | None = None,
    ) -> TaskId:
        """Schedule a follow-up task. Raises PermissionDeniedError, InvalidValueError."""
        return self._perform(
            "schedule_task",
            by,
            f"customer:{customer_id}",
            rel.schedule_task,
            customer_id,
            title=title,
            due=due,
            assignee=assignee,
        )

    def complete_task(self, by: Principal, task_id: TaskId) -> None:
        """Complete a task. Raises PermissionDeniedError, InvalidTransitionError."""
        self._perform("complete_task", by, f"task:{task_id}", rel.complete_task, task_id)

    def timeline(self, by: Principal, customer_id: CustomerId) -> list[TimelineItem]:
        """The customer's interactions, tasks, risk events and applications, oldest first.

        Raises:
            PermissionDeniedError, NotFoundError.
        """
        return self._read(
            "timeline",
            by,
            lambda uow: rel.timeline(uow, customer_id),
            subject=f"customer:{customer_id}",
        )

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
