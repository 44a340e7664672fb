from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain import (
    ApplicationStatus,
    Assessment,
    Confidentiality,
    CreditApplication,
    CurrencyMismatchError,
    InvalidTransitionError,
    InvalidValueError,
    MissingDocumentsError,
    RefreshCycle,
    RiskEventStatus,
    Section,
    SelfApprovalError,
    Severity,
)
from creditmgmt.domain.credit_file import BureauReport, EntryNotFoundError
from creditmgmt.domain.ids import CustomerId, FacilityId, UserId
from creditmgmt.domain.interaction import (
    Channel,
    FollowUpTask,
    Interaction,
    InteractionKind,
    TaskStatus,
)
from creditmgmt.domain.risk import RiskEvent, add_business_days
from creditmgmt.testing.builders import (
    CHECKER,
    MAKER,
    M,
    SequentialIds,
    a_credit_file,
    a_statement,
    an_application,
)

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ASSESSMENT = Assessment(
    score=Decimal("640"), pd=Decimal("0.0040"), grade="BBB", ruleset_ref="cn-2023@1.0.0#abc"
)


def _to_pending(app_docs: bool = True) -> CreditApplication:
    app = an_application()
    if app_docs:
        for d in app.documents_required:
            app.receive_document(d)
    app.submit(by=MAKER, at=AT)
    app.start_review(by=CHECKER, at=AT)
    app.record_assessment(ASSESSMENT, by=CHECKER, at=AT)
    app.send_for_approval(by=CHECKER, at=AT)
    return app


def test_application_runs_the_full_workflow_with_audit_trail() -> None:
    app = _to_pending()
    app.approve(by=CHECKER, at=AT, level="branch", amount=M("1500000.00 CNY"), ruleset_ref="r#1")
    app.contract(by=CHECKER, at=AT)
    app.activate(FacilityId("fac_1"), by=CHECKER, at=AT)
    assert app.status is ApplicationStatus.ACTIVATED
    assert app.decision is not None
    assert app.decision.amount == M("1500000.00 CNY")
    assert [t.action for t in app.trail] == [
        "drafted",
        "submitted",
        "under_review",
        "assessed",
        "pending_approval",
        "approved",
        "contracted",
        "activated",
    ]
    assert app.trail[3].note == "grade BBB (cn-2023@1.0.0#abc)"


def test_maker_cannot_decide_their_own_application() -> None:
    app = _to_pending()
    with pytest.raises(SelfApprovalError, match="usr_maker"):
        app.approve(by=MAKER, at=AT, level="branch", ruleset_ref="r")
    with pytest.raises(SelfApprovalError):
        app.decline(by=MAKER, at=AT, level="branch", reason="x", ruleset_ref="r")
    assert app.status is ApplicationStatus.PENDING_APPROVAL


def test_approval_never_above_the_request_and_documents_are_required() -> None:
    app = _to_pending()
    with pytest.raises(InvalidValueError, match="at most"):
        app.approve(by=CHECKER, at=AT, level="b", amount=M("2000000.01 CNY"), ruleset_ref="r")
    with pytest.raises(MissingDocumentsError, match="business_licence"):
        _to_pending(app_docs=False)


def test_terminal_application_states_are_final() -> None:
    app = _to_pending()
    app.decline(by=CHECKER, at=AT, level="branch", reason="weak cash flow", ruleset_ref="r")
    for action in (app.withdraw, app.submit, app.contract):
        with pytest.raises(InvalidTransitionError, match="declined"):
            action(by=CHECKER, at=AT)


@given(
    st.lists(
        st.sampled_from(
            ["submit", "start_review", "send_for_approval", "withdraw", "contract", "approve"]
        ),
        max_size=10,
    )
)
def test_invalid_transitions_change_nothing(steps: list[str]) -> None:
    app = an_application(documents_required=())
    for step in steps:
        before = (app.status, len(app.trail))
        kwargs: dict[str, object] = {"by": CHECKER, "at": AT}
        if step == "approve":
            kwargs.update(level="branch", ruleset_ref="r")
        try:
            getattr(app, step)(**kwargs)
        except InvalidTransitionError:
            assert (app.status, len(app.trail)) == before
        if before[0].is_terminal:
            assert app.status is before[0]


def test_credit_file_entries_refresh_verify_and_access() -> None:
    cf = a_credit_file()
    cf.record(
        key="fs-2025",
        section=Section.FINANCIAL_STATEMENTS,
        source="audited annual report",
        as_of=date(2025, 8, 31),
        financial_statement=a_statement(),
        confidentiality=Confidentiality.CONFIDENTIAL,
    )
    entry = cf.entry("fs-2025")
    assert entry.refresh_due == date(2026, 8, 31)
    cf.refresh_cycle = RefreshCycle.HALF_YEARLY
    cf.record(key="basic", section=Section.BASIC_INFO, source="registry", as_of=date(2025, 8, 31))
    assert cf.entry("basic").refresh_due == date(2026, 2, 28)
    assert [e.key for e in cf.due_for_refresh(date(2026, 3, 1))] == ["basic"]
    assert [e.key for e in cf.readable_by(Confidentiality.INTERNAL)] == ["basic"]
    cf.verify("fs-2025", by=UserId("usr_v"), on=date(2025, 9, 3))
    assert cf.entry("fs-2025").is_verified
    with pytest.raises(EntryNotFoundError, match="nope"):
        cf.verify("nope", by=UserId("usr_v"), on=date(2025, 9, 3))
    cf.record(key="basic", section=Section.BASIC_INFO, source="registry", as_of=date(2026, 2, 1))
    assert len(cf.live_entries(Section.BASIC_INFO)) == 1
    cf.archive(on=date(2026, 3, 1))
    with pytest.raises(InvalidTransitionError, match="archived"):
        cf.record(key="x", section=Section.DOCUMENTS, source="s", as_of=date(2026, 3, 1))


def test_financial_ratios_exact_and_none_on_zero() -> None:
    fs = a_statement()
    assert fs.current_ratio is not None
    assert abs(fs.current_ratio - Decimal(20) / Decimal(12)) < Decimal("1e-25")
    assert fs.debt_to_assets == Decimal("0.55")
    assert fs.interest_coverage == Decimal(4)
    assert fs.dscr == Decimal("1.75")
    zero = a_statement(interest_expense="0", debt_service="0", current_liabilities="0")
    assert (zero.interest_coverage, zero.dscr, zero.current_ratio) == (None, None, None)
    later = a_statement(period_end=date(2026, 12, 31), revenue="35000000")
    assert later.revenue_growth(fs) == Decimal("-0.3")
    with pytest.raises(CurrencyMismatchError, match="revenue is in USD"):
        attrs.evolve(fs, revenue=M("1 USD"))


def test_bureau_share_bounds() -> None:
    with pytest.raises(InvalidValueError, match="npl_share"):
        BureauReport(
            bureau="PBOC",
            report_date=date(2026, 1, 1),
            overdue_at_other_banks=False,
            npl_share_all_banks=Decimal("1.01"),
            total_debt=M("1 CNY"),
        )


def test_red_risk_event_review_within_five_business_days() -> None:
    ids = SequentialIds()
    friday = date(2026, 3, 6)
    event = RiskEvent.raise_(
        ids,
        type="EW-R-DPD",
        severity=Severity.RED,
        customer_id=CustomerId("cus_1"),
        detected_at=AT,
        business_date=friday,
        rule_ref="cn-2023@1.0.0#abc/EW-R-DPD",
        reason_code="DPD_OVER_30",
    )
    assert event.review_due == date(2026, 3, 13)
    assert add_business_days(friday, 1) == date(2026, 3, 9)
    assert event.is_review_overdue(date(2026, 3, 14))
    with pytest.raises(InvalidTransitionError, match="open to resolved"):
        event.resolve(by=CHECKER, at=AT, note="x")
    event.acknowledge(by=CHECKER, at=AT)
    event.escalate(by=CHECKER, at=AT, note="to special assets")
    event.resolve(by=CHECKER, at=AT, note="repaid")
    assert event.status is RiskEventStatus.RESOLVED
    assert not event.is_review_overdue(date(2026, 4, 1))
    with pytest.raises(InvalidValueError, match="timezone"):
        RiskEvent.raise_(
            ids,
            type="EW",
            severity=Severity.YELLOW,
            customer_id=CustomerId("cus_1"),
            detected_at=datetime(2026, 1, 1),
            business_date=friday,
            rule_ref="r",
            reason_code="c",
        )


def test_interactions_complaints_surveys_and_tasks() -> None:
    ids = SequentialIds()
    logged: dict[str, Any] = {"customer_id": CustomerId("cus_1"), "at": AT, "by": CHECKER}
    complaint = Interaction.log(
        ids,
        kind=InteractionKind.COMPLAINT,
        channel=Channel.PHONE,
        summary="对利率调整不满",
        **logged,
    )
    complaint.resolve_complaint("explained the repricing clause")
    with pytest.raises(InvalidTransitionError):
        complaint.resolve_complaint("again")
    with pytest.raises(InvalidValueError, match=r"1\.\.5"):
        Interaction.log(
            ids,
            kind=InteractionKind.SURVEY,
            channel=Channel.EMAIL,
            summary="",
            survey_score=6,
            **logged,
        )
    task = FollowUpTask.schedule(
        ids,
        customer_id=CustomerId("cus_1"),
        title="季度回访",
        due=date(2026, 3, 31),
        assignee=CHECKER,
    )
    assert not task.needs_reminder(date(2026, 3, 27))
    assert task.needs_reminder(date(2026, 3, 28))
    assert task.is_overdue(date(2026, 4, 1))
    task.complete(on=date(2026, 3, 30))
    assert task.status is TaskStatus.DONE
    assert not task.is_overdue(date(2026, 4, 1))
    with pytest.raises(InvalidTransitionError):
        task.cancel(on=date(2026, 4, 1))


# DOMAIN.md: draft → submitted → under_review → assessed → pending_approval → approved |
# declined | withdrawn; approved → contracted → activated; withdrawn before a decision.
_A = ApplicationStatus
APP_ALLOWED = {
    ("submit", _A.DRAFT): _A.SUBMITTED,
    ("start_review", _A.SUBMITTED): _A.UNDER_REVIEW,
    ("record_assessment", _A.UNDER_REVIEW): _A.ASSESSED,
    ("send_for_approval", _A.ASSESSED): _A.PENDING_APPROVAL,
    ("approve", _A.PENDING_APPROVAL): _A.APPROVED,
    ("decline", _A.PENDING_APPROVAL): _A.DECLINED,
    ("contract", _A.APPROVED): _A.CONTRACTED,
    ("activate", _A.CONTRACTED): _A.ACTIVATED,
    **{
        ("withdraw", s): _A.WITHDRAWN
        for s in (_A.DRAFT, _A.SUBMITTED, _A.UNDER_REVIEW, _A.ASSESSED, _A.PENDING_APPROVAL)
    },
}
APP_STEPS: dict[str, Callable[[CreditApplication], None]] = {
    "submit": lambda a: a.submit(by=MAKER, at=AT),
    "start_review": lambda a: a.start_review(by=CHECKER, at=AT),
    "record_assessment": lambda a: a.record_assessment(ASSESSMENT, by=CHECKER, at=AT),
    "send_for_approval": lambda a: a.send_for_approval(by=CHECKER, at=AT),
    "approve": lambda a: a.approve(by=CHECKER, at=AT, level="branch", ruleset_ref="r"),
    "decline": lambda a: a.decline(by=CHECKER, at=AT, level="branch", reason="x", ruleset_ref="r"),
    "contract": lambda a: a.contract(by=CHECKER, at=AT),
    "activate": lambda a: a.activate(FacilityId("fac_1"), by=CHECKER, at=AT),
    "withdraw": lambda a: a.withdraw(by=MAKER, at=AT),
}


@pytest.mark.parametrize("status", list(ApplicationStatus))
@pytest.mark.parametrize("step", list(APP_STEPS))
def test_application_allows_exactly_the_documented_transitions(
    status: ApplicationStatus, step: str
) -> None:
    app = an_application(documents_required=())
    app.status = status
    trail, decision = len(app.trail), app.decision
    target = APP_ALLOWED.get((step, status))
    if target is None:
        with pytest.raises(InvalidTransitionError, match=str(app.id)):
            APP_STEPS[step](app)
        assert (app.status, len(app.trail), app.decision) == (status, trail, decision)
    else:
        APP_STEPS[step](app)
        assert app.status is target
        assert app.trail[-1].action == target.value
        assert len(app.trail) == trail + 1


def test_the_decision_records_maker_checker_level_and_ruleset() -> None:
    app = _to_pending()
    assert isinstance(app, CreditApplication)
    app.approve(
        by=CHECKER,
        at=AT,
        level="regional",
        conditions=("quarterly statements",),
        reason="strong cash flow",
        ruleset_ref="cn-2023@1.0.0#abc",
    )
    assert app.maker == MAKER
    assert app.decision is not None
    assert (app.decision.by, app.decision.level, app.decision.ruleset_ref) == (
        CHECKER,
        "regional",
        "cn-2023@1.0.0#abc",
    )
    assert app.decision.amount == app.requested
    assert app.decision.conditions == ("quarterly statements",)
    assert [e.event_type for e in app.pending_events][-1] == "ApplicationDecided"


_R = RiskEventStatus
RISK_ALLOWED = {
    ("acknowledge", _R.OPEN): _R.ACKNOWLEDGED,
    ("escalate", _R.ACKNOWLEDGED): _R.ESCALATED,
    **{("resolve", s): _R.RESOLVED for s in (_R.ACKNOWLEDGED, _R.ESCALATED)},
}


@pytest.mark.parametrize("status", list(RiskEventStatus))
@pytest.mark.parametrize("step", ["acknowledge", "escalate", "resolve"])
def test_risk_event_allows_exactly_the_documented_transitions(
    status: RiskEventStatus, step: str
) -> None:
    event = RiskEvent.raise_(
        SequentialIds(),
        type="EW-Y-UTIL",
        severity=Severity.YELLOW,
        customer_id=CustomerId("cus_1"),
        detected_at=AT,
        business_date=AT.date(),
        rule_ref="r",
        reason_code="UTIL_OVER_90",
    )
    assert event.review_due is None  # only red events carry a review deadline
    event.status = status
    target = RISK_ALLOWED.get((step, status))
    if target is None:
        with pytest.raises(InvalidTransitionError, match=str(event.id)):
            getattr(event, step)(by=CHECKER, at=AT, note="n")
        assert event.status is status
    else:
        getattr(event, step)(by=CHECKER, at=AT, note="n")
        assert event.status is target
        assert event.notes[-1].note == "n"
