from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain import (
    Amortisation,
    DayCount,
    Frequency,
    InvalidTransitionError,
    LoanStatus,
    Money,
    OverpaymentError,
    Repayment,
    RepaymentSchedule,
)
from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.schedule import MAX_TERM_MONTHS, due_dates
from creditmgmt.testing import strategies as cs
from creditmgmt.testing.builders import (
    EXAMPLE_CUSTOMER,
    EXAMPLE_FACILITY,
    M,
    SequentialIds,
    a_loan,
    a_schedule,
)


def test_due_dates_clip_to_month_end_and_keep_the_drawdown_day() -> None:
    assert due_dates(date(2024, 1, 31), 4, Frequency.MONTHLY) == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert due_dates(date(2025, 1, 15), 2, Frequency.QUARTERLY) == [
        date(2025, 4, 15),
        date(2025, 7, 15),
    ]


def test_end_of_month_rule_is_explicit() -> None:
    start = date(2025, 2, 28)
    assert due_dates(start, 2, Frequency.MONTHLY) == [date(2025, 3, 28), date(2025, 4, 28)]
    assert due_dates(start, 2, Frequency.MONTHLY, end_of_month=True) == [
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]


def test_day_count_conventions() -> None:
    # 2024-01-01 .. 2024-03-01: 60 actual days (leap February)
    start, end = date(2024, 1, 1), date(2024, 3, 1)

    def q(x: Decimal) -> Decimal:
        return x.quantize(Decimal("1e-20"))

    assert q(DayCount.ACT_360.year_fraction(start, end)) == q(Decimal(60) / Decimal(360))
    assert q(DayCount.ACT_365F.year_fraction(start, end)) == q(Decimal(60) / Decimal(365))
    # 30E/360: Jan 31 -> Mar 31 is 60 days (31st counts as 30); Feb 1 -> Mar 1 is 30
    jan31, mar31 = date(2024, 1, 31), date(2024, 3, 31)
    assert q(DayCount.THIRTY_E_360.year_fraction(jan31, mar31)) == q(Decimal(60) / Decimal(360))
    feb1, mar1 = date(2024, 2, 1), date(2024, 3, 1)
    assert q(DayCount.THIRTY_E_360.year_fraction(feb1, mar1)) == q(Decimal(30) / Decimal(360))
    with pytest.raises(InvalidValueError):
        DayCount.ACT_360.year_fraction(end, start)


def test_bullet_pays_interest_by_day_count_and_principal_at_maturity() -> None:
    s = a_schedule(
        "1000000.00 CNY", rate="0.036", start=date(2026, 1, 1), term_months=3,
        amortisation=Amortisation.BULLET, day_count=DayCount.ACT_360,
    )  # fmt: skip
    # Jan: 31 days * 0.036 / 360 * 1,000,000 = 3,100.00
    assert s.installments[0].interest == M("3100.00 CNY")
    assert s.installments[1].interest == M("2800.00 CNY")  # February 2026: 28 days
    assert [i.principal for i in s][:2] == [M("0 CNY"), M("0 CNY")]
    assert s.installments[-1].principal == M("1000000.00 CNY")


def test_equal_principal_splits_evenly_and_last_absorbs_rounding() -> None:
    s = a_schedule("100.00 CNY", term_months=3)
    assert [i.principal for i in s] == [M("33.33 CNY"), M("33.33 CNY"), M("33.34 CNY")]


def test_annuity_installments_are_equal_but_the_last() -> None:
    s = a_schedule("10000.00 CNY", rate="0.06", term_months=6, amortisation=Amortisation.ANNUITY)
    totals = {i.total for i in s.installments[:-1]}
    assert totals == {M("1695.95 CNY")}
    assert s.total_principal == M("10000.00 CNY")


def test_bad_terms_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="whole number"):
        a_schedule(term_months=4, frequency=Frequency.QUARTERLY)
    with pytest.raises(InvalidValueError, match="positive"):
        a_schedule("0.00 CNY")
    for term in (0, -12, MAX_TERM_MONTHS + 1, 2**70):
        with pytest.raises(InvalidValueError, match=f"term_months must be 1 to 600, got {term}"):
            a_schedule(term_months=term)
    assert len(a_schedule(term_months=MAX_TERM_MONTHS).installments) == MAX_TERM_MONTHS


@given(cs.schedules())
def test_schedule_principal_sums_exactly(schedule: RepaymentSchedule) -> None:
    assert schedule.total_principal == schedule.principal
    assert all(not i.principal.is_negative and not i.interest.is_negative for i in schedule)
    dates = [i.due_date for i in schedule]
    assert dates == sorted(set(dates))
    assert dates[0] > schedule.start


def test_repayment_allocation_fees_interest_principal_oldest_first() -> None:
    loan = a_loan(schedule=a_schedule("1200.00 CNY", rate="0.12", term_months=3))
    first, second = loan.schedule.installments[:2]
    allocation = loan.apply(Repayment(first.total + M("5.00 CNY"), first.due_date))
    assert allocation.lines[0].principal == first.principal
    assert allocation.lines[1].interest == M("5.00 CNY")  # next installment's interest first
    assert allocation.lines[1].principal == M("0.00 CNY")
    assert loan.paid[1].interest == M("5.00 CNY")
    assert allocation.total == first.total + M("5.00 CNY")
    assert second.interest > M("5.00 CNY")


def test_dpd_counts_from_the_oldest_unpaid_installment() -> None:
    loan = a_loan(schedule=a_schedule("1200.00 CNY", term_months=3))
    first = loan.schedule.installments[0]
    assert loan.dpd(first.due_date) == 0  # on the due date: not yet past due
    assert loan.dpd(first.due_date + timedelta(days=1)) == 1
    assert loan.dpd(first.due_date + timedelta(days=91)) == 91
    loan.apply(Repayment(first.total - M("0.01 CNY"), first.due_date + timedelta(days=3)))
    assert loan.dpd(first.due_date + timedelta(days=10)) == 10  # a cent short still counts
    loan.apply(Repayment(M("0.01 CNY"), first.due_date + timedelta(days=10)))
    assert loan.dpd(first.due_date + timedelta(days=10)) == 0
    assert loan.arrears(first.due_date + timedelta(days=10)) == M("0.00 CNY")


def test_settlement_and_overpayment() -> None:
    loan = a_loan(schedule=a_schedule("300.00 CNY", term_months=3))
    owed = loan.total_owed
    with pytest.raises(OverpaymentError, match=str(loan.id)):
        loan.apply(Repayment(owed + M("0.01 CNY"), date(2026, 2, 1)))
    loan.apply(Repayment(owed, date(2026, 2, 1)))
    assert loan.status is LoanStatus.SETTLED
    assert loan.outstanding_principal == M("0.00 CNY")
    with pytest.raises(InvalidTransitionError):
        loan.apply(Repayment(M("1.00 CNY"), date(2026, 2, 2)))


@given(cs.loans(), st.integers(0, 3000), st.integers(1, 400))
def test_dpd_never_negative_and_monotone_while_unpaid(loan: object, offset: int, step: int) -> None:
    from creditmgmt.domain import Drawdown

    assert isinstance(loan, Drawdown)
    as_of = loan.drawn_on + timedelta(days=offset)
    later = as_of + timedelta(days=step)
    assert loan.dpd(as_of) >= 0
    assert loan.dpd(later) >= loan.dpd(as_of)
    paid = Decimal(0)
    for p in loan.paid:
        paid += p.principal.amount
    assert loan.outstanding_principal.amount == loan.amount.amount - paid


def test_thirty_360_bond_basis_differs_from_30e_360_only_at_a_31st_end() -> None:
    def days(dc: DayCount, start: date, end: date) -> Decimal:
        return dc.year_fraction(start, end) * 360

    # start on the 15th, end on the 31st: bond basis keeps 31, Eurobond counts 30
    assert days(DayCount.THIRTY_360, date(2025, 1, 15), date(2025, 3, 31)) == 76
    assert days(DayCount.THIRTY_E_360, date(2025, 1, 15), date(2025, 3, 31)) == 75
    # start on the 30th/31st: both count the 31st end as 30
    assert days(DayCount.THIRTY_360, date(2025, 1, 31), date(2025, 3, 31)) == 60
    assert days(DayCount.THIRTY_360, date(2025, 1, 30), date(2025, 3, 31)) == 60
    # February is taken as it is (no end-of-February rule)
    assert days(DayCount.THIRTY_360, date(2025, 1, 31), date(2025, 2, 28)) == 28
    # ACT/365F ignores leap years: 366 actual days are more than a year
    leap_year = DayCount.ACT_365F.year_fraction(date(2024, 1, 1), date(2025, 1, 1))
    assert leap_year * 365 == pytest.approx(Decimal(366), abs=Decimal("1e-30"))


def test_interest_is_rounded_once() -> None:
    # 102.79 × 4.35% × 31/360 = 0.38504…: rounding 102.79 × 4.35% first would give 0.38
    s = a_schedule(
        "102.79 CNY", start=date(2026, 1, 5), term_months=1,
        amortisation=Amortisation.BULLET, day_count=DayCount.ACT_360,
    )  # fmt: skip
    assert s.installments[0].interest == M("0.39 CNY")


def test_quarterly_equal_principal_uses_each_periods_actual_days() -> None:
    s = a_schedule(
        "400000.00 CNY",
        rate="0.036",
        start=date(2026, 1, 31),
        term_months=12,
        frequency=Frequency.QUARTERLY,
    )
    assert [i.due_date for i in s] == [
        date(2026, 4, 30),
        date(2026, 7, 31),
        date(2026, 10, 31),
        date(2027, 1, 31),
    ]
    assert [i.principal for i in s] == [M("100000.00 CNY")] * 4
    # first period Jan 31 → Apr 30 is 89 days: 400,000 × 3.6% × 89/360 = 3,560.00
    assert s.installments[0].interest == M("3560.00 CNY")
    assert s.installments[1].interest == M("2760.00 CNY")  # 300,000 × 3.6% × 92/360


def test_fees_are_paid_before_interest_and_interest_before_principal() -> None:
    s = a_schedule(
        "900.00 CNY", rate="0.12", start=date(2026, 1, 5), term_months=3, fee="10.00 CNY"
    )
    loan = a_loan(schedule=s)
    first = s.installments[0]
    part = loan.apply(Repayment(M("15.00 CNY"), first.due_date))
    assert (part.fees, part.interest, part.principal) == (
        M("10.00 CNY"),
        M("5.00 CNY"),
        M("0.00 CNY"),
    )
    rest = loan.apply(Repayment(first.total - M("15.00 CNY"), first.due_date))
    assert rest.interest == first.interest - M("5.00 CNY")
    assert rest.principal == first.principal
    assert loan.dpd(s.installments[1].due_date) == 0


def test_written_off_loans_take_no_payments() -> None:
    loan = a_loan()
    loan.write_off(on=date(2027, 6, 1))
    assert loan.status is LoanStatus.WRITTEN_OFF
    with pytest.raises(InvalidTransitionError, match="written_off"):
        loan.apply(Repayment(M("1.00 CNY"), date(2027, 6, 2)))
    with pytest.raises(InvalidTransitionError):
        loan.write_off(on=date(2027, 6, 2))


@given(cs.schedules(), st.data())
def test_allocation_never_skips_an_older_installment(
    schedule: RepaymentSchedule, data: st.DataObject
) -> None:
    from creditmgmt.domain import Drawdown

    loan = Drawdown.book(
        SequentialIds(),
        facility_id=EXAMPLE_FACILITY,
        customer_id=EXAMPLE_CUSTOMER,
        schedule=schedule,
    )
    owed = loan.total_owed
    pay = data.draw(st.decimals(min_value="0.01", max_value=owed.amount, places=2))
    allocation = loan.apply(Repayment(Money(pay, loan.currency), schedule.start))
    assert allocation.total == Money(pay, loan.currency)
    # every installment before the last one touched is settled in full
    touched = [line.sequence for line in allocation.lines]
    for inst, paid in zip(schedule.installments, loan.paid, strict=True):
        if inst.sequence < max(touched):
            assert (paid.fees, paid.interest, paid.principal) == (
                inst.fees,
                inst.interest,
                inst.principal,
            )
    assert loan.total_owed == owed - Money(pay, loan.currency)


def test_written_off_loans_keep_their_days_past_due() -> None:
    loan = a_loan()
    first = loan.schedule.installments[0]
    loan.write_off(on=first.due_date + timedelta(days=400))
    assert loan.dpd(first.due_date + timedelta(days=401)) == 401


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    st.integers(1, 60),
    st.sampled_from(list(Frequency)),
)
def test_due_dates_keep_the_drawdown_day_clipped_to_the_month_end(
    start: date, count: int, frequency: Frequency
) -> None:
    import calendar

    dates = due_dates(start, count, frequency)
    assert len(dates) == count
    for n, due in enumerate(dates, start=1):
        months = start.year * 12 + start.month - 1 + n * frequency.months
        year, month = divmod(months, 12)
        last = calendar.monthrange(year, month + 1)[1]
        assert due == date(year, month + 1, min(start.day, last))
