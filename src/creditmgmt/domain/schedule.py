"""Repayment schedules (还款计划): bullet, equal principal and annuity; day-count conventions.

Due dates come from `dateutil.rrule`: monthly or quarterly on the day of the month the loan
was drawn, clipped to the month's end (a loan drawn on Jan 31 pays Feb 28/29, Mar 31, Apr 30).
With `end_of_month=True` and a start on the last day of a month, every due date is a month-end
(a loan drawn on Feb 28 pays Mar 31, Apr 30 ...).

Interest:
- bullet and equal principal: outstanding × annual rate × year fraction of the period under the
  schedule's day-count convention;
- annuity: the periodic nominal rate (annual rate ÷ periods per year) so every installment is
  equal (the last one absorbs rounding); the day count does not apply.
Principal always sums to the amount drawn exactly: the last installment absorbs rounding.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import attrs
from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, rrule

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.money import MONEY_CONTEXT, Money, Rate, check_positive

MAX_TERM_MONTHS = 600
"""The longest term a credit may run: 50 years, past any mortgage's; a longer one is a typo."""


def check_term(term_months: int) -> None:
    """Refuse a term that is not 1 to `MAX_TERM_MONTHS` months.

    Raises:
        InvalidValueError: `"term_months must be 1 to 600, got {term_months}"`.
    """
    if not 0 < term_months <= MAX_TERM_MONTHS:
        raise InvalidValueError(f"term_months must be 1 to {MAX_TERM_MONTHS}, got {term_months}")


class DayCount(StrEnum):
    """Day-count conventions for accrual between two dates (named explicitly, never implied).

    - `ACT_360`: actual days ÷ 360 (RMB loans, money markets);
    - `ACT_365F`: actual days ÷ 365, leap years included (ACT/365 Fixed);
    - `THIRTY_360`: 30/360 bond basis (ISDA 2006 4.16(f)): day 31 counts as 30 at the start,
      and at the end only when the start was on the 30th or 31st; February as it is;
    - `THIRTY_E_360`: 30E/360 Eurobond basis (ISDA 4.16(g)): day 31 counts as 30 at both ends.
    """

    ACT_360 = "act_360"
    ACT_365F = "act_365f"
    THIRTY_360 = "30_360"
    THIRTY_E_360 = "30e_360"

    def year_fraction(self, start: date, end: date) -> Decimal:
        """Fraction of a year from `start` to `end` (exclusive of `end`'s accrual day).

        Raises:
            InvalidValueError: when `end` is before `start`.
        """
        if end < start:
            raise InvalidValueError(f"year fraction: {end} is before {start}")
        if self is DayCount.ACT_360:
            return MONEY_CONTEXT.divide(Decimal((end - start).days), Decimal(360))
        if self is DayCount.ACT_365F:
            return MONEY_CONTEXT.divide(Decimal((end - start).days), Decimal(365))
        d1 = min(start.day, 30)
        if self is DayCount.THIRTY_360:
            d2 = 30 if end.day == 31 and d1 == 30 else end.day
        else:
            d2 = min(end.day, 30)
        days = 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)
        return MONEY_CONTEXT.divide(Decimal(days), Decimal(360))


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"

    @property
    def months(self) -> int:
        return 1 if self is Frequency.MONTHLY else 3

    @property
    def per_year(self) -> int:
        return 12 // self.months


class Amortisation(StrEnum):
    BULLET = "bullet"
    EQUAL_PRINCIPAL = "equal_principal"
    ANNUITY = "annuity"


@attrs.frozen
class Installment:
    """One due date of a schedule and what falls due on it."""

    sequence: int
    due_date: date
    principal: Money
    interest: Money
    fees: Money

    @property
    def total(self) -> Money:
        return self.principal + self.interest + self.fees


def _is_month_end(d: date) -> bool:
    return d.day == calendar.monthrange(d.year, d.month)[1]


def due_dates(
    start: date, count: int, frequency: Frequency, *, end_of_month: bool = False
) -> list[date]:
    """`count` due dates after `start` (see the module doc for month-end handling).

    Raises:
        InvalidValueError: a count that is not positive.
    """
    check_positive("installment count", count)
    first = start + relativedelta(months=frequency.months)
    anchor = datetime(first.year, first.month, 1)
    if end_of_month and _is_month_end(start):
        rule = rrule(MONTHLY, interval=frequency.months, dtstart=anchor, bymonthday=-1, count=count)
    else:
        # the drawdown day, or the month's last day when the month is shorter
        rule = rrule(
            MONTHLY,
            interval=frequency.months,
            dtstart=anchor,
            bymonthday=(start.day, -1),
            bysetpos=1,
            count=count,
        )
    return [d.date() for d in rule]


@attrs.frozen
class RepaymentSchedule:
    """The installments for one drawn amount; build with `RepaymentSchedule.build`."""

    principal: Money
    annual_rate: Rate
    start: date
    amortisation: Amortisation
    frequency: Frequency
    day_count: DayCount
    installments: tuple[Installment, ...]

    @classmethod
    def build(
        cls,
        *,
        principal: Money,
        annual_rate: Rate,
        start: date,
        term_months: int,
        amortisation: Amortisation,
        frequency: Frequency = Frequency.MONTHLY,
        day_count: DayCount = DayCount.ACT_360,
        end_of_month: bool = False,
        fee_per_installment: Money | None = None,
        roll: Callable[[date], date] | None = None,
    ) -> RepaymentSchedule:
        """Generate the schedule. `roll` moves each due date off non-working days (e.g. a
        business calendar's modified-following rule); interest accrues to the rolled dates.

        Raises:
            InvalidValueError: non-positive principal, negative rate, a term past
                `MAX_TERM_MONTHS` or one that is not a whole number of periods.
        """
        check_positive("principal", principal)
        if annual_rate.value < 0:
            raise InvalidValueError(f"annual rate must not be negative, got {annual_rate}")
        check_term(term_months)
        if term_months % frequency.months:
            raise InvalidValueError(
                f"term of {term_months} months is not a whole number of {frequency.value} periods"
            )
        n = term_months // frequency.months
        dates = due_dates(start, n, frequency, end_of_month=end_of_month)
        if roll is not None:
            dates = [roll(d) for d in dates]
            if any(b <= a for a, b in zip([start, *dates], dates, strict=False)):
                raise InvalidValueError(
                    f"rolled due dates {dates} must stay after {start} and in order"
                )
        ccy = principal.currency
        fee = fee_per_installment if fee_per_installment is not None else Money.zero(ccy)
        if fee.currency != ccy or fee.is_negative:
            raise InvalidValueError(
                f"fee per installment {fee} must be a non-negative {ccy} amount"
            )
        parts: list[tuple[Money, Money]] = []  # (principal, interest)
        outstanding = principal
        if amortisation is Amortisation.ANNUITY:
            r = MONEY_CONTEXT.divide(annual_rate.value, Decimal(frequency.per_year))
            if r == 0:
                payment = principal / n
            else:
                factor = MONEY_CONTEXT.power(1 + r, -n)
                payment = Money(
                    MONEY_CONTEXT.divide(principal.amount * r, 1 - factor), principal.currency
                )
            for i in range(n):
                interest = outstanding * r
                part = outstanding if i == n - 1 else (payment - interest).min(outstanding)
                parts.append((part, interest))
                outstanding = outstanding - part
        else:
            even = principal / n
            previous = start
            for i, due in enumerate(dates):
                # one rounding: rate × year fraction first, then the amount (never round twice)
                accrual = MONEY_CONTEXT.multiply(
                    annual_rate.value, day_count.year_fraction(previous, due)
                )
                interest = outstanding * accrual
                if amortisation is Amortisation.BULLET:
                    part = outstanding if i == n - 1 else Money.zero(ccy)
                else:
                    part = outstanding if i == n - 1 else even.min(outstanding)
                parts.append((part, interest))
                outstanding = outstanding - part
                previous = due
        installments = tuple(
            Installment(sequence=i + 1, due_date=d, principal=p, interest=it, fees=fee)
            for i, (d, (p, it)) in enumerate(zip(dates, parts, strict=True))
        )
        return cls(
            principal=principal,
            annual_rate=annual_rate,
            start=start,
            amortisation=amortisation,
            frequency=frequency,
            day_count=day_count,
            installments=installments,
        )

    def __iter__(self) -> Iterator[Installment]:
        return iter(self.installments)

    def __len__(self) -> int:
        return len(self.installments)

    @property
    def maturity(self) -> date:
        return self.installments[-1].due_date

    @property
    def total_principal(self) -> Money:
        return Money.sum((i.principal for i in self.installments), self.principal.currency)

    @property
    def total_interest(self) -> Money:
        return Money.sum((i.interest for i in self.installments), self.principal.currency)
