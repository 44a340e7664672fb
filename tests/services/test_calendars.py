"""Business calendars: the weekend fallback, the PRC calendar across the National Day week,
due-date rolling and review deadlines counted in working days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from creditmgmt.adapters.calendars import ChineseWorkingDays
from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.domain import InvalidValueError, Money
from creditmgmt.ports.calendar import BusinessCalendar, Roll, WeekendCalendar
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.testing.builders import M, a_schedule
from creditmgmt.testing.desk import AUDITOR, RM, a_desk, a_funded_customer

CN = ChineseWorkingDays()


def test_weekends_only_fallback() -> None:
    weekdays = WeekendCalendar()
    friday = date(2026, 10, 2)
    assert weekdays.add_business_days(friday, 1) == date(2026, 10, 5)
    assert weekdays.add_business_days(friday, -5) == date(2026, 9, 25)
    assert weekdays.add_business_days(friday, 0) == friday
    assert weekdays.roll(date(2026, 10, 3)) == date(2026, 10, 5)
    assert weekdays.roll(date(2026, 10, 3), Roll.PRECEDING) == friday
    assert weekdays.business_days_between(friday, date(2026, 10, 9)) == 5


def test_the_national_day_week_2026() -> None:
    # Mid-autumn 25-27 Sep, National Day 1-7 Oct; Saturday 10 Oct is an adjusted working day
    assert not CN.is_business_day(date(2026, 10, 1))
    assert not CN.is_business_day(date(2026, 10, 7))
    assert CN.is_business_day(date(2026, 10, 10))  # 调休: a Saturday at work
    assert CN.add_business_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # a red warning on 30 Sep: 5 working days are 8, 9, 10 (Sat), 12, 13 Oct
    assert CN.add_business_days(date(2026, 9, 30), 5) == date(2026, 10, 13)
    assert WeekendCalendar().add_business_days(date(2026, 9, 30), 5) == date(2026, 10, 7)
    assert CN.roll(date(2026, 10, 1)) == date(2026, 10, 8)
    assert CN.roll(date(2026, 10, 1), Roll.PRECEDING) == date(2026, 9, 30)


def test_modified_following_stays_in_the_month() -> None:
    class MonthEndHoliday(BusinessCalendar):
        def is_business_day(self, day: date) -> bool:
            return day.weekday() < 5 and day != date(2026, 7, 31)

    cal = MonthEndHoliday()
    assert cal.roll(date(2026, 7, 31), Roll.FOLLOWING) == date(2026, 8, 3)
    assert cal.roll(date(2026, 7, 31), Roll.MODIFIED_FOLLOWING) == date(2026, 7, 30)
    with pytest.raises(ValueError, match="sideways"):
        cal.roll(date(2026, 7, 31), "sideways")


def test_beyond_the_published_years() -> None:
    assert CN.covers(date(2026, 1, 1)) and not CN.covers(date(2099, 1, 1))
    assert CN.is_business_day(date(2099, 1, 2))  # a Friday: weekday fallback
    strict = ChineseWorkingDays(beyond="raise")
    with pytest.raises(ConfigurationError, match="no official PRC working-day schedule for 2099"):
        strict.is_business_day(date(2099, 1, 2))


def test_a_calendar_without_working_days_is_refused() -> None:
    class Never(BusinessCalendar):
        def is_business_day(self, day: date) -> bool:
            return False

    with pytest.raises(InvalidValueError, match="no working day within a year"):
        Never().add_business_days(date(2026, 1, 1), 1)


def test_schedules_roll_due_dates_off_holidays() -> None:
    schedule = a_schedule(
        "1200.00 CNY",
        start=date(2026, 9, 1),
        term_months=3,
        roll=lambda d: CN.roll(d, Roll.MODIFIED_FOLLOWING),
    )
    assert [i.due_date for i in schedule] == [
        date(2026, 10, 8),  # 1 Oct is National Day
        date(2026, 11, 2),  # 1 Nov is a Sunday
        date(2026, 12, 1),
    ]
    assert schedule.total_principal == M("1200.00 CNY")
    assert Money.zero("CNY") < schedule.total_interest


def test_the_desk_counts_working_days_of_its_calendar() -> None:
    clock = FixedClock(datetime(2026, 9, 30, 9, 0, tzinfo=UTC))
    desk = a_desk(clock=clock, calendar=CN)
    customer, facility = a_funded_customer(desk, term_months=12)
    complaint = desk.log_interaction(
        RM, customer, kind="complaint", at=datetime(2026, 9, 30, 10, tzinfo=UTC), summary="fee"
    )
    task = next(i for i in desk.timeline(AUDITOR, customer) if str(complaint) in i.summary)
    assert task.on == date(2026, 10, 13)
    loan = desk.draw(RM, facility, M("100.00 CNY"), key="d")
    with desk.store.unit_of_work() as uow:
        due = uow.drawdowns.get(loan).schedule.maturity
    assert due == date(2027, 9, 30)  # a Thursday: no roll needed
