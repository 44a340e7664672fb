"""`CreditDesk`: what host code calls. One method per use case, a thin facade over the
use-case functions of this package; each call is one unit of work (all of it or nothing),
checked against the role policy and audited (see `services.core`).

Build one with `creditmgmt.bootstrap.open_desk(...)`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creditmgmt.domain.application import Assessment
from creditmgmt.domain.ids import (
    ApplicationId,
    CustomerId,
    DrawdownId,
    FacilityId,
    GroupId,
)
from creditmgmt.domain.loan import Allocation
from creditmgmt.domain.money import Money
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.schedule import RepaymentSchedule
from creditmgmt.ports.audit import AuditEntry, AuditVerification, verify_chain
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services import applications as apps
from creditmgmt.services import drawdowns as moves
from creditmgmt.services import facilities as limits
from creditmgmt.services.access import Principal
from creditmgmt.services.core import Call, Keyed
from creditmgmt.services.credit_files import CreditFileCalls
from creditmgmt.services.decisions import Replay
from creditmgmt.services.facilities import CustomerExposureView, FacilityView
from creditmgmt.services.monitoring import MonitoringCalls
from creditmgmt.services.onboarding import OnboardingCalls
from creditmgmt.services.portfolio import PortfolioCalls
from creditmgmt.services.relationship import RelationshipCalls
from creditmgmt.services.reports import ReportCalls


class CreditDesk(
    OnboardingCalls,
    CreditFileCalls,
    RelationshipCalls,
    MonitoringCalls,
    ReportCalls,
    PortfolioCalls,
):
    """The credit desk (see SERVICES.md for the contract). Every call takes the acting
    `Principal` as `by` and raises `PermissionDeniedError` when its roles do not allow it
    (after writing an audit record of the refusal, and nothing else)."""

    # applications ---------------------------------------------------------------------------
    def submit_application(
        self,
        by: Principal,
        *,
        customer_id: CustomerId,
        product_type: ProductType | str,
        requested: Money,
        term_months: int,
        purpose: str,
        parent: FacilityId | None = None,
        documents_required: tuple[str, ...] | None = None,
    ) -> ApplicationId:
        """Draft and submit a new credit (see `applications.submit_application`).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidValueError, InvalidTransitionError.
        """
        return self._perform(
            "submit_application",
            by,
            f"customer:{customer_id}",
            apps.submit_application,
            customer_id=customer_id,
            product_type=product_type,
            requested=requested,
            term_months=term_months,
            purpose=purpose,
            parent=parent,
            documents_required=documents_required,
        )

    def receive_document(self, by: Principal, application_id: ApplicationId, name: str) -> None:
        """Tick a document off the application's checklist.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError.
        """
        self._perform(
            "receive_document",
            by,
            f"application:{application_id}",
            apps.receive_document,
            application_id,
            name,
        )

    def withdraw_application(
        self, by: Principal, application_id: ApplicationId, *, reason: str = ""
    ) -> None:
        """Withdraw before a decision. Raises PermissionDeniedError, InvalidTransitionError."""
        self._perform(
            "withdraw_application",
            by,
            f"application:{application_id}",
            apps.withdraw_application,
            application_id,
            reason=reason,
        )

    def assess(
        self,
        by: Principal,
        application_id: ApplicationId,
        *,
        pd: Decimal | str | None = None,
        collateral_type: str = "none",
        collateral_value: Money | None = None,
        internet_loan: bool = False,
        lender_local_incorporated: bool = False,
        industry_risk: str | None = None,
    ) -> Assessment:
        """Rate and size an application (see `applications.assess`); `pd` stands in for a
        scorecard the rule set lacks.

        Raises:
            PermissionDeniedError, NotFoundError, MissingDocumentsError, AssessmentError,
            InvalidTransitionError.
        """
        return self._perform(
            "assess",
            by,
            f"application:{application_id}",
            apps.assess,
            application_id,
            pd=None if pd is None else Decimal(pd),
            collateral_type=collateral_type,
            collateral_value=collateral_value,
            internet_loan=internet_loan,
            lender_local_incorporated=lender_local_incorporated,
            industry_risk=industry_risk,
        )

    def approve(
        self,
        by: Principal,
        application_id: ApplicationId,
        *,
        limit: Money | None = None,
        note: str = "",
    ) -> None:
        """Approve (maker-checker, authority level). Raises PermissionDeniedError,
        SelfApprovalError, AuthorityError, NotEligibleError, InvalidTransitionError."""
        self._perform(
            "approve",
            by,
            f"application:{application_id}",
            apps.approve,
            application_id,
            limit=limit,
            note=note,
        )

    def decline(self, by: Principal, application_id: ApplicationId, *, reason: str) -> None:
        """Decline. Raises PermissionDeniedError, SelfApprovalError, InvalidTransitionError."""
        self._perform(
            "decline",
            by,
            f"application:{application_id}",
            apps.decline,
            application_id,
            reason=reason,
        )

    def contract(self, by: Principal, application_id: ApplicationId) -> None:
        """approved → contracted. Raises PermissionDeniedError, InvalidTransitionError."""
        self._perform(
            "contract", by, f"application:{application_id}", apps.contract, application_id
        )

    def activate(self, by: Principal, application_id: ApplicationId) -> FacilityId:
        """Put the approved credit into the limit tree (see `applications.activate`).

        Raises:
            PermissionDeniedError, InvalidTransitionError (not approved),
            SubLimitExceedsParentError, LimitBelowUtilisationError, TreeStructureError.
        """
        return self._perform(
            "activate", by, f"application:{application_id}", apps.activate, application_id
        )

    def request_limit_change(
        self,
        by: Principal,
        facility_id: FacilityId,
        *,
        new_limit: Money,
        reason: str,
        renewal_months: int | None = None,
    ) -> ApplicationId:
        """An application to change (or, with `renewal_months`, renew) a facility's limit,
        decided like any application.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidValueError, InvalidTransitionError.
        """
        return self._perform(
            "request_limit_change",
            by,
            f"facility:{facility_id}",
            apps.request_limit_change,
            facility_id,
            new_limit=new_limit,
            reason=reason,
            renewal_months=renewal_months,
        )

    def replay(self, by: Principal, decision_id: str) -> Replay:
        """Evaluate a stored decision (an assessment's `decision_id`, or any audited call
        that took one) again under its own rule set version and inputs.

        Raises:
            PermissionDeniedError, NotFoundError, RuleSetNotFoundError.
        """
        return self._read(
            "replay", by, lambda uow: apps.replay(uow, self._ctx, decision_id), subject=decision_id
        )

    # limits and movements ------------------------------------------------------------------
    def open_limit(
        self,
        by: Principal,
        *,
        limit: Money,
        start: date,
        term_months: int,
        customer_id: CustomerId | None = None,
        group_id: GroupId | None = None,
        parent: FacilityId | None = None,
        product_type: ProductType | str | None = None,
        revolving: bool | None = None,
    ) -> FacilityId:
        """Take over an existing limit without an application (admin; see
        `facilities.open_limit`).

        Raises:
            PermissionDeniedError, NotFoundError, TreeStructureError,
            SubLimitExceedsParentError, CurrencyMismatchError, InvalidValueError.
        """
        return self._perform(
            "open_limit",
            by,
            "",
            limits.open_limit,
            limit=limit,
            start=start,
            term_months=term_months,
            customer_id=customer_id,
            group_id=group_id,
            parent=parent,
            product_type=product_type,
            revolving=revolving,
        )

    def draw(
        self,
        by: Principal,
        facility_id: FacilityId,
        amount: Money,
        *,
        key: str,
        schedule: RepaymentSchedule | None = None,
    ) -> DrawdownId:
        """Draw on a facility (see `drawdowns.draw`); a repeated `key` returns the first
        drawdown and moves nothing.

        Raises:
            PermissionDeniedError, LimitExceededError, ConcentrationCapError,
            FacilityNotActiveError, FacilityOutsideTermError, IdempotencyKeyError,
            NotFoundError, CurrencyMismatchError, InvalidValueError.
        """
        return self._draw(by, facility_id, amount, key, schedule, reserved=False)

    def repay(
        self,
        by: Principal,
        facility_id: FacilityId,
        amount: Money,
        *,
        key: str,
        on: date | None = None,
    ) -> Allocation:
        """Apply a repayment (see `drawdowns.repay`); a repeated `key` returns the first
        allocation and moves nothing.

        Raises:
            PermissionDeniedError, OverpaymentError, IdempotencyKeyError, NotFoundError,
            CurrencyMismatchError, FacilityNotActiveError.
        """
        return self._write(
            "repay",
            by,
            lambda uow, call: moves.repay(
                uow, call, self._ctx, facility_id, amount, on=on, reference=key
            ),
            subject=f"facility:{facility_id}",
            keyed=Keyed(
                key,
                {"amount": str(amount), "on": None if on is None else on.isoformat()},
                moves.allocation_to_json,
                moves.allocation_from_json,
            ),
        )

    def reserve(self, by: Principal, facility_id: FacilityId, amount: Money, *, key: str) -> str:
        """Reserve headroom (step one of reserve → commit or release); returns the key.

        Raises:
            PermissionDeniedError, LimitExceededError, ConcentrationCapError,
            FacilityNotActiveError, IdempotencyKeyError.
        """

        def work(uow: UnitOfWork, call: Call) -> str:
            moves.reserve(uow, call, self._ctx, facility_id, amount)
            return key

        return self._write(
            "reserve",
            by,
            work,
            subject=f"facility:{facility_id}",
            keyed=Keyed(key, {"amount": str(amount)}, str, str),
        )

    def commit_reservation(
        self,
        by: Principal,
        facility_id: FacilityId,
        amount: Money,
        *,
        key: str,
        schedule: RepaymentSchedule | None = None,
    ) -> DrawdownId:
        """Turn a reservation into a drawdown in one unit of work (release, then draw).

        Raises:
            PermissionDeniedError, RepaymentExceedsDrawnError (more than reserved), and the
            refusals of `draw`.
        """
        return self._draw(by, facility_id, amount, key, schedule, reserved=True)

    def _draw(
        self,
        by: Principal,
        facility_id: FacilityId,
        amount: Money,
        key: str,
        schedule: RepaymentSchedule | None,
        *,
        reserved: bool,
    ) -> DrawdownId:
        """The keyed `draw` call of `draw` and `commit_reservation` (a reserved amount is
        released first, and its key's request says so)."""
        request: dict[str, object] = {"amount": str(amount)}
        if reserved:
            request["reserved"] = True
        return self._write(
            "draw",
            by,
            lambda uow, call: moves.draw(
                uow, call, self._ctx, facility_id, amount, schedule=schedule, release_first=reserved
            ),
            subject=f"facility:{facility_id}",
            keyed=Keyed(key, request, str, DrawdownId),
        )

    def release(self, by: Principal, facility_id: FacilityId, amount: Money, *, key: str) -> None:
        """Release a reservation. Raises PermissionDeniedError, RepaymentExceedsDrawnError."""
        self._write(
            "release",
            by,
            lambda uow, call: moves.release(uow, call, self._ctx, facility_id, amount),
            subject=f"facility:{facility_id}",
            keyed=Keyed(key, {"amount": str(amount)}, lambda _: None, lambda _: None),
        )

    def _status(self, action: str, by: Principal, facility_id: FacilityId, reason: str) -> None:
        self._perform(
            action,
            by,
            f"facility:{facility_id}",
            limits.change_status,
            facility_id,
            action=action,
            reason=reason,
        )

    def freeze(self, by: Principal, facility_id: FacilityId, *, reason: str) -> None:
        """Freeze (no drawdowns). Raises PermissionDeniedError, InvalidTransitionError."""
        self._status("freeze", by, facility_id, reason)

    def unfreeze(self, by: Principal, facility_id: FacilityId, *, reason: str) -> None:
        """Lift a freeze. Raises PermissionDeniedError, InvalidTransitionError."""
        self._status("unfreeze", by, facility_id, reason)

    def suspend(self, by: Principal, facility_id: FacilityId, *, reason: str) -> None:
        """Suspend on a risk event. Raises PermissionDeniedError, InvalidTransitionError."""
        self._status("suspend", by, facility_id, reason)

    def resume(self, by: Principal, facility_id: FacilityId, *, reason: str) -> None:
        """Resume a suspended facility. Raises PermissionDeniedError, InvalidTransitionError."""
        self._status("resume", by, facility_id, reason)

    def close(
        self,
        by: Principal | None = None,
        facility_id: FacilityId | None = None,
        *,
        reason: str = "",
    ) -> None:
        """`close(by, facility_id, reason=...)` closes a facility with nothing drawn or
        reserved; `close()` with no arguments closes the desk (releases the store).

        Raises:
            PermissionDeniedError, InvalidTransitionError (money still drawn), TypeError
            (a facility without `by` or the other way round).
        """
        if by is None and facility_id is None:
            super().close()
            return
        if by is None or facility_id is None:
            raise TypeError("close(by, facility_id, reason=...) needs both by and facility_id")
        self._status("close", by, facility_id, reason)

    # read models ---------------------------------------------------------------------------
    def facility(self, by: Principal, facility_id: FacilityId) -> FacilityView:
        """One facility. Raises PermissionDeniedError, NotFoundError."""
        return self._read(
            "facility",
            by,
            lambda uow: FacilityView.of(uow.facilities.get(facility_id)),
            subject=f"facility:{facility_id}",
        )

    def tree(self, by: Principal, root_id: FacilityId) -> list[FacilityView]:
        """Every node under `root_id` (included), parents first, read in one snapshot.

        Raises:
            PermissionDeniedError, NotFoundError.
        """
        return self._read(
            "tree",
            by,
            lambda uow: [FacilityView.of(f) for f in uow.facilities.tree(root_id)],
            subject=f"facility:{root_id}",
        )

    def customer_exposure(self, by: Principal, customer_id: CustomerId) -> CustomerExposureView:
        """Drawn, reserved and available per node up to the group. Raises
        PermissionDeniedError, NotFoundError."""
        return self._read(
            "customer_exposure",
            by,
            lambda uow: limits.customer_exposure(uow, customer_id),
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
