"""`Trace.lines()` / `str(trace)`: numbered steps, the PRIORITY row that decided marked,
amounts formatted."""

from __future__ import annotations

from decimal import Decimal

from creditmgmt.policies import builtin_ruleset
from creditmgmt.policies.decision import DECIDES, Trace


def test_the_priority_row_that_decided_is_marked() -> None:
    rules = builtin_ruleset("cn-2023")
    decision = rules.evaluate("classification", {"dpd": 95, "restructured": True}, trace=True)
    assert decision["category"] == "substandard"
    trace = decision.trace
    assert trace is not None
    decided = [s for s in trace.steps if s.get("decides")]
    assert [s["rule"] for s in decided] == ["ss_dpd_over_90"]
    lines = trace.lines()
    assert len(lines) == len(decision.matched) == 4
    marked = [text for _n, text in lines if text.endswith(DECIDES)]
    assert marked == [f"rule=ss_dpd_over_90, cells={{dpd: > 90}}, line=392 {DECIDES}"]
    assert "decides=" not in str(trace)
    assert str(trace).splitlines()[0] == "1. rule=normal, cells={}, line=376"


def test_a_first_or_unique_table_marks_nothing() -> None:
    rules = builtin_ruleset("cn-2023")
    trace = rules.evaluate("collections", {"dpd": 95}, trace=True).trace
    assert trace is not None
    assert not any(s.get("decides") for s in trace.steps)
    assert DECIDES not in str(trace)


def test_amounts_are_formatted_and_lookups_numbered_under_their_step() -> None:
    rules = builtin_ruleset("cn-2023")
    decision = rules.evaluate(
        "provisioning_mof2012",
        {"category": "substandard", "balance": "33000000"},
        trace=True,
    )
    assert decision["provision"] == Decimal("9900000.00")
    assert decision.trace is not None
    text = str(decision.trace)
    assert "value=9,900,000.00" in text and "9900000" not in text
    assert "\n1.1. rule=substandard" in text  # the lookup's own row, under step 1
    # a caller's own formatter and mark
    lines = decision.trace.lines(lambda k, v: f"<{v}>", mark="*")
    assert lines[0][1].startswith("lookup=<mof2012_rates>")


def test_a_hand_built_trace_renders_without_a_rule_set() -> None:
    trace = Trace(
        "b",
        {},
        (
            {"rule": "r1", "cells": {}, "line": 3},
            {"rule": "r2", "cells": {}, "line": 4, "decides": True},
            {"output": "x", "value": Decimal("1E+3"), "flag": True, "items": ()},
        ),
    )
    assert str(trace).splitlines() == [
        "1. rule=r1, cells={}, line=3",
        f"2. rule=r2, cells={{}}, line=4 {DECIDES}",
        "3. output=x, value=1,000.00, flag=true, items=[]",
    ]
