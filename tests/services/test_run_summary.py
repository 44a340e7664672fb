"""A daily run's tallies and summaries: every counter is stored, read back and added up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain.classification import Category
from creditmgmt.services.monitoring.summary import (
    COUNTERS,
    DailyRunSummary,
    RunError,
    Tally,
)

counters = st.fixed_dictionaries({name: st.integers(0, 10**9) for name in COUNTERS})


def a_tally(values: dict[str, int], *, subject: str = "cus_1") -> Tally:
    tally = Tally(errors=[RunError(subject=subject, error="bad")])
    for name, value in values.items():
        setattr(tally, name, value)
    tally.loan(Category.NORMAL, "CNY", Decimal("100.00"), Decimal("1.50"))
    return tally


def test_the_counters_are_exactly_the_tallys_whole_number_fields() -> None:
    ints = {a.name for a in attrs.fields(Tally) if a.type in (int, "int")}
    assert set(COUNTERS) == ints
    summary_fields = {a.name for a in attrs.fields(DailyRunSummary)}
    assert set(COUNTERS) <= summary_fields


@given(counters)
def test_a_tally_reads_back_what_it_stored(values: dict[str, int]) -> None:
    tally = a_tally(values)
    assert Tally.from_json(tally.to_json()) == tally


@given(counters, counters)
def test_tallies_and_summaries_add_up_counter_by_counter(
    first: dict[str, int], second: dict[str, int]
) -> None:
    a, b = a_tally(first), a_tally(second, subject="cus_2")
    day = date(2026, 3, 2)
    left = DailyRunSummary.of(day, (0, 2), a, "rs@1", 1)
    right = DailyRunSummary.of(day, (1, 2), b, "rs@1", 2)
    a.add(b)
    merged = left.merge(right)
    for name in COUNTERS:
        expected = first[name] + second[name] + (1 if name == "loans" else 0) * 2
        assert getattr(a, name) == expected, name
        assert getattr(merged, name) == expected, name
    assert merged == DailyRunSummary.of(day, (0, 1), a, "rs@1", 3)
    assert [e.subject for e in merged.errors] == ["cus_1", "cus_2"]
