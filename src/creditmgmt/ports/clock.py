"""The clock port: "now" and "today" come from here, never from the system in the core."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""
        ...

    def today(self) -> date:
        """The business date."""
        ...
