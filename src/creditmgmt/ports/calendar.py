"""The business-calendar port: which days are working days, and date arithmetic on them.

Review deadlines ("within 5 business days"), due-date rolling and reminders count working
days. A calendar implements `is_business_day`; the arithmetic is shared. `WeekendCalendar`
(Monday to Friday) is the fallback; `creditmgmt.adapters.calendars.ChineseWorkingDays` knows
the official PRC holidays and the adjusted working weekends (调休).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from creditmgmt.domain.errors import InvalidValueError

#: A calendar that finds no working day within this many days is broken.
_MAX_SEARCH: Final = 370


class Roll(StrEnum):
    """How a date that falls on a non-working day moves.

    following: to the next working day. modified_following: the next working day unless
    that is in the next month, then the previous one. preceding: the previous working day.
    """

    FOLLOWING = "following"
    MODIFIED_FOLLOWING = "modified_following"
    PRECEDING = "preceding"


class BusinessCalendar(ABC):
    """Working days and the arithmetic on them."""

    @abstractmethod
    def is_business_day(self, day: date) -> bool:
        """True for a working day."""

    def _step(self, day: date, direction: int) -> date:
        for _ in range(_MAX_SEARCH):
            day += timedelta(days=direction)
            if self.is_business_day(day):
                return day
        raise InvalidValueError(f"{type(self).__name__}: no working day within a year of {day}")

    def add_business_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (before it when negative); `start`
        itself need not be a working day. 0 returns `start`.

        Raises:
            InvalidValueError: the calendar has no working day within a year.
        """
        direction = 1 if days >= 0 else -1
        day = start
        for _ in range(abs(days)):
            day = self._step(day, direction)
        return day

    def roll(self, day: date, convention: Roll | str = Roll.FOLLOWING) -> date:
        """Move a non-working `day` by the convention (a working day stays).

        Raises:
            ValueError: an unknown convention.
            InvalidValueError: the calendar has no working day within a year.
        """
        rule = Roll(convention)
        if self.is_business_day(day):
            return day
        if rule is Roll.PRECEDING:
            return self._step(day, -1)
        following = self._step(day, 1)
        if rule is Roll.MODIFIED_FOLLOWING and following.month != day.month:
            return self._step(day, -1)
        return following

    def business_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many `add_business_days` steps lead from
        `start` to `end` or past it (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count


class WeekendCalendar(BusinessCalendar):
    """Monday to Friday, no holidays: the fallback where no official calendar is known."""

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5
