"""Applications and approval through the desk (memory store)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from tests.services.desk_state import stored_state

from creditmgmt.domain import (
    ApplicationStatus,
    FacilityLevel,
    InvalidTransitionError,
    MissingDocumentsError,
    SelfApprovalError,
)
from creditmgmt.domain.ids import ApplicationId, CustomerId
from creditmgmt.policies import RuleSetNotFoundError
from creditmgmt.ports.errors import NotFoundError
from creditmgmt.services import (
    AssessmentError,
    AuthorityError,
    Capital,
    NotEligibleError,
    Principal,
    Role,
)
from creditmgmt.services.desk import CreditDesk
from creditmgmt.testing.builders import M
from creditmgmt.testing.desk import (
    ADMIN,
    ANALYST,
    APPROVER,
    BOARD,
    RM,
    a_desk,
    a_funded_customer,
    an_onboarded_customer,
)


def _submit(
    desk: CreditDesk,
    customer: CustomerId,
    amount: str = "3000000.00",
    term_months: int = 12,
    documents_required: tuple[str, ...] | None = None,
) -> ApplicationId:
    return desk.submit_application(
        RM,
        customer_id=customer,
        product_type="working_capital",
        requested=M(f"{amount} CNY"),
        term_months=term_months,
        purpose="stock",
        documents_required=documents_required,
    )


def test_the_whole_path_to_a_facility_in_the_tree() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk)
    app = _submit(desk, customer)
    desk.receive_document(RM, app, "business_licence")
    desk.receive_document(RM, app, "financial_statements")
    assessment = desk.assess(ANALYST, app, pd="0.004")
    assert assessment.grade == "BBB"
    assert assessment.required_level == "branch"  # 3 m at BBB: the branch decides
    assert assessment.eligible and assessment.ruleset_ref.startswith("cn-2023@")
    desk.approve(APPROVER, app)
    facility = desk.activate(RM, app)
    view = desk.facility(RM, facility)
    assert view.level is FacilityLevel.PRODUCT and view.limit == M("3000000.00 CNY")
    tree = desk.tree(RM, view.parent_id)  # type: ignore[arg-type]
    assert [n.level for n in tree] == [FacilityLevel.CUSTOMER, FacilityLevel.PRODUCT]
    with desk.store.unit_of_work() as uow:
        stored = uow.applications.get(app)
        assert stored.status is ApplicationStatus.ACTIVATED and stored.facility_id == facility
        assert uow.customers.get(customer).status.value == "active"
    # a second credit goes under the same master limit, which must hold it
    second = _submit(desk, customer, amount="1.00", documents_required=())
    desk.assess(ANALYST, second, pd="0.004")
    desk.approve(APPROVER, second)
    from creditmgmt.domain import SubLimitExceedsParentError

    before = stored_state(desk)
    with pytest.raises(SubLimitExceedsParentError, match=r"3000001\.00 CNY"):
        desk.activate(RM, second)
    assert stored_state(desk) == before


def test_missing_documents_are_named() -> None:
    desk = a_desk()
    app = _submit(desk, an_onboarded_customer(desk))
    desk.receive_document(RM, app, "business_licence")
    before = stored_state(desk)
    with pytest.raises(MissingDocumentsError, match="financial_statements"):
        desk.assess(ANALYST, app, pd="0.004")
    assert stored_state(desk) == before


def test_no_statement_or_no_scorecard_cannot_be_assessed() -> None:
    desk = a_desk()
    bare = _submit(desk, an_onboarded_customer(desk, statements=False), documents_required=())
    with pytest.raises(AssessmentError, match="no financial statement"):
        desk.assess(ANALYST, bare, pd="0.004")
    from creditmgmt.policies import builtin_ruleset

    lex = a_desk(rules=builtin_ruleset("basel-lex"))
    app = _submit(lex, an_onboarded_customer(lex, serial=2), documents_required=())
    with pytest.raises(AssessmentError, match="no scorecard block: pass pd="):
        lex.assess(ANALYST, app)


def test_the_cn2023_scorecard_rates_from_the_credit_file() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk)
    desk.add_file_entry(
        RM, customer, key="basic", section="basic_info", source="business licence",
        as_of=date(2026, 1, 5), facts={"founded": "2012-05-01", "industry_risk": "low"},
    )  # fmt: skip
    app = _submit(desk, customer, documents_required=())
    assessment = desk.assess(ANALYST, app)
    assert assessment.score is not None and assessment.pd < Decimal("0.01")
    replay = desk.replay(ANALYST, assessment.decision_id)  # type: ignore[arg-type]
    scorecard = replay.decisions[0]
    assert scorecard.block == "scorecard" and replay.same
    assert scorecard.inputs["years_in_business"] == 13
    assert scorecard.inputs["industry_risk"] == "low"
    assert scorecard.stored["score"] == str(assessment.score)
    assert replay.decisions[1].replayed == {"grade": assessment.grade}


def test_maker_checker_and_authority_levels() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk)
    app = _submit(desk, customer, amount="30000000.00", documents_required=())
    assessment = desk.assess(ANALYST, app, pd="0.004")
    assert assessment.required_level == "head_office_committee"  # 30 m at BBB
    maker_as_approver = Principal("usr_rm", roles={Role.APPROVER}, authority="board")
    before = stored_state(desk)
    with pytest.raises(SelfApprovalError, match="usr_rm made it"):
        desk.approve(maker_as_approver, app)
    with pytest.raises(
        AuthorityError, match="needs head_office_committee authority; usr_approver holds regional"
    ):
        desk.approve(APPROVER, app)
    assert stored_state(desk) == before
    # a lower granted amount needs a lower level
    desk.approve(APPROVER, app, limit=M("10000000.00 CNY"))
    with desk.store.unit_of_work() as uow:
        decision = uow.applications.get(app).decision
    assert decision is not None and decision.amount == M("10000000.00 CNY")
    assert decision.level == "regional"


def test_decline_and_its_refusals() -> None:
    desk = a_desk()
    app = _submit(desk, an_onboarded_customer(desk), documents_required=())
    with pytest.raises(InvalidTransitionError, match="assess it before deciding"):
        desk.decline(APPROVER, app, reason="early")
    desk.assess(ANALYST, app, pd="0.004")
    desk.decline(APPROVER, app, reason="weak cash flow")
    with pytest.raises(InvalidTransitionError, match="only an approved application"):
        desk.activate(RM, app)


def test_knock_outs_block_approval() -> None:
    desk = a_desk()
    app = _submit(desk, an_onboarded_customer(desk), documents_required=())
    assessment = desk.assess(ANALYST, app, pd="1")
    assert assessment.grade == "D" and assessment.knock_outs == ("grade_default",)
    with pytest.raises(NotEligibleError, match="grade_default"):
        desk.approve(BOARD, app)


def test_remote_customers_get_the_remote_rules() -> None:
    desk = a_desk()
    remote = an_onboarded_customer(desk, home_region="440300")
    app = _submit(desk, remote, documents_required=())
    assessment = desk.assess(ANALYST, app, pd="0.02")  # BB: below BBB
    assert "remote:grade_below_bbb" in assessment.knock_outs


def test_concentration_caps_knock_out_at_assessment() -> None:
    small = Capital(net_capital=M("20000000.00 CNY"), tier1_net=M("16000000.00 CNY"))
    desk = a_desk(capital=small)  # loans to one customer <= 2,000,000.00
    app = _submit(desk, an_onboarded_customer(desk), documents_required=())
    assessment = desk.assess(ANALYST, app, pd="0.004")
    assert "concentration_cap" in assessment.knock_outs
    assert assessment.concentration_headroom == M("-1000000.00 CNY")


def test_limit_change_and_renewal_go_through_approval() -> None:
    desk = a_desk()
    customer, facility = a_funded_customer(desk, limit="3000000.00")
    view = desk.facility(RM, facility)
    assert view.parent_id is not None
    # raise the master first (a product cannot outgrow it), then the product
    master_change = desk.request_limit_change(
        RM, view.parent_id, new_limit=M("5000000.00 CNY"), reason="growth"
    )
    desk.assess(ANALYST, master_change, pd="0.004")
    desk.approve(APPROVER, master_change)
    assert desk.activate(RM, master_change) == view.parent_id
    change = desk.request_limit_change(
        RM, facility, new_limit=M("4000000.00 CNY"), reason="seasonal stock"
    )
    desk.assess(ANALYST, change, pd="0.004")
    desk.approve(APPROVER, change)
    desk.activate(RM, change)
    assert desk.facility(RM, facility).limit == M("4000000.00 CNY")
    renewal = desk.request_limit_change(
        RM, facility, new_limit=M("4000000.00 CNY"), reason="renew", renewal_months=12
    )
    desk.assess(ANALYST, renewal, pd="0.004")
    desk.approve(APPROVER, renewal)
    desk.activate(RM, renewal)
    assert desk.facility(RM, facility).maturity_date.isoformat() == "2028-03-02"
    assert customer


def test_a_stored_decision_replays_exactly() -> None:
    desk = a_desk()
    app = _submit(desk, an_onboarded_customer(desk), documents_required=())
    assessment = desk.assess(ANALYST, app, pd="0.004")
    assert assessment.decision_id is not None
    replay = desk.replay(ANALYST, assessment.decision_id)
    assert replay.same and replay.ruleset_ref == assessment.ruleset_ref
    blocks = [d.block for d in replay.decisions]
    assert blocks == ["master_scale", "limit", "concentration", "approval_authority"]
    assert replay.decisions[0].replayed == {"grade": "BBB"}
    with pytest.raises(NotFoundError):
        desk.replay(ANALYST, "aud_nothing")


def test_replay_needs_the_rule_set_version_that_decided() -> None:
    from creditmgmt.policies import builtin_ruleset

    desk = a_desk(rules=builtin_ruleset("basel-lex"))
    app = _submit(desk, an_onboarded_customer(desk), documents_required=())
    with pytest.raises(Exception) as refused:  # basel-lex has no master scale
        desk.assess(ANALYST, app, pd="0.004")
    assert "master_scale" in str(refused.value)
    other = a_desk()
    app = _submit(other, an_onboarded_customer(other), documents_required=())
    decision_id = other.assess(ANALYST, app, pd=Decimal("0.004")).decision_id
    assert decision_id is not None
    # the same store opened under another rule set cannot replay it
    import attrs

    from creditmgmt.services.context import RuleBook
    from creditmgmt.services.desk import CreditDesk

    foreign = CreditDesk(
        other.store, attrs.evolve(other.context, rules=RuleBook(builtin_ruleset("basel-lex")))
    )
    with pytest.raises(RuleSetNotFoundError, match="holds only basel-lex"):
        foreign.replay(ADMIN, decision_id)


@pytest.mark.parametrize("store", ["memory://", "sqlite:///:memory:"])
@pytest.mark.parametrize("term", [0, 601, 2**70])
def test_a_term_out_of_range_is_refused_on_every_store_and_nothing_is_stored(
    store: str, term: int
) -> None:
    """A term past 600 months is a typo; past 64 bits it is also more than a stored document
    can hold, so every store must refuse it the same way, before anything is written."""
    from creditmgmt.domain.errors import InvalidValueError

    desk = a_desk(store)
    customer = an_onboarded_customer(desk)
    before = stored_state(desk)
    with pytest.raises(InvalidValueError, match=f"term_months must be 1 to 600, got {term}"):
        _submit(desk, customer, term_months=term)
    assert stored_state(desk) == before
