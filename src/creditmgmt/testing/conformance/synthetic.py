"""The synthetic kinds, records and values the storage contracts store: two small kinds
(`thing` with a column of each type, `other`), hostile texts, the largest amount, a fixed clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.adapters.records.contract import (
    ColumnSpec,
    KindSpec,
    Record,
)

HOSTILE_TEXTS = (
    "上海浦东发展银行股份有限公司",
    'O\'Reilly "quoted" `back`',
    "'; DROP TABLE records; --",
    "100% _wild_ [chars] \\ backslash",
    "emoji 😀 and combining é",
)

BIG = Decimal("999999999999999.99")

THING = KindSpec(
    "thing",
    (
        ColumnSpec("name", "str"),
        ColumnSpec("code", "str", unique=True),
        ColumnSpec("amount", "decimal"),
        ColumnSpec("due", "date"),
        ColumnSpec("flag", "bool"),
        ColumnSpec("n", "int"),
    ),
)

OTHER = KindSpec("other", (ColumnSpec("thing_id", "str"),))

TEST_KINDS: Mapping[str, KindSpec] = {"thing": THING, "other": OTHER}

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def thing(
    record_id: str,
    *,
    version: int = 1,
    name: str = "n",
    code: str | None = None,
    amount: Decimal = Decimal("1.00"),
    due: date | None = date(2026, 1, 1),
    flag: bool = False,
    n: int = 0,
    doc: dict[str, Any] | None = None,
) -> Record:
    return Record(
        "thing",
        record_id,
        version,
        doc if doc is not None else {"name": name, "n": n},
        {"name": name, "code": code, "amount": amount, "due": due, "flag": flag, "n": n},
    )


def fixed_clock() -> FixedClock:
    return FixedClock(AT)


def in_threads(work: Callable[[int], object], count: int, *, timeout: float = 300) -> None:
    """Run `work(0)` ... `work(count - 1)` in threads at once; fail with what any of them
    raised (a hung worker fails the join's `timeout` check)."""
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            work(worker)
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    pool = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=timeout)
    assert not any(t.is_alive() for t in pool), f"a worker still runs after {timeout} s"
    assert not errors, errors
