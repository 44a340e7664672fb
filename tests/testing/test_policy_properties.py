"""`creditmgmt.testing.policies`: properties a policy team runs on its own rule set."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.rule_documents import RULES, SEEDED

from creditmgmt.policies import builtin_ruleset, load_ruleset
from creditmgmt.testing.policies import (
    assert_bounded,
    assert_monotone,
    boundaries,
    input_values,
    rows,
)

FAST = settings(max_examples=150, deadline=None, database=None)


def test_monotone_and_bounded_rules_pass() -> None:
    rules = load_ruleset(RULES)
    assert_monotone(rules, "classification", input="dpd", output="category", settings=FAST)
    assert_monotone(
        rules, "limit", input="revenue", output="limit", direction="increasing", settings=FAST
    )
    assert_bounded(rules, "limit", output="limit", low=0, high="requested", settings=FAST)


def test_a_seeded_non_monotone_row_fails_with_both_rows() -> None:
    rules = load_ruleset(SEEDED)
    with pytest.raises(AssertionError, match="substandard' -> 'special_mention'"):
        assert_monotone(rules, "classification", input="dpd", output="category", settings=FAST)


def test_a_broken_bound_fails() -> None:
    rules = load_ruleset(RULES)
    with pytest.raises(AssertionError, match="outside"):
        assert_bounded(rules, "limit", output="limit", high=100, settings=FAST)


def test_builtin_classification_never_improves_with_more_dpd() -> None:
    rules = builtin_ruleset("cn-2023")
    assert_monotone(rules, "classification", input="dpd", output="category", settings=FAST)


def test_unknown_names_are_refused() -> None:
    rules = load_ruleset(RULES)
    with pytest.raises(KeyError, match="grade"):
        assert_monotone(rules, "classification", input="grade", output="category")
    with pytest.raises(KeyError, match="rate"):
        assert_monotone(rules, "classification", input="dpd", output="rate")
    with pytest.raises(KeyError, match="salary"):
        assert_bounded(rules, "limit", output="limit", high="salary")


def test_boundaries_are_the_numbers_the_rules_name() -> None:
    marks = boundaries(load_ruleset(RULES))
    assert {Decimal(30), Decimal(90), Decimal(180), Decimal(360), Decimal("0.3")} <= set(marks)


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_rows_respect_declared_domains_and_fixed_values(data: st.DataObject) -> None:
    rules = load_ruleset(RULES)
    row = data.draw(rows(rules, "limit", requested=Decimal(5)))
    assert row["requested"] == 5 and row["revenue"] >= 0
    assert data.draw(input_values(rules, "dpd")) >= 0
