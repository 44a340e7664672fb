"""Official working-day calendars.

`ChineseWorkingDays` reads the PRC State Council holiday schedule (法定节假日 and the
adjusted working weekends, 调休) from the maintained `chinesecalendar` package
(`pip install creditmgmt[calendar]`). The package covers the years whose schedule has been
published; for a later year the calendar falls back to Monday–Friday (`beyond="weekends"`,
the default) or refuses (`beyond="raise"`: `ConfigurationError`), as the host chooses —
`covers(day)` tells which years are official.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from creditmgmt.ports.calendar import BusinessCalendar
from creditmgmt.ports.errors import ConfigurationError


def _module() -> Any:
    try:
        import chinese_calendar
    except ModuleNotFoundError as e:  # pragma: no cover - depends on the installation
        raise ConfigurationError(
            "the Chinese working-day calendar needs the chinesecalendar package: "
            "pip install creditmgmt[calendar]"
        ) from e
    return chinese_calendar


class ChineseWorkingDays(BusinessCalendar):
    """PRC working days: weekends off unless adjusted to working days, holidays off.

    Raises:
        ConfigurationError: the package is missing, or (with `beyond="raise"`) a day outside
            the published years is asked about.
    """

    def __init__(self, *, beyond: Literal["weekends", "raise"] = "weekends") -> None:
        if beyond not in ("weekends", "raise"):
            raise ConfigurationError(f"beyond must be 'weekends' or 'raise', got {beyond!r}")
        self._cc = _module()
        self._beyond = beyond
        self._cache: dict[date, bool] = {}

    def covers(self, day: date) -> bool:
        """True when `day` falls in a year the official schedule is known for."""
        try:
            self._cc.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def is_business_day(self, day: date) -> bool:
        known = self._cache.get(day)
        if known is not None:
            return known
        try:
            result = bool(self._cc.is_workday(day))
        except NotImplementedError as e:
            if self._beyond == "raise":
                raise ConfigurationError(
                    f"no official PRC working-day schedule for {day.year} in the installed "
                    "chinesecalendar package (upgrade it)"
                ) from e
            result = day.weekday() < 5
        self._cache[day] = result
        return result
