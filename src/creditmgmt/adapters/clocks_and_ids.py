"""Implementations of the clock and id-source ports."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime, timedelta, tzinfo


class SystemClock:
    """The machine's clock; `today()` is the date in the given time zone (UTC by default)."""

    def __init__(self, tz: tzinfo = UTC) -> None:
        self._tz = tz

    def now(self) -> datetime:
        return datetime.now(self._tz)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that stands still until moved — for tests, replays and batch runs."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def today(self) -> date:
        return self.now().date()

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._at += delta

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        with self._lock:
            self._at = at


class SequentialIds:
    """A deterministic `IdSource`: 00000001, 00000002, ... (tests, demos, replays)."""

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self._lock = threading.Lock()

    def next_id(self) -> str:
        with self._lock:
            value, self._next = self._next, self._next + 1
        return f"{value:08d}"


class UuidIdSource:
    """Random 128-bit ids as 32 hex digits (uuid4)."""

    def next_id(self) -> str:
        return uuid.uuid4().hex
