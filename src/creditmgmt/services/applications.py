"""Applications and approval (授信申请与审批): submit, document checklist, assess, approve or
decline (maker-checker and authority levels), contract, activate into the limit tree, limit
changes and renewals through the same path, and replaying a stored decision."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from creditmgmt.domain.application import (
    ApplicationStatus,
    Assessment,
    CreditApplication,
    MissingDocumentsError,
    RequestKind,
    SelfApprovalError,
)
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.errors import InvalidTransitionError
from creditmgmt.domain.facility import Facility, FacilityLevel, FacilityStatus, LimitTree
from creditmgmt.domain.ids import ApplicationId, CustomerId, FacilityId
from creditmgmt.domain.money import Money, quantize
from creditmgmt.domain.products import ProductType
from creditmgmt.ports.errors import NotFoundError
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import authority_rank
from creditmgmt.services.context import Context
from creditmgmt.services.core import Call
from creditmgmt.services.decisions import (
    Replay,
    block_inputs,
    decide,
    kept_decisions,
    replay_decisions,
)
from creditmgmt.services.errors import AssessmentError, AuthorityError, NotEligibleError
from creditmgmt.services.exposure import concentration_inputs, customer_exposure, group_root
from creditmgmt.services.facilities import tree_holding

_S = ApplicationStatus


def submit_application(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    *,
    customer_id: CustomerId,
    product_type: ProductType | str,
    requested: Money,
    term_months: int,
    purpose: str,
    parent: FacilityId | None = None,
    request_kind: RequestKind | str = RequestKind.NEW,
    documents_required: tuple[str, ...] | None = None,
) -> ApplicationId:
    """Draft and submit an application; `parent` is the node a new sub-limit goes under,
    or the facility a change or renewal is for.

    Raises:
        NotFoundError: unknown customer or facility.
        InvalidValueError: a non-positive amount or term; a change without its facility.
        InvalidTransitionError: the customer has exited.
    """
    customer = uow.customers.get(customer_id)
    if customer.status.value == "exited":
        raise InvalidTransitionError(f"customer {customer_id} has exited")
    if parent is not None:
        target = uow.facilities.get(parent)
        if target.customer_id not in (None, customer_id):
            raise InvalidTransitionError(
                f"facility {parent} belongs to customer {target.customer_id}, not {customer_id}"
            )
    app = CreditApplication.draft(
        ctx.ids,
        customer_id=customer_id,
        product_type=ProductType(product_type),
        requested=requested,
        term_months=term_months,
        purpose=purpose,
        maker=call.principal.user_id,
        at=ctx.clock.now(),
        documents_required=ctx.required_documents
        if documents_required is None
        else documents_required,
        request_kind=RequestKind(request_kind),
        target_facility_id=parent,
    )
    app.submit(by=call.principal.user_id, at=ctx.clock.now())
    uow.applications.add(app)
    call.touch(app)
    call.note(requested=str(requested), kind=app.request_kind.value)
    return app.id


def receive_document(
    uow: UnitOfWork, call: Call, ctx: Context, application_id: ApplicationId, name: str
) -> None:
    """Tick a document off the checklist. Raises `NotFoundError`, `InvalidTransitionError`."""
    app = uow.applications.get(application_id)
    app.receive_document(name)
    call.touch(app)
    call.note(document=name)


def withdraw_application(
    uow: UnitOfWork, call: Call, ctx: Context, application_id: ApplicationId, *, reason: str
) -> None:
    """Withdraw before a decision. Raises `NotFoundError`, `InvalidTransitionError`."""
    app = uow.applications.get(application_id)
    app.withdraw(by=call.principal.user_id, at=ctx.clock.now(), reason=reason)
    call.touch(app)


# assessment ---------------------------------------------------------------------------------
def _years_since(text: str | None, on: date) -> int | None:
    """Whole years from a "founded" fact (YYYY or YYYY-MM-DD) to `on`; None when absent."""
    if not text:
        return None
    try:
        founded = date.fromisoformat(text) if len(text) > 4 else date(int(text), 1, 1)
    except ValueError:
        return None
    return max(0, relativedelta(on, founded).years)


def scorecard_inputs(
    credit_file: CreditFile, on: date, *, industry_risk: str | None = None
) -> dict[str, object]:
    """The inputs of the `scorecard` block from a credit file: ratios of the latest
    statement, revenue growth on the one before, years since the basic-info fact `founded`,
    the `industry_risk` fact (or argument; "medium" by default) and the bureau's
    delinquencies. Missing figures are None (the block's missing bins)."""
    statements = credit_file.statements()
    latest = statements[-1] if statements else None
    previous = statements[-2] if len(statements) > 1 else None
    facts = {k: v for e in credit_file.live_entries() for k, v in e.facts}
    bureau = credit_file.latest_bureau_report()
    return {
        "current_ratio": None if latest is None else latest.current_ratio,
        "debt_to_assets": None if latest is None else latest.debt_to_assets,
        "interest_coverage": None if latest is None else latest.interest_coverage,
        "dscr": None if latest is None else latest.dscr,
        "revenue_growth": None
        if latest is None or previous is None
        else latest.revenue_growth(previous),
        "years_in_business": _years_since(facts.get("founded"), on),
        "industry_risk": industry_risk or facts.get("industry_risk", "medium"),
        "bureau_delinquencies": 0 if bureau is None else int(bureau.overdue_at_other_banks),
    }


def assess(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    application_id: ApplicationId,
    *,
    pd: Decimal | None = None,
    collateral_type: str = "none",
    collateral_value: Money | None = None,
    internet_loan: bool = False,
    lender_local_incorporated: bool = False,
    industry_risk: str | None = None,
) -> Assessment:
    """Rate and size an application with the rule set in force today.

    scorecard (or the given `pd`) → `master_scale` grade; knock-outs (grade D, the
    `remote_customer` rules for remote customers, `concentration` caps); recommended limit
    from `limit`; the approval level from `approval_authority` for the customer's total
    limit after the request. Every decision is kept for `replay`.

    Raises:
        NotFoundError: unknown application.
        MissingDocumentsError: documents of the checklist outstanding (named).
        AssessmentError: no financial statement on file, or no scorecard block and no `pd`.
        InvalidTransitionError: the application is past assessment.
    """
    app = uow.applications.get(application_id)
    today = ctx.clock.today()
    rules = ctx.rules.as_of(today)
    customer = uow.customers.get(app.customer_id)
    credit_file = uow.credit_files.for_customer(customer.id)
    if app.status is _S.SUBMITTED:
        app.start_review(by=call.principal.user_id, at=ctx.clock.now())
    if app.status is _S.UNDER_REVIEW and app.missing_documents:
        raise MissingDocumentsError(
            f"application {app.id} misses documents: {', '.join(app.missing_documents)}"
        )
    if credit_file is None or not credit_file.statements():
        raise AssessmentError(
            f"application {app.id}: customer {customer.id} has no financial statement on file "
            "(add_statement first)"
        )
    currency = app.requested.currency
    score: Decimal | None = None
    if pd is None:
        if "scorecard" not in rules.blocks:
            raise AssessmentError(
                f"rule set {rules.ref} has no scorecard block: pass pd= to assess "
                f"application {app.id}"
            )
        names = block_inputs(rules, "scorecard")
        available = scorecard_inputs(credit_file, today, industry_risk=industry_risk)
        scored = decide(call, rules, "scorecard", {n: available.get(n) for n in names})
        score, pd = Decimal(str(scored.outputs["score"])), Decimal(str(scored.outputs["pd"]))
    grade = str(decide(call, rules, "master_scale", {"pd": pd}).outputs["grade"])
    knock_outs: list[str] = []
    if grade == "D":
        knock_outs.append("grade_default")
    latest = credit_file.statements()[-1]
    bureau = credit_file.latest_bureau_report()
    collateral = collateral_value or Money.zero(currency)
    sized = decide(
        call,
        rules,
        "limit",
        {
            "grade": grade,
            "revenue": latest.revenue.amount,
            "ebitda": latest.ebitda.amount,
            "existing_debt": (bureau.total_debt if bureau else latest.total_liabilities).amount,
            "collateral_type": collateral_type,
            "collateral_value": collateral.amount,
        },
    )
    recommended = Money.of(quantize(Decimal(sized.outputs["limit"]), currency), currency)
    if customer.is_remote and "remote_customer" in rules.blocks:
        remote = decide(
            call,
            rules,
            "remote_customer",
            {
                "grade": grade,
                "requested_limit": app.requested.amount,
                "comparable_local_limit": recommended.amount,
                "secured": collateral_type != "none",
                "internet_loan": internet_loan,
                "lender_local_incorporated": lender_local_incorporated,
                "remote_book_share": _remote_book_share(uow, app.requested),
            },
        )
        if not remote.outputs["eligible"]:
            knock_outs.append(f"remote:{remote.outputs['reason']}")
    current = customer_exposure(uow, customer, currency)
    headroom: Money | None = None
    if ctx.capital is not None:
        caps = decide(
            call,
            rules,
            "concentration",
            concentration_inputs(
                "customer",
                current.used + app.requested,
                current.drawn + app.requested,
                ctx.capital,
            ),
        )
        headroom = Money.of(quantize(Decimal(caps.outputs["headroom"]), currency), currency)
        if caps.outputs["breach"]:
            knock_outs.append("concentration_cap")
    total_after = _total_after(uow, app, current.limit)
    level = str(
        decide(
            call, rules, "approval_authority", {"amount": total_after.amount, "grade": grade}
        ).outputs["level"]
    )
    assessment = Assessment(
        score=score,
        pd=pd,
        grade=grade,
        ruleset_ref=rules.ref,
        knock_outs=tuple(knock_outs),
        recommended_limit=recommended,
        required_level=level,
        concentration_headroom=headroom,
        decision_id=call.id,
    )
    app.record_assessment(assessment, by=call.principal.user_id, at=ctx.clock.now())
    app.send_for_approval(by=call.principal.user_id, at=ctx.clock.now())
    call.touch(app)
    return assessment


def _total_after(uow: UnitOfWork, app: CreditApplication, current_limit: Money) -> Money:
    """The customer's total limit once the application is granted (what authority reads)."""
    if app.request_kind is RequestKind.RENEWAL:
        return current_limit
    if app.request_kind is RequestKind.NEW:
        return current_limit + app.requested
    assert app.target_facility_id is not None
    target = uow.facilities.get(app.target_facility_id)
    delta = app.requested - target.limit
    if target.level is FacilityLevel.PRODUCT:  # a sub-limit moves the total only past it
        return current_limit + delta.max(Money.zero(delta.currency))
    return current_limit + delta


def _remote_book_share(uow: UnitOfWork, requested: Money) -> Decimal:
    currency = requested.currency
    book = remote = Money.zero(currency)
    remote_customers = {c.id for c in uow.customers.find(is_remote=True)}
    for batch in uow.facilities.scan():
        for f in batch:
            if f.level is FacilityLevel.CUSTOMER and f.currency == currency:
                book += f.drawn
                if f.customer_id in remote_customers:
                    remote += f.drawn
    return (remote + requested).ratio_to(book + requested)


# decision -----------------------------------------------------------------------------------
def _pending(
    uow: UnitOfWork, call: Call, ctx: Context, application_id: ApplicationId
) -> CreditApplication:
    app = uow.applications.get(application_id)
    if app.status is _S.ASSESSED:
        app.send_for_approval(by=call.principal.user_id, at=ctx.clock.now())
    if app.status is not _S.PENDING_APPROVAL or app.assessment is None:
        raise InvalidTransitionError(
            f"application {app.id} is {app.status.value}: assess it before deciding"
        )
    return app


def approve(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    application_id: ApplicationId,
    *,
    limit: Money | None = None,
    note: str = "",
) -> None:
    """Approve for `limit` (default: as requested).

    Raises:
        SelfApprovalError: the approver made the application.
        AuthorityError: the level the rule set requires for the granted amount and grade is
            above the approver's authority (names both).
        NotEligibleError: the assessment has knock-outs (named).
        InvalidTransitionError, InvalidValueError (more than requested).
    """
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
    total_after = _total_after(uow, app, current.limit) - app.requested + granted
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
    # the approved grade is the customer's rating: periodic reviews and rating moves run on it
    customer.rate(assessment.final_grade, on=ctx.clock.today())
    call.touch(app, customer)
    call.note(granted=str(granted), level=level)


def decline(
    uow: UnitOfWork, call: Call, ctx: Context, application_id: ApplicationId, *, reason: str
) -> None:
    """Decline. Raises `SelfApprovalError`, `InvalidTransitionError`, `NotFoundError`."""
    app = _pending(uow, call, ctx, application_id)
    assessment = app.assessment
    assert assessment is not None
    app.decline(
        by=call.principal.user_id,
        at=ctx.clock.now(),
        level=call.principal.authority or "none",
        reason=reason,
        ruleset_ref=assessment.ruleset_ref,
    )
    call.touch(app)
    call.note(reason=reason)


def contract(uow: UnitOfWork, call: Call, ctx: Context, application_id: ApplicationId) -> None:
    """approved → contracted (合同签订). Raises `InvalidTransitionError`, `NotFoundError`."""
    app = uow.applications.get(application_id)
    app.contract(by=call.principal.user_id, at=ctx.clock.now())
    call.touch(app)


def activate(
    uow: UnitOfWork, call: Call, ctx: Context, application_id: ApplicationId
) -> FacilityId:
    """Put an approved (or contracted) application into the limit tree.

    A new credit becomes a product sub-limit: under the named parent, else under the
    customer's master limit, else under a new master limit of the same amount (under the
    group root for a group member). An increase or limit change sets the facility's limit;
    a renewal extends its term by the application's term, from its maturity.

    Raises:
        InvalidTransitionError: not approved.
        SubLimitExceedsParentError, LimitBelowUtilisationError, TreeStructureError,
        FacilityNotActiveError: the tree cannot take it (nothing changed).
    """
    app = uow.applications.get(application_id)
    if app.status is _S.APPROVED:
        app.contract(by=call.principal.user_id, at=ctx.clock.now())
    if app.status is not _S.CONTRACTED or app.decision is None or app.decision.amount is None:
        raise InvalidTransitionError(
            f"application {app.id} is {app.status.value}: only an approved application is activated"
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


def _open_product(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    app: CreditApplication,
    granted: Money,
    today: date,
    ref: str,
) -> FacilityId:
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


def request_limit_change(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    facility_id: FacilityId,
    *,
    new_limit: Money,
    reason: str,
    renewal_months: int | None = None,
) -> ApplicationId:
    """An application to change a facility's limit (or renew it), decided like any other.

    Raises:
        NotFoundError, InvalidValueError, InvalidTransitionError (a terminal facility).
    """
    facility = uow.facilities.get(facility_id)
    if facility.customer_id is None:
        raise InvalidTransitionError(f"facility {facility_id} is a group limit: change it as admin")
    if facility.status.is_terminal:
        raise InvalidTransitionError(f"facility {facility_id} is {facility.status.value}")
    kind = (
        RequestKind.RENEWAL
        if renewal_months
        else (RequestKind.INCREASE if new_limit > facility.limit else RequestKind.LIMIT_CHANGE)
    )
    return submit_application(
        uow,
        call,
        ctx,
        customer_id=facility.customer_id,
        product_type=facility.product_type or ProductType.WORKING_CAPITAL,
        requested=new_limit,
        term_months=renewal_months or 12,
        purpose=reason,
        parent=facility_id,
        request_kind=kind,
        documents_required=(),
    )


def replay(uow: UnitOfWork, ctx: Context, decision_id: str) -> Replay:
    """Evaluate a stored decision again under its own rule set version.

    Raises:
        NotFoundError: no audit entry with that id, or it holds no decision.
        RuleSetNotFoundError: the desk does not hold that rule set version.
    """
    entry = uow.audit.get(decision_id)
    kept = [] if entry is None or entry.ruleset_ref is None else kept_decisions(entry.detail)
    if entry is None or entry.ruleset_ref is None or not kept:
        raise NotFoundError(f"no stored decision {decision_id}")
    return replay_decisions(decision_id, entry.ruleset_ref, kept, ctx.rules.get(entry.ruleset_ref))
