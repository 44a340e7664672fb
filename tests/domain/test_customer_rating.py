"""A customer's rating: the grade last approved, and the grades held in the year before it."""

from __future__ import annotations

from datetime import date

import pytest

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.testing.builders import a_customer


def test_a_rating_keeps_the_grades_of_the_year_before_and_records_an_event() -> None:
    customer = a_customer()
    customer.pull_events()
    customer.rate("AA", on=date(2023, 6, 1))
    customer.rate("A", on=date(2024, 1, 10))
    customer.rate("BBB", on=date(2025, 3, 1))
    customer.rate("BB", on=date(2025, 9, 1))
    customer.rate("B", on=date(2026, 2, 1))
    rating = customer.rating
    assert rating is not None and (rating.grade, rating.rated_on) == ("B", date(2026, 2, 1))
    # A was held until 2025-03-01, within the year before 2026-02-01; AA ended in 2024
    assert [(g.grade, g.on) for g in rating.earlier] == [
        ("BB", date(2025, 9, 1)),
        ("BBB", date(2025, 3, 1)),
        ("A", date(2024, 1, 10)),
    ]
    assert rating.grades_since(date(2025, 2, 1)) == ["B", "BB", "BBB", "A"]
    assert rating.grades_since(date(2025, 3, 1)) == ["B", "BB", "BBB"]
    assert rating.grades_since(date(2025, 10, 1)) == ["B", "BB"]
    assert rating.grades_since(date(2026, 2, 1)) == ["B"]
    assert rating.review_due(6) == date(2026, 8, 1)
    events = customer.pull_events()
    assert [(e.event_type, e.grade, e.previous_grade) for e in events] == [  # type: ignore[attr-defined]
        ("CustomerRated", "AA", None),
        ("CustomerRated", "A", "AA"),
        ("CustomerRated", "BBB", "A"),
        ("CustomerRated", "BB", "BBB"),
        ("CustomerRated", "B", "BB"),
    ]


def test_a_rating_before_the_current_one_is_refused() -> None:
    customer = a_customer()
    customer.rate("A", on=date(2025, 3, 1))
    with pytest.raises(InvalidValueError, match="2025-02-01 is before the current rating"):
        customer.rate("BBB", on=date(2025, 2, 1))
