"""Onboarding, groups and credit files through the desk (memory store)."""

from __future__ import annotations

from datetime import date

import pytest
from tests.services.desk_state import stored_state

from creditmgmt.domain import Confidentiality, CustomerStatus, InvalidIdentifierError, Section
from creditmgmt.domain.ids import CustomerId
from creditmgmt.ports.errors import ConfigurationError, NotFoundError
from creditmgmt.ports.external import ExternalServiceError
from creditmgmt.services import (
    DuplicateCustomerError,
    GroupLimitError,
    PermissionDeniedError,
)
from creditmgmt.testing.builders import M, a_statement, make_uscc
from creditmgmt.testing.desk import (
    ADMIN,
    ANALYST,
    AUDITOR,
    RISK,
    RM,
    a_desk,
    a_funded_customer,
    an_onboarded_customer,
)


def test_onboarding_validates_the_uscc_and_opens_a_credit_file() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk, statements=False)
    with desk.store.unit_of_work() as uow:
        stored = uow.customers.get(customer)
        credit_file = uow.credit_files.for_customer(customer)
    assert stored.status is CustomerStatus.PROSPECT
    assert stored.registration_id == make_uscc(1)
    assert credit_file is not None and credit_file.entries == ()
    before = stored_state(desk)
    with pytest.raises(InvalidIdentifierError, match="unified social credit code"):
        desk.onboard_customer(
            RM,
            kind="sme",
            legal_name="坏码公司",
            registration_id="91310000MA1FL4T01B",  # wrong check digit
            home_region="310000",
            industry_code="F5191",
        )
    assert stored_state(desk) == before


def test_same_registration_id_is_a_duplicate_and_writes_nothing() -> None:
    desk = a_desk()
    first = an_onboarded_customer(desk, statements=False)
    before = stored_state(desk)
    with pytest.raises(DuplicateCustomerError) as refused:
        an_onboarded_customer(desk, statements=False, legal_name="另一家公司")
    assert str(first) in str(refused.value)
    assert make_uscc(1) not in str(refused.value)  # the registration id is masked
    assert make_uscc(1)[-4:] in str(refused.value)
    assert stored_state(desk) == before


def test_a_remote_customer_is_flagged() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk, home_region="440300", statements=False)
    with desk.store.unit_of_work() as uow:
        assert uow.customers.get(customer).is_remote


def test_profile_changes_and_exit() -> None:
    desk = a_desk()
    customer, facility = a_funded_customer(desk)
    desk.update_customer(RM, customer, segment="vip", relationship_manager="usr_rm2")
    with desk.store.unit_of_work() as uow:
        stored = uow.customers.get(customer)
    assert stored.segment.value == "vip" and str(stored.relationship_manager) == "usr_rm2"
    desk.draw(RM, facility, M("100.00 CNY"), key="d1")
    from creditmgmt.domain import InvalidTransitionError

    with pytest.raises(InvalidTransitionError, match=r"100\.00 CNY drawn"):
        desk.exit_customer(RM, customer, reason="moving")


def test_form_group_opens_the_group_limit_over_existing_masters() -> None:
    desk = a_desk()
    a, fa = a_funded_customer(desk, serial=1, limit="400.00")
    b, fb = a_funded_customer(desk, serial=2, limit="300.00")
    group = desk.form_group(
        ADMIN, name="示例集团", members=[a, b], limit=M("800.00 CNY"), start=date(2026, 3, 2),
        term_months=12,
    )  # fmt: skip
    with desk.store.unit_of_work() as uow:
        stored = uow.groups.get(group)
        assert stored.limit_facility_id is not None
        tree = uow.facilities.tree(stored.limit_facility_id)
        assert {f.id for f in tree} >= {fa, fb}
        from creditmgmt.domain import LimitTree

        assert LimitTree(tree, complete=True).violations() == []
        assert uow.customers.get(a).group_id == group


def test_group_refusals_name_the_reason() -> None:
    desk = a_desk()
    a, _ = a_funded_customer(desk, serial=1, limit="400.00")
    b, _ = a_funded_customer(desk, serial=2, limit="300.00")
    before = stored_state(desk)
    with pytest.raises(GroupLimitError, match=r"700\.00 CNY, more than the group limit 600\.00"):
        desk.form_group(
            ADMIN, name="G", members=[a, b], limit=M("600.00 CNY"), start=date(2026, 3, 2),
            term_months=12,
        )  # fmt: skip
    assert stored_state(desk) == before
    desk.form_group(
        ADMIN, name="G", members=[a], limit=M("600.00 CNY"), start=date(2026, 3, 2), term_months=12
    )
    with pytest.raises(GroupLimitError, match="already belongs"):
        desk.form_group(
            ADMIN, name="H", members=[a, b], limit=M("900.00 CNY"), start=date(2026, 3, 2),
            term_months=12,
        )  # fmt: skip
    with pytest.raises(NotFoundError):
        desk.form_group(
            ADMIN, name="I", members=[CustomerId("cus_nobody")], limit=M("1.00 CNY"),
            start=date(2026, 3, 2), term_months=12,
        )  # fmt: skip


def test_credit_file_entries_verification_and_confidentiality() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk)
    desk.add_file_entry(
        RM, customer, key="litigation-note", section="litigation", source="court registry",
        as_of=date(2026, 2, 1), confidentiality=Confidentiality.CONFIDENTIAL,
        facts={"case": "2026-沪0115-1"},
    )  # fmt: skip
    desk.verify_entry(ANALYST, customer, "litigation-note")
    view = desk.credit_file(ANALYST, customer)
    entry = next(e for e in view.entries if e.key == "litigation-note")
    assert entry.is_verified and str(entry.verified_by) == "usr_analyst"
    assert entry.section is Section.LITIGATION
    assert [s.period_end.year for s in view.statements] == [2024, 2025]
    # SECRET is above the analyst's clearance: refused, and invisible to lower clearances
    with pytest.raises(PermissionDeniedError, match="clearance confidential"):
        desk.add_file_entry(
            ANALYST, customer, key="x", section="documents", source="s",
            as_of=date(2026, 2, 1), confidentiality=Confidentiality.SECRET,
        )  # fmt: skip
    desk.add_file_entry(
        ADMIN, customer, key="board-minutes", section="documents", source="board",
        as_of=date(2026, 2, 1), confidentiality=Confidentiality.SECRET,
    )  # fmt: skip
    assert "board-minutes" not in {e.key for e in desk.credit_file(RISK, customer).entries}
    assert desk.credit_file(RISK, customer).hidden == 1
    assert "board-minutes" in {e.key for e in desk.credit_file(AUDITOR, customer).entries}


def test_statements_feed_the_ratios() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk, statements=False)
    statement = a_statement(period_end=date(2025, 12, 31))
    key = desk.add_statement(ANALYST, customer, statement)
    assert key == "statement:2025-12-31"
    (stored,) = desk.credit_file(ANALYST, customer).statements
    assert stored == statement
    assert stored.current_ratio == statement.current_ratio is not None


def test_bureau_reports_come_through_the_port() -> None:
    from creditmgmt.adapters.bureau import FakeBureau

    bureau = FakeBureau(overdue={make_uscc(1)})
    desk = a_desk(bureau=bureau)
    customer = an_onboarded_customer(desk, statements=False)
    key = desk.pull_bureau_report(ANALYST, customer)
    view = desk.credit_file(ANALYST, customer)
    report = next(e.bureau_report for e in view.entries if e.key == key)
    assert report is not None and report.overdue_at_other_banks
    assert bureau.calls == [(make_uscc(1), date(2026, 3, 2))]
    bureau.down = True
    before = stored_state(desk)
    with pytest.raises(ExternalServiceError):
        desk.pull_bureau_report(ANALYST, customer)
    assert stored_state(desk) == before


def test_a_desk_without_a_bureau_says_so() -> None:
    from creditmgmt.adapters.clocks_and_ids import FixedClock
    from creditmgmt.bootstrap import open_desk
    from creditmgmt.testing.desk import DESK_AT

    with open_desk(
        "memory://", rules="cn-2023", clock=FixedClock(DESK_AT), institution_region="310000"
    ) as desk:
        customer = an_onboarded_customer(desk, statements=False)
        with pytest.raises(ConfigurationError, match="no credit bureau"):
            desk.pull_bureau_report(ANALYST, customer)
