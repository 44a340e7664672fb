"""Approval (审批) and what follows it: approve or decline an assessed application
(maker-checker and authority levels), contract it (合同签订) and activate it into the limit
tree."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

from creditmgmt.domain.application import (
    ApplicationStatus,
    CreditApplication,
    RequestKind,
    SelfApprovalError,
)
from creditmgmt.domain.errors import InvalidTransitionError
from creditmgmt.domain.facility import Facility, FacilityLevel, FacilityStatus, LimitTree
from creditmgmt.domain.ids import ApplicationId, FacilityId
from creditmgmt.domain.money import Money
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal, authority_rank
from creditmgmt.services.assessment import total_limit_after
from creditmgmt.services.context import Context
from creditmgmt.services.core import Call, DeskCore
from creditmgmt.services.decisions import decide
from creditmgmt.services.errors import AuthorityError, NotEligibleError
from creditmgmt.services.exposure import customer_exposure, group_root
from creditmgmt.services.facilities import tree_holding

_S = ApplicationStatus


def _pending(
    uow: UnitOfWork, call: Call, ctx: Context, application_id: ApplicationId
) -> CreditApplication:
    """The application to decide, sent for approval if it is only assessed.

    Raises:
        NotFoundError, InvalidTransitionError (not assessed, or decided already).
    """
    app = uow.applications.get(application_id)
    if app.status is _S.ASSESSED:
        app.send_for_approval(by=call.principal.user_id, at=ctx.clock.now())
    if app.status is not _S.PENDING_APPROVAL or app.assessment is None:
        raise InvalidTransitionError(
            f"application {app.id} is {app.status.value}: assess it before deciding"
        )
    return app


def _open_product(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    app: CreditApplication,
    granted: Money,
    today: date,
    ref: str,
) -> FacilityId:
    """Open the product sub-limit of a new credit where `activate` says it goes."""
    customer = uow.customers.get(app.customer_id)
    parent_id = app.target_facility_id
    if parent_id is None:
        masters = [
            m
            for m in uow.facilities.find(customer_id=customer.id, level=FacilityLevel.CUSTOMER)
            if m.status is FacilityStatus.ACTIVE and m.currency == granted.currency
        ]
        parent_id = masters[0].id if masters else None
    if parent_id is not None:
        tree = tree_holding(uow, parent_id)
        parent = tree.node(parent_id)
    else:  # no master limit yet: open one for the amount, under the group root if any
        root = group_root(uow, customer)
        tree = LimitTree(
            [] if root is None else uow.facilities.tree(root.id), complete=root is not None
        )
        parent = Facility.open(
            ctx.ids,
            level=FacilityLevel.CUSTOMER,
            limit=granted,
            start=today,
            term_months=app.term_months,
            parent=None if root is None else tree.node(root.id),
            customer_id=customer.id,
            group_id=customer.group_id,
            ruleset_ref=ref,
        )
        parent.activate(on=today)
        if root is None:
            tree = LimitTree([parent], complete=True)
        else:
            tree.attach(parent)
        uow.facilities.add(parent)
        call.touch(parent)
    product = Facility.open(
        ctx.ids,
        level=FacilityLevel.PRODUCT,
        limit=granted,
        start=today,
        term_months=app.term_months,
        parent=parent,
        customer_id=customer.id,
        product_type=app.product_type,
        ruleset_ref=ref,
    )
    product.activate(on=today)
    tree.attach(product)
    uow.facilities.add(product)
    call.touch(product)
    if customer.status.value == "prospect":
        customer.activate(on=today)
        call.touch(customer)
    return product.id


class ApprovalCalls(DeskCore):
    """Desk calls that decide an assessed application, contract and activate it."""

    def approve(
        self,
        by: Principal,
        application_id: ApplicationId,
        *,
        limit: Money | None = None,
        note: str = "",
    ) -> None:
        """Approve for `limit` (default: as requested), maker-checker and authority level;
        the approved grade becomes the customer's rating.

        Raises:
            PermissionDeniedError: the principal may not approve.
            NotFoundError: unknown application.
            SelfApprovalError: the approver made the application.
            AuthorityError: the level the rule set requires for the granted amount and grade
                is above the approver's authority (names both).
            NotEligibleError: the assessment has knock-outs (named).
            InvalidTransitionError, InvalidValueError (more than requested).
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            ctx = self._ctx
            app = _pending(uow, call, ctx, application_id)
            assessment = app.assessment
            assert assessment is not None
            if app.maker == call.principal.user_id:
                raise SelfApprovalError(
                    f"application {app.id}: {call.principal.user_id} made it and may not approve it"
                )
            if assessment.knock_outs:
                raise NotEligibleError(
                    f"application {app.id} is not eligible: {', '.join(assessment.knock_outs)}"
                )
            granted = limit if limit is not None else app.requested
            rules = ctx.rules.as_of(ctx.clock.today())
            customer = uow.customers.get(app.customer_id)
            current = customer_exposure(uow, customer, granted.currency)
            total_after = total_limit_after(uow, app, current.limit) - app.requested + granted
            level = str(
                decide(
                    call,
                    rules,
                    "approval_authority",
                    {"amount": total_after.amount, "grade": assessment.final_grade},
                ).outputs["level"]
            )
            held = call.principal.authority
            if held is None or authority_rank(held) < authority_rank(level):
                raise AuthorityError(
                    f"application {app.id}: {granted} at grade {assessment.final_grade} needs "
                    f"{level} authority; {call.principal.user_id} holds {held or 'none'}"
                )
            app.approve(
                by=call.principal.user_id,
                at=ctx.clock.now(),
                level=level,
                amount=granted,
                reason=note,
                ruleset_ref=rules.ref,
            )
            # the approved grade is the customer's rating: periodic reviews and rating moves
            # run on it
            customer.rate(assessment.final_grade, on=ctx.clock.today())
            call.touch(app, customer)
            call.note(granted=str(granted), level=level)

        self._write("approve", by, work, subject=f"application:{application_id}")

    def decline(self, by: Principal, application_id: ApplicationId, *, reason: str) -> None:
        """Decline an assessed application (at the decliner's authority level).

        Raises:
            PermissionDeniedError, NotFoundError, SelfApprovalError, InvalidTransitionError.
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            app = _pending(uow, call, self._ctx, application_id)
            assessment = app.assessment
            assert assessment is not None
            app.decline(
                by=call.principal.user_id,
                at=self._ctx.clock.now(),
                level=call.principal.authority or "none",
                reason=reason,
                ruleset_ref=assessment.ruleset_ref,
            )
            call.touch(app)
            call.note(reason=reason)

        self._write("decline", by, work, subject=f"application:{application_id}")

    def contract(self, by: Principal, application_id: ApplicationId) -> None:
        """approved → contracted (合同签订).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError.
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            app = uow.applications.get(application_id)
            app.contract(by=call.principal.user_id, at=self._ctx.clock.now())
            call.touch(app)

        self._write("contract", by, work, subject=f"application:{application_id}")

    def activate(self, by: Principal, application_id: ApplicationId) -> FacilityId:
        """Put an approved (or contracted) application into the limit tree.

        A new credit becomes a product sub-limit: under the named parent, else under the
        customer's master limit, else under a new master limit of the same amount (under the
        group root for a group member). An increase or limit change sets the facility's limit;
        a renewal extends its term by the application's term, from its maturity.

        Raises:
            PermissionDeniedError: the principal may not activate.
            NotFoundError: unknown application.
            InvalidTransitionError: not approved.
            SubLimitExceedsParentError, LimitBelowUtilisationError, TreeStructureError,
            FacilityNotActiveError: the tree cannot take it (nothing changed).
        """

        def work(uow: UnitOfWork, call: Call) -> FacilityId:
            ctx = self._ctx
            app = uow.applications.get(application_id)
            if app.status is _S.APPROVED:
                app.contract(by=call.principal.user_id, at=ctx.clock.now())
            if (
                app.status is not _S.CONTRACTED
                or app.decision is None
                or app.decision.amount is None
            ):
                raise InvalidTransitionError(
                    f"application {app.id} is {app.status.value}: only an approved application "
                    "is activated"
                )
            granted = app.decision.amount
            today = ctx.clock.today()
            ref = app.decision.ruleset_ref
            if app.request_kind is RequestKind.NEW:
                facility_id = _open_product(uow, call, ctx, app, granted, today, ref)
            else:
                assert app.target_facility_id is not None
                target = uow.facilities.get(app.target_facility_id)
                root_id = uow.facilities.path_to_root(target.id)[0].id
                nodes = uow.facilities.tree(root_id)
                if app.request_kind is RequestKind.RENEWAL:
                    node = next(n for n in nodes if n.id == target.id)
                    start = max(node.maturity_date, today)
                    node.renew(maturity=start + relativedelta(months=app.term_months), on=today)
                else:
                    LimitTree(nodes, complete=True).change_limit(
                        target.id, granted, on=today, reason=f"application {app.id}"
                    )
                    node = next(n for n in nodes if n.id == target.id)
                call.touch(node)
                facility_id = target.id
            app.activate(facility_id, by=call.principal.user_id, at=ctx.clock.now())
            call.touch(app)
            call.decided(ref)
            return facility_id

        return self._write("activate", by, work, subject=f"application:{application_id}")


__all__ = ["ApprovalCalls"]
