"""Assessment (授信评审): rating and sizing an application with the rule set in force (the
scorecard from its credit file, grade, knock-outs, recommended limit, the approval level it
needs), and replaying a stored decision under its own rule set version."""

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
)
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.facility import FacilityLevel
from creditmgmt.domain.ids import ApplicationId
from creditmgmt.domain.money import D, Money, quantize
from creditmgmt.ports.errors import NotFoundError
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal
from creditmgmt.services.core import Call, DeskCore
from creditmgmt.services.decisions import (
    Replay,
    block_inputs,
    decide,
    kept_decisions,
    replay_decisions,
)
from creditmgmt.services.errors import AssessmentError
from creditmgmt.services.exposure import concentration_inputs, customer_exposure

_S = ApplicationStatus


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


def total_limit_after(uow: UnitOfWork, app: CreditApplication, current_limit: Money) -> Money:
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


def _pd(value: Decimal | str) -> Decimal:
    """A stated PD as a Decimal. Raises `InvalidValueError` naming `pd` for what is not one."""
    try:
        return D(value)
    except InvalidValueError as e:
        raise InvalidValueError(f"assess: pd {e}") from None


class AssessmentCalls(DeskCore):
    """Desk calls that rate and size applications and replay the decisions they took."""

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
        """Rate and size an application with the rule set in force today.

        scorecard (or the given `pd`, which stands in for a scorecard the rule set lacks) →
        `master_scale` grade; knock-outs (grade D, the `remote_customer` rules for remote
        customers, `concentration` caps); recommended limit from `limit`; the approval level
        from `approval_authority` for the customer's total limit after the request. Every
        decision is kept for `replay`.

        Raises:
            PermissionDeniedError: the principal may not assess.
            NotFoundError: unknown application.
            MissingDocumentsError: documents of the checklist outstanding (named).
            AssessmentError: no financial statement on file, or no scorecard block and no `pd`.
            InvalidTransitionError: the application is past assessment.
            InvalidValueError: a `pd` that is not a number (a float is refused too).
        """
        given_pd = None if pd is None else _pd(pd)

        def work(uow: UnitOfWork, call: Call) -> Assessment:
            ctx = self._ctx
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
                    f"application {app.id}: customer {customer.id} has no financial statement "
                    "on file (add_statement first)"
                )
            currency = app.requested.currency
            score: Decimal | None = None
            rated_pd = given_pd
            if rated_pd is None:
                if "scorecard" not in rules.blocks:
                    raise AssessmentError(
                        f"rule set {rules.ref} has no scorecard block: pass pd= to assess "
                        f"application {app.id}"
                    )
                names = block_inputs(rules, "scorecard")
                available = scorecard_inputs(credit_file, today, industry_risk=industry_risk)
                scored = decide(call, rules, "scorecard", {n: available.get(n) for n in names})
                score = Decimal(str(scored.outputs["score"]))
                rated_pd = Decimal(str(scored.outputs["pd"]))
            grade = str(decide(call, rules, "master_scale", {"pd": rated_pd}).outputs["grade"])
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
                    "existing_debt": (
                        bureau.total_debt if bureau else latest.total_liabilities
                    ).amount,
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
            total_after = total_limit_after(uow, app, current.limit)
            level = str(
                decide(
                    call,
                    rules,
                    "approval_authority",
                    {"amount": total_after.amount, "grade": grade},
                ).outputs["level"]
            )
            assessment = Assessment(
                score=score,
                pd=rated_pd,
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

        return self._write("assess", by, work, subject=f"application:{application_id}")

    def replay(self, by: Principal, decision_id: str) -> Replay:
        """Evaluate a stored decision (an assessment's `decision_id`, or any audited call
        that took one) again under its own rule set version and inputs.

        Raises:
            PermissionDeniedError: the principal may not replay.
            NotFoundError: no audit entry with that id, or it holds no decision.
            RuleSetNotFoundError: the desk does not hold that rule set version.
        """

        def work(uow: UnitOfWork) -> Replay:
            entry = uow.audit.get(decision_id)
            kept = (
                [] if entry is None or entry.ruleset_ref is None else kept_decisions(entry.detail)
            )
            if entry is None or entry.ruleset_ref is None or not kept:
                raise NotFoundError(f"no stored decision {decision_id}")
            rules = self._ctx.rules.get(entry.ruleset_ref)
            return replay_decisions(decision_id, entry.ruleset_ref, kept, rules)

        return self._read("replay", by, work, subject=decision_id)


__all__ = ["AssessmentCalls", "scorecard_inputs", "total_limit_after"]
