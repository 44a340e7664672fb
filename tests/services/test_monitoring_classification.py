"""The daily run's five-category classification through the cn-2023 rule set: DPD and card
boundaries, borrower contagion, the NPL upgrade rule and the restructuring observation
period, on the memory store."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from tests.services import monitoring_book as book

from creditmgmt.adapters.clocks_and_ids import SequentialIds
from creditmgmt.domain.classification import Category
from creditmgmt.domain.customer import CustomerKind
from creditmgmt.domain.products import ProductType


# boundaries through the rule set ----------------------------------------------------------
@pytest.mark.parametrize(
    ("dpd", "category"),
    [
        (0, Category.NORMAL),
        (1, Category.SPECIAL_MENTION),
        (90, Category.SPECIAL_MENTION),
        (91, Category.SUBSTANDARD),
        (270, Category.SUBSTANDARD),
        (271, Category.DOUBTFUL),
        (360, Category.DOUBTFUL),
        (361, Category.LOSS),
    ],
)
def test_dpd_boundaries_classify_through_the_rule_set(dpd: int, category: Category) -> None:
    with book.monitoring_desk() as desk:
        _, (loan,), _ = book.a_customer_with_loans(desk, SequentialIds(), serial=1)
        desk.run_daily(book.FIRST_DUE + timedelta(days=dpd))
        assert book.loan_of(desk, loan).dpd(book.FIRST_DUE + timedelta(days=dpd)) == dpd
        assert book.category_of(desk, loan) is category


@pytest.mark.parametrize(
    ("dpd", "category"),
    [
        (90, Category.SPECIAL_MENTION),
        (91, Category.SUBSTANDARD),
        (121, Category.DOUBTFUL),
        (180, Category.DOUBTFUL),
        (181, Category.LOSS),
    ],
)
def test_card_loans_use_the_card_ladder(dpd: int, category: Category) -> None:
    with book.monitoring_desk() as desk:
        _, (loan,), _ = book.a_customer_with_loans(
            desk, SequentialIds(), serial=1, kind=CustomerKind.INDIVIDUAL, product=ProductType.CARD
        )
        desk.run_daily(book.FIRST_DUE + timedelta(days=dpd))
        assert book.category_of(desk, loan) is category


# contagion ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("npl_amount", "other_amount", "other_category"),
    [
        ("100000.00", "900000.00", Category.NORMAL),  # exactly 10% NPL: no contagion
        ("100000.00", "899999.00", Category.SUBSTANDARD),  # just above 10%
    ],
)
def test_contagion_above_ten_percent_only(
    npl_amount: str, other_amount: str, other_category: Category
) -> None:
    with book.monitoring_desk() as desk:
        as_of = book.FIRST_DUE + timedelta(days=95)
        _, (late, current), _ = book.a_customer_with_loans(
            desk,
            SequentialIds(),
            serial=1,
            amounts=(npl_amount, other_amount),
            starts=(book.START, as_of - timedelta(days=5)),  # the second loan not yet due
        )
        desk.run_daily(as_of)
        assert book.category_of(desk, late) is Category.SUBSTANDARD
        assert book.category_of(desk, current) is other_category
        risk = book.loan_of(desk, current).risk
        assert risk is not None and risk.own_category is Category.NORMAL


def test_retail_borrowers_get_no_contagion() -> None:
    with book.monitoring_desk() as desk:
        _, (late, current), _ = book.a_customer_with_loans(
            desk,
            SequentialIds(),
            serial=1,
            kind=CustomerKind.INDIVIDUAL,
            amounts=("500000.00", "500000.00"),
        )
        as_of = book.FIRST_DUE + timedelta(days=95)
        book.pay_all_due(desk, current, as_of - timedelta(days=1))
        desk.run_daily(as_of)
        assert book.category_of(desk, late) is Category.SUBSTANDARD
        assert book.category_of(desk, current) is Category.NORMAL


# upgrade and restructuring --------------------------------------------------------------------
def test_npl_is_upgraded_only_after_two_periods_and_six_months_paid() -> None:
    with book.monitoring_desk() as desk:
        _, (loan,), _ = book.a_customer_with_loans(desk, SequentialIds(), serial=1)
        npl_day = book.FIRST_DUE + timedelta(days=95)  # 2025-05-21
        desk.run_daily(npl_day)
        assert book.category_of(desk, loan) is Category.SUBSTANDARD
        cured = npl_day + timedelta(days=1)
        book.pay_all_due(desk, loan, cured)
        desk.run_daily(cured)  # arrears repaid: the upgrade clock starts, still NPL
        assert book.category_of(desk, loan) is Category.SUBSTANDARD
        day = cured
        # pay every instalment on its due date; stay NPL for fewer than 6 months
        while day + timedelta(days=15) < date(2025, 11, 22):
            day += timedelta(days=15)
            book.pay_all_due(desk, loan, day)
            desk.run_daily(day)
            assert book.category_of(desk, loan) is Category.SUBSTANDARD, day
        book.pay_all_due(desk, loan, date(2025, 11, 22))
        desk.run_daily(date(2025, 11, 22))  # 6 months and > 2 periods since the cure
        assert book.category_of(desk, loan) is Category.NORMAL


def test_a_new_miss_restarts_the_upgrade_clock() -> None:
    with book.monitoring_desk() as desk:
        _, (loan,), _ = book.a_customer_with_loans(desk, SequentialIds(), serial=1)
        npl_day = book.FIRST_DUE + timedelta(days=95)
        desk.run_daily(npl_day)
        book.pay_all_due(desk, loan, npl_day)
        desk.run_daily(npl_day + timedelta(days=1))
        risk = book.loan_of(desk, loan).risk
        assert risk is not None and risk.cure_start == npl_day + timedelta(days=1)
        desk.run_daily(date(2025, 6, 20))  # the 2025-06-15 instalment unpaid
        risk = book.loan_of(desk, loan).risk
        assert risk is not None and risk.cure_start is None
        assert risk.category is Category.SUBSTANDARD


def test_restructured_loan_stays_special_mention_for_its_observation_period() -> None:
    with book.monitoring_desk() as desk:
        _, (loan_id,), _ = book.a_customer_with_loans(
            desk, SequentialIds(), serial=1, loan_months=24
        )
        with desk.store.unit_of_work() as uow:
            loan = uow.drawdowns.get(loan_id)
            loan.restructure(on=date(2025, 1, 20))  # observation from 2025-02-15
            uow.commit()
        day = date(2025, 1, 21)
        desk.run_daily(day)
        assert book.category_of(desk, loan_id) is Category.SPECIAL_MENTION
        while day < date(2026, 1, 14):
            day += timedelta(days=30)
            book.pay_all_due(desk, loan_id, day)
            desk.run_daily(day)
            if day < date(2026, 2, 15):
                assert book.category_of(desk, loan_id) is Category.SPECIAL_MENTION, day
        day = date(2026, 2, 16)
        book.pay_all_due(desk, loan_id, day)
        desk.run_daily(day)  # a year and 2+ periods from 2025-02-15, all paid
        assert book.category_of(desk, loan_id) is Category.NORMAL
        assert book.loan_of(desk, loan_id).restructured_on is None


def test_a_missed_payment_under_restructuring_is_substandard_and_restarts() -> None:
    with book.monitoring_desk() as desk:
        _, (loan_id,), _ = book.a_customer_with_loans(desk, SequentialIds(), serial=1)
        with desk.store.unit_of_work() as uow:
            uow.drawdowns.get(loan_id).restructure(on=date(2025, 1, 20))
            uow.commit()
        desk.run_daily(date(2025, 2, 20))  # the 2025-02-15 instalment missed
        assert book.category_of(desk, loan_id) is Category.SUBSTANDARD
        risk = book.loan_of(desk, loan_id).risk
        assert risk is not None and risk.observation_start == date(2025, 2, 15)
