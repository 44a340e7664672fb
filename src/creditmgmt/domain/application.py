"""Credit applications (授信申请) and their decision workflow.

draft → submitted → under_review → assessed → pending_approval → approved | declined;
withdrawn from any state before a decision; approved → contracted → activated (the facility
is opened then). Maker-checker: the approver is never the maker (`SelfApprovalError`). Every
step is kept in the application's audit trail (who, when, what, why) and names the rule-set
version used for the assessment and the decision.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import attrs

from creditmgmt.domain.errors import (
    DomainError,
    InvalidTransitionError,
    InvalidValueError,
    check_transition,
)
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import ApplicationId, CustomerId, FacilityId, IdSource, UserId
from creditmgmt.domain.money import Money, check_positive
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.schedule import check_term
from creditmgmt.domain.text import CODE_MAX, NOTE_MAX, REF_MAX, check_text, text


class SelfApprovalError(DomainError):
    """The maker of an application tried to approve or decline it (maker-checker)."""

    default_message = "the maker may not decide their own application"


class MissingDocumentsError(DomainError):
    """An application cannot move on while required documents are outstanding."""

    default_message = "required documents missing"


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    ASSESSED = "assessed"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    CONTRACTED = "contracted"
    ACTIVATED = "activated"

    @property
    def is_terminal(self) -> bool:
        return self in {
            ApplicationStatus.DECLINED,
            ApplicationStatus.WITHDRAWN,
            ApplicationStatus.ACTIVATED,
        }


_S = ApplicationStatus


class RequestKind(StrEnum):
    """What an application asks for: a new facility, a higher limit on one, a renewal of
    its term, or any limit change (up or down, 额度调整)."""

    NEW = "new"
    INCREASE = "increase"
    RENEWAL = "renewal"
    LIMIT_CHANGE = "limit_change"


_PRE_DECISION = frozenset(
    {_S.DRAFT, _S.SUBMITTED, _S.UNDER_REVIEW, _S.ASSESSED, _S.PENDING_APPROVAL}
)
_TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    _S.DRAFT: frozenset({_S.SUBMITTED, _S.WITHDRAWN}),
    _S.SUBMITTED: frozenset({_S.UNDER_REVIEW, _S.WITHDRAWN}),
    _S.UNDER_REVIEW: frozenset({_S.ASSESSED, _S.WITHDRAWN}),
    _S.ASSESSED: frozenset({_S.PENDING_APPROVAL, _S.WITHDRAWN}),
    _S.PENDING_APPROVAL: frozenset({_S.APPROVED, _S.DECLINED, _S.WITHDRAWN}),
    _S.APPROVED: frozenset({_S.CONTRACTED}),
    _S.CONTRACTED: frozenset({_S.ACTIVATED}),
    _S.DECLINED: frozenset(),
    _S.WITHDRAWN: frozenset(),
    _S.ACTIVATED: frozenset(),
}


@attrs.frozen(kw_only=True)
class Assessment:
    """The rating outcome: score → PD → grade, possibly overridden with reason and approver."""

    score: Decimal | None
    pd: Decimal
    grade: str = attrs.field(validator=text(CODE_MAX))
    ruleset_ref: str = attrs.field(validator=text(REF_MAX))
    override_grade: str | None = attrs.field(default=None, validator=text(CODE_MAX, optional=True))
    override_reason: str = attrs.field(default="", validator=text(NOTE_MAX))
    override_by: UserId | None = None
    #: reasons the application is not eligible (empty: eligible)
    knock_outs: tuple[str, ...] = attrs.field(default=(), validator=text(NOTE_MAX))
    #: the limit the rule set recommends for the customer
    recommended_limit: Money | None = None
    #: approval authority level the credit needs (branch, regional, head_office, board)
    required_level: str | None = attrs.field(default=None, validator=text(CODE_MAX, optional=True))
    #: what is left under the concentration caps after the request (None: not checked)
    concentration_headroom: Money | None = None
    #: where the decision's inputs are kept for replay (the desk's audit entry id)
    decision_id: str | None = attrs.field(default=None, validator=text(REF_MAX, optional=True))

    @property
    def eligible(self) -> bool:
        return not self.knock_outs

    def __attrs_post_init__(self) -> None:
        if not Decimal(0) <= self.pd <= Decimal(1):
            raise InvalidValueError(f"pd must be within [0, 1], got {self.pd}")
        if self.override_grade is not None and (not self.override_reason or not self.override_by):
            raise InvalidValueError("a rating override needs a reason and an approver")

    @property
    def final_grade(self) -> str:
        return self.override_grade or self.grade


@attrs.frozen(kw_only=True)
class Decision:
    approved: bool
    by: UserId
    # approval authority level (branch, regional, head_office, ...)
    level: str = attrs.field(validator=text(CODE_MAX))
    amount: Money | None
    conditions: tuple[str, ...] = attrs.field(validator=text(NOTE_MAX))
    reason: str = attrs.field(validator=text(NOTE_MAX))
    ruleset_ref: str = attrs.field(validator=text(REF_MAX))
    at: datetime


@attrs.frozen(kw_only=True)
class TrailEntry:
    at: datetime
    actor: UserId
    action: str = attrs.field(validator=text(REF_MAX))
    note: str = attrs.field(default="", validator=text(NOTE_MAX))


@domain_event
class ApplicationStatusChanged(DomainEvent):
    previous: ApplicationStatus
    status: ApplicationStatus
    actor: str
    at: datetime


@domain_event
class ApplicationDecided(DomainEvent):
    approved: bool
    amount: Money | None
    level: str
    ruleset_ref: str


@attrs.define(kw_only=True)
class CreditApplication(Aggregate):
    """An application for a credit facility. Start with `CreditApplication.draft(...)`."""

    id: ApplicationId
    customer_id: CustomerId
    product_type: ProductType
    requested: Money
    term_months: int
    purpose: str = attrs.field(validator=text(NOTE_MAX))
    maker: UserId
    status: ApplicationStatus = ApplicationStatus.DRAFT
    documents_required: tuple[str, ...] = attrs.field(default=(), validator=text(REF_MAX))
    documents_received: tuple[str, ...] = attrs.field(default=(), validator=text(REF_MAX))
    request_kind: RequestKind = RequestKind.NEW
    #: the facility a change or renewal is for, or the parent a new sub-limit goes under
    target_facility_id: FacilityId | None = None
    assessment: Assessment | None = None
    decision: Decision | None = None
    facility_id: FacilityId | None = None
    trail: tuple[TrailEntry, ...] = ()

    @classmethod
    def draft(
        cls,
        ids: IdSource,
        *,
        customer_id: CustomerId,
        product_type: ProductType,
        requested: Money,
        term_months: int,
        purpose: str,
        maker: UserId,
        at: datetime,
        documents_required: tuple[str, ...] = (),
        request_kind: RequestKind = RequestKind.NEW,
        target_facility_id: FacilityId | None = None,
    ) -> CreditApplication:
        """Raises `InvalidValueError` for a non-positive amount, a term that is not 1 to
        `MAX_TERM_MONTHS` months, or a change or renewal that names no facility."""
        if request_kind is not RequestKind.NEW and target_facility_id is None:
            raise InvalidValueError(f"a {request_kind.value} application needs the facility")
        check_positive("requested amount", requested)
        check_term(term_months)
        app = cls(
            id=ApplicationId.new(ids),
            customer_id=customer_id,
            product_type=product_type,
            requested=requested,
            term_months=term_months,
            purpose=purpose,
            maker=maker,
            documents_required=documents_required,
            request_kind=request_kind,
            target_facility_id=target_facility_id,
        )
        app.trail = (TrailEntry(at=at, actor=maker, action="drafted"),)
        return app

    @property
    def missing_documents(self) -> tuple[str, ...]:
        return tuple(d for d in self.documents_required if d not in self.documents_received)

    def _move(self, target: ApplicationStatus, actor: UserId, at: datetime, note: str) -> None:
        check_text(note, "note", max_length=NOTE_MAX)
        check_transition(f"application {self.id}", _TRANSITIONS, self.status, target)
        previous, self.status = self.status, target
        self.trail = (*self.trail, TrailEntry(at=at, actor=actor, action=target.value, note=note))
        self._record(
            ApplicationStatusChanged(
                aggregate_id=str(self.id), previous=previous, status=target, actor=str(actor), at=at
            )
        )

    def receive_document(self, name: str) -> None:
        """Record a received document.

        Raises:
            InvalidTransitionError: the application is declined, withdrawn or activated.
        """
        if self.status.is_terminal:
            raise InvalidTransitionError(f"application {self.id} is {self.status.value}")
        if name not in self.documents_received:
            self.documents_received = (*self.documents_received, name)

    def submit(self, *, by: UserId, at: datetime) -> None:
        """draft → submitted (by the maker).

        Raises:
            InvalidTransitionError: not a draft.
        """
        self._move(_S.SUBMITTED, by, at, "")

    def start_review(self, *, by: UserId, at: datetime) -> None:
        """submitted → under_review (资料审查).

        Raises:
            InvalidTransitionError: not submitted.
        """
        self._move(_S.UNDER_REVIEW, by, at, "")

    def record_assessment(self, assessment: Assessment, *, by: UserId, at: datetime) -> None:
        """under_review → assessed (资料审查 then 信用评估).

        Raises:
            MissingDocumentsError: required documents not yet received.
            InvalidTransitionError: not under review.
        """
        if self.status is _S.UNDER_REVIEW and self.missing_documents:
            raise MissingDocumentsError(
                f"application {self.id} misses {', '.join(self.missing_documents)}"
            )
        note = f"grade {assessment.final_grade} ({assessment.ruleset_ref})"
        self._move(_S.ASSESSED, by, at, note)
        self.assessment = assessment

    def send_for_approval(self, *, by: UserId, at: datetime) -> None:
        """assessed → pending_approval.

        Raises:
            InvalidTransitionError: not assessed.
        """
        self._move(_S.PENDING_APPROVAL, by, at, "")

    def _check_checker(self, approver: UserId) -> None:
        if approver == self.maker:
            raise SelfApprovalError(
                f"application {self.id}: {approver} made it and may not decide it"
            )

    def _decide(
        self,
        target: ApplicationStatus,
        by: UserId,
        at: datetime,
        level: str,
        amount: Money | None,
        conditions: tuple[str, ...],
        reason: str,
        ruleset_ref: str,
    ) -> None:
        """The checker's decision, approved or declined as `target` says: the move, the
        `Decision` kept on the application and the `ApplicationDecided` event."""
        self._move(target, by, at, reason)
        approved = target is _S.APPROVED
        self.decision = Decision(
            approved=approved,
            by=by,
            level=level,
            amount=amount,
            conditions=conditions,
            reason=reason,
            ruleset_ref=ruleset_ref,
            at=at,
        )
        self._record(
            ApplicationDecided(
                aggregate_id=str(self.id),
                approved=approved,
                amount=amount,
                level=level,
                ruleset_ref=ruleset_ref,
            )
        )

    def approve(
        self,
        *,
        by: UserId,
        at: datetime,
        level: str,
        amount: Money | None = None,
        conditions: tuple[str, ...] = (),
        reason: str = "",
        ruleset_ref: str,
    ) -> None:
        """pending_approval → approved for `amount` (default: as requested, never more).

        Raises:
            SelfApprovalError, InvalidTransitionError, InvalidValueError (amount above request).
        """
        self._check_checker(by)
        granted = amount if amount is not None else self.requested
        if granted > self.requested or not granted.is_positive:
            raise InvalidValueError(
                f"application {self.id}: approved {granted} must be positive and at most the "
                f"{self.requested} requested"
            )
        self._decide(_S.APPROVED, by, at, level, granted, conditions, reason, ruleset_ref)

    def decline(
        self, *, by: UserId, at: datetime, level: str, reason: str, ruleset_ref: str
    ) -> None:
        """pending_approval → declined. Raises `SelfApprovalError`, `InvalidTransitionError`."""
        self._check_checker(by)
        self._decide(_S.DECLINED, by, at, level, None, (), reason, ruleset_ref)

    def withdraw(self, *, by: UserId, at: datetime, reason: str = "") -> None:
        """Any state before a decision → withdrawn.

        Raises:
            InvalidTransitionError: already decided (approved, declined, contracted, activated) or withdrawn.
        """
        if self.status not in _PRE_DECISION:
            raise InvalidTransitionError(
                f"application {self.id} is {self.status.value}: too late to withdraw"
            )
        self._move(_S.WITHDRAWN, by, at, reason)

    def contract(self, *, by: UserId, at: datetime) -> None:
        """approved → contracted (合同签订).

        Raises:
            InvalidTransitionError: not approved.
        """
        self._move(_S.CONTRACTED, by, at, "")

    def activate(self, facility_id: FacilityId, *, by: UserId, at: datetime) -> None:
        """contracted → activated, naming the facility opened for it.

        Raises:
            InvalidTransitionError: not contracted.
        """
        self._move(_S.ACTIVATED, by, at, str(facility_id))
        self.facility_id = facility_id
