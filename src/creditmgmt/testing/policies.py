"""Properties a policy team runs against its own rule set, in its own pytest suite.

    from creditmgmt.policies import load_ruleset
    from creditmgmt.testing.policies import assert_bounded, assert_monotone

    rules = load_ruleset("rules.yaml")

    def test_more_dpd_never_improves_the_category():
        assert_monotone(rules, "classification", input="dpd", output="category")

    def test_higher_revenue_never_lowers_the_limit():
        assert_monotone(rules, "limit", input="revenue", output="limit", direction="increasing")

    def test_the_limit_stays_within_the_request():
        assert_bounded(rules, "limit", output="limit", low=0, high="requested")

Hypothesis draws whole input rows from the declared domains — near every number the rule set
names, since that is where policies change — and shrinks a failure to the smallest rows that
show it; the `AssertionError` names both rows and both outputs. `creditmgmt policy prove`
checks the same claims exhaustively at the boundaries; these properties add random
combinations, shrinking and the Hypothesis example database to a team's suite.

Order of an enum output: under a PRIORITY table its declared values run worst first (that is
what PRIORITY means), elsewhere best first; `order=[best, ..., worst]` says it explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as Settings
from hypothesis import strategies as st

from creditmgmt.policies import PolicyEvaluationError, RuleSet

DEFAULT_SETTINGS = Settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def boundaries(ruleset: RuleSet) -> list[Decimal]:
    """Every number the rule set's blocks name (cells, steps, bands, bins, constants)."""
    found: set[Decimal] = set()
    seen: set[int] = set()

    def walk(obj: Any) -> None:
        if obj is None or isinstance(obj, bool | str | date):
            return
        if isinstance(obj, int | Decimal):
            found.add(Decimal(obj))
            return
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, Mapping):
            obj = list(obj.values())
        if isinstance(obj, list | tuple | set | frozenset):
            for v in obj:
                walk(v)
        elif attrs.has(type(obj)):
            for f in attrs.fields(type(obj)):
                if f.name != "loc":
                    walk(getattr(obj, f.name))

    walk(list(ruleset.blocks.values()))
    return sorted(found)


def input_values(ruleset: RuleSet, name: str) -> st.SearchStrategy[Any]:
    """Values of input `name` as the rule set declares it (type, min, max, enum values,
    nullable), drawn often at or next to a boundary the rule set names.

    Raises:
        KeyError: the rule set declares no input `name`.
    """
    spec = ruleset.document.inputs[name]
    missing: st.SearchStrategy[Any] = st.none() if spec.nullable else st.nothing()
    if spec.type == "bool":
        return st.booleans() | missing
    if spec.type == "enum":
        return st.sampled_from(list(spec.values)) | missing
    if spec.type == "string":
        return st.text(max_size=20) | missing
    if spec.type == "date":
        return st.dates(date(2000, 1, 1), date(2100, 12, 31)) | missing
    marks = boundaries(ruleset) or [Decimal(0)]
    low = spec.min if spec.min is not None else min(marks[0], Decimal(0)) - 1000
    high = spec.max if spec.max is not None else max(marks[-1], Decimal(0)) * 2 + 1000
    near: list[Any]
    if spec.type == "int":
        near = sorted({int(m) + k for m in marks for k in (-1, 0, 1) if low <= int(m) + k <= high})
        spread: st.SearchStrategy[Any] = st.integers(int(low), int(high))
    else:
        near = [m for m in marks if low <= m <= high]
        places = 2 if spec.type == "money" else 4  # amounts in minor units, ratios finer
        spread = st.decimals(low, high, places=places, allow_nan=False, allow_infinity=False)
    return (st.sampled_from(near) if near else spread) | spread | missing


def rows(ruleset: RuleSet, block: str, **fixed: Any) -> st.SearchStrategy[dict[str, Any]]:
    """Whole input rows of `block`; `fixed` inputs keep the given values.

    Raises:
        KeyError: no block `block`.
    """
    names = _inputs(ruleset, block)
    return st.fixed_dictionaries(
        {n: st.just(fixed[n]) if n in fixed else input_values(ruleset, n) for n in names}
    )


def assert_monotone(
    ruleset: RuleSet,
    block: str,
    *,
    input: str,
    output: str,
    increasing: bool = True,
    direction: str = "worse",
    order: Sequence[str] = (),
    settings: Settings | None = None,
    **fixed: Any,
) -> None:
    """Moving `input` up (`increasing`) or down, all else equal, never moves `output` against
    `direction` (`worse`, `better`, `increasing`, `decreasing`). Rows where the block cannot
    decide are skipped (`policy check` reports those).

    Raises:
        AssertionError: a counterexample (shrunk): both rows and both outputs.
        KeyError: unknown block, input or output.
    """
    if input not in _inputs(ruleset, block):
        raise KeyError(f"block {block} does not read {input!r}")
    rank = _rank(ruleset, block, output, direction, order)
    evaluate = ruleset.evaluator(block)
    values = input_values(ruleset, input).filter(lambda v: v is not None)

    @(settings or DEFAULT_SETTINGS)
    @given(row=rows(ruleset, block, **fixed), a=values, b=values)
    def property_(row: dict[str, Any], a: Any, b: Any) -> None:
        first, second = sorted((a, b)) if increasing else sorted((a, b), reverse=True)
        before, after = {**row, input: first}, {**row, input: second}
        try:
            got_before = evaluate(before)[output]
            got_after = evaluate(after)[output]
        except PolicyEvaluationError:
            assume(False)
        if rank(got_after) < rank(got_before):
            raise AssertionError(
                f"{block}: {output} moves against '{direction}' when {input} goes from "
                f"{first} to {second}: {got_before!r} -> {got_after!r} (row {before})"
            )

    property_()


def assert_bounded(
    ruleset: RuleSet,
    block: str,
    *,
    output: str,
    low: Decimal | int | str | None = None,
    high: Decimal | int | str | None = None,
    settings: Settings | None = None,
    **fixed: Any,
) -> None:
    """`output` stays within [`low`, `high`]; each bound a number or the name of an input of
    the block (`high="requested"`), None for no bound.

    Raises:
        AssertionError: a row whose output falls outside (shrunk).
        KeyError: unknown block, or a bound naming no input of the block.
    """
    names = _inputs(ruleset, block)
    for end in (low, high):
        if isinstance(end, str) and end not in names:
            raise KeyError(f"bound {end!r} is not an input of {block}")
    evaluate = ruleset.evaluator(block)

    def limit(end: Decimal | int | str | None, row: Mapping[str, Any]) -> Decimal | None:
        if end is None:
            return None
        value = row[end] if isinstance(end, str) else end
        return None if value is None else Decimal(value)

    @(settings or DEFAULT_SETTINGS)
    @given(row=rows(ruleset, block, **fixed))
    def property_(row: dict[str, Any]) -> None:
        try:
            got = evaluate(row)[output]
        except PolicyEvaluationError:
            assume(False)
        lo, hi = limit(low, row), limit(high, row)
        if got is None or (lo is not None and got < lo) or (hi is not None and got > hi):
            raise AssertionError(f"{block}: {output} = {got!r} outside [{lo}, {hi}] (row {row})")

    property_()


def _inputs(ruleset: RuleSet, block: str) -> list[str]:
    b = ruleset.blocks[block]
    if b.inputs:
        return list(b.inputs)
    names = [getattr(b, a, None) for a in ("input", "row_input", "col_input")]
    return [n for n in names if isinstance(n, str)]


def _rank(
    ruleset: RuleSet, block: str, output: str, direction: str, order: Sequence[str]
) -> Callable[[Any], Any]:
    if direction not in ("worse", "better", "increasing", "decreasing"):
        raise ValueError(f"direction {direction!r}: worse, better, increasing or decreasing")
    spec = next((o for o in ruleset.blocks[block].outputs if o.name == output), None)
    if spec is None:
        raise KeyError(f"block {block} has no output {output!r}")
    values = list(order) or list(spec.values)
    if values and not order and getattr(ruleset.blocks[block], "hit_policy", None) == "PRIORITY":
        values.reverse()  # PRIORITY lists the worst first
    sign = 1 if direction in ("worse", "increasing") else -1
    if values:
        position = {v: i for i, v in enumerate(values)}
        return lambda v: sign * position[v]
    return lambda v: sign * v


__all__ = [
    "DEFAULT_SETTINGS",
    "assert_bounded",
    "assert_monotone",
    "boundaries",
    "input_values",
    "rows",
]
