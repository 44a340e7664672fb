"""`creditmgmt policy prove`: monotonicity and bounds of a block, checked at every boundary.

A claim `dpd:increasing->category:worse` says: raising `dpd`, all else equal, never makes
`category` better. Tables, scorecards, ladders, matrices and scales are constant between the
literals a rule set names, so the input is evaluated at each literal, between each pair and
beyond the last; the other inputs of the block take every such value too (every enum value,
both booleans, missing when nullable). When that product is small enough it is walked
completely and a claim that holds is proved; otherwise a seeded sample of it is searched and
the report says so. Formulas are checked at the same points (a search, not a proof).

Order of an enum output: under a PRIORITY table its declared values run worst first (that is
what PRIORITY means); elsewhere they run best first. `--order OUTPUT=v1,v2,...` (best first)
overrides both.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import attrs

from creditmgmt.policies import PolicyError, RuleSet

DIRECTIONS = ("worse", "better", "increasing", "decreasing")
_MONOTONE = re.compile(r"^(\w+):(increasing|decreasing)->(\w+):(\w+)$")
_BOUND = re.compile(r"^(\w+):([\w.\-]*)\.\.([\w.\-]*)$")
BUDGET = 150_000  # evaluations; beyond it the contexts are sampled


class ClaimError(ValueError):
    """A claim that cannot be checked: malformed, or naming what the block does not have."""


@attrs.frozen
class Monotone:
    input: str
    increasing: bool
    output: str
    direction: str

    @classmethod
    def parse(cls, text: str) -> Monotone:
        """`INPUT:increasing|decreasing->OUTPUT:worse|better|increasing|decreasing`.

        Raises:
            ClaimError: the text does not follow that form (the message shows it).
        """
        found = _MONOTONE.match(text.replace(" ", ""))
        if not found or found.group(4) not in DIRECTIONS:
            raise ClaimError(
                f"--monotone {text!r}: write INPUT:increasing->OUTPUT:worse (or decreasing; "
                f"the output may be {', '.join(DIRECTIONS)})"
            )
        return cls(found.group(1), found.group(2) == "increasing", found.group(3), found.group(4))

    def __str__(self) -> str:
        way = "increasing" if self.increasing else "decreasing"
        return f"{self.input}:{way}->{self.output}:{self.direction}"


@attrs.frozen
class Bound:
    output: str
    low: str | None
    high: str | None

    @classmethod
    def parse(cls, text: str) -> Bound:
        """`OUTPUT:LOW..HIGH`; each end a number or an input name, or empty (unbounded).

        Raises:
            ClaimError: the text does not follow that form.
        """
        found = _BOUND.match(text.replace(" ", ""))
        if not found or not (found.group(2) or found.group(3)):
            raise ClaimError(f"--bound {text!r}: write OUTPUT:LOW..HIGH (e.g. limit:0..requested)")
        return cls(found.group(1), found.group(2) or None, found.group(3) or None)

    def __str__(self) -> str:
        return f"{self.output}:{self.low or ''}..{self.high or ''}"


@attrs.frozen
class Outcome:
    """What checking one claim found. `counterexample` is None when the claim holds."""

    claim: Monotone | Bound
    block: str
    evaluations: int
    exhaustive: bool
    counterexample: tuple[tuple[Mapping[str, Any], Any], ...] | None = None

    @property
    def holds(self) -> bool:
        return self.counterexample is None


class _Literals:
    """Every number and date a block names, by the input it tests where that is known.

    The document model is walked generically: a `(name, cell)` pair of a table row, an
    object with an `input` field (a characteristic, a ladder, a scale) and `<axis>_cells` next
    to `<axis>_input` (a matrix) say which input a literal belongs to; anything else (formula
    constants) belongs to every input.
    """

    def __init__(self, inputs: Iterable[str]) -> None:
        self.inputs = frozenset(inputs)
        self.by_input: dict[str | None, set[Any]] = {}
        self._seen: set[int] = set()

    def of(self, name: str) -> set[Any]:
        return self.by_input.get(name, set()) | self.by_input.get(None, set())

    def walk(self, obj: Any, current: str | None = None) -> None:
        if obj is None or isinstance(obj, bool | str):
            return
        if isinstance(obj, int | Decimal | date):
            value = Decimal(obj) if isinstance(obj, int | Decimal) else obj
            self.by_input.setdefault(current, set()).add(value)
            return
        if id(obj) in self._seen:
            return
        self._seen.add(id(obj))
        if isinstance(obj, tuple) and len(obj) == 2 and obj[0] in self.inputs:
            self.walk(obj[1], obj[0])
        elif isinstance(obj, Mapping):
            for v in obj.values():
                self.walk(v, current)
        elif isinstance(obj, list | tuple | set | frozenset):
            for v in obj:
                self.walk(v, current)
        elif attrs.has(type(obj)):
            own = getattr(obj, "input", None)
            here = own if isinstance(own, str) and own in self.inputs else current
            for f in attrs.fields(type(obj)):
                if f.name in ("loc", "inputs"):
                    continue
                axis = getattr(obj, f.name.removesuffix("_cells") + "_input", None)
                tested = axis if f.name.endswith("_cells") and axis in self.inputs else here
                self.walk(getattr(obj, f.name), tested)


def literals(ruleset: RuleSet, block: str) -> _Literals:
    """The literals that cut the inputs of `block`: its own, or — for a formula or trigger
    set, which may look other blocks up under other names — every block's, for every input."""
    found = _Literals(ruleset.document.inputs)
    target = ruleset.blocks[block]
    if hasattr(target, "expressions") or hasattr(target, "triggers"):
        for b in ruleset.blocks.values():
            found.walk(b)
        everything = set().union(*found.by_input.values()) if found.by_input else set()
        found.by_input = {None: everything}
    else:
        found.walk(target)
    return found


def points(ruleset: RuleSet, name: str, literals: Iterable[Any]) -> list[Any]:
    """The values of input `name` that cover every piece its boundaries cut it into."""
    spec = ruleset.document.inputs[name]
    extra: list[Any] = [None] if spec.nullable else []
    if spec.type == "bool":
        return [False, True, *extra]
    if spec.type == "enum":
        return [*spec.values, *extra]
    if spec.type == "string":
        return ["", *extra]
    if spec.type == "date":
        days = sorted({d for d in literals if isinstance(d, date)}) or [date(2026, 1, 1)]
        around = {d + timedelta(days=k) for d in days for k in (-1, 0, 1)}
        return [*sorted(around), *extra]
    numbers = sorted({n for n in literals if isinstance(n, Decimal)} | {Decimal(0)})
    low = spec.min if spec.min is not None else numbers[0] - 1
    high = spec.max if spec.max is not None else numbers[-1] + 1
    inside = [n for n in numbers if low <= n <= high]
    values: set[Decimal] = {low, high, *inside}
    middles = {(a + b) / 2 for a, b in itertools.pairwise(sorted(values))}
    if spec.type == "int":  # each boundary, the day before and after it, one day between
        near = {v + k for v in values for k in (-1, 0, 1)}
        inner = {m.to_integral_value(rounding="ROUND_FLOOR") for m in middles}
        return [*(int(v) for v in sorted(near | inner) if low <= v <= high), *extra]
    values |= middles
    return [*sorted(values), *extra]


def _rank(
    ruleset: RuleSet, block: str, output: str, direction: str, order: Sequence[str]
) -> Callable[[Any], Any]:
    spec = next((o for o in ruleset.blocks[block].outputs if o.name == output), None)
    values = list(order) or (list(spec.values) if spec is not None else [])
    if values and not order and getattr(ruleset.blocks[block], "hit_policy", None) == "PRIORITY":
        values = values[::-1]  # PRIORITY lists the worst first
    if values:
        position = {v: i for i, v in enumerate(values)}

        def rank(v: Any) -> Any:
            if v not in position:
                raise ClaimError(f"{output} = {v!r} is not in the order {', '.join(values)}")
            return position[v]

        if direction in ("worse", "increasing"):
            return rank
        return lambda v: -rank(v)
    if direction in ("worse", "increasing"):
        return lambda v: v
    return lambda v: -v


def _contexts(
    ruleset: RuleSet, names: Sequence[str], found: _Literals, budget: int
) -> tuple[list[dict[str, Any]], bool]:
    axes = [points(ruleset, n, found.of(n)) for n in names]
    total = 1
    for axis in axes:
        total *= len(axis)
    if total <= budget:
        return [dict(zip(names, combo)) for combo in itertools.product(*axes)], True
    # a fixed, reproducible sample of the combinations, not a secret
    rnd = random.Random(0)  # noqa: S311
    return [{n: rnd.choice(a) for n, a in zip(names, axes)} for _ in range(budget)], False


def _outputs_of(ruleset: RuleSet, block: str) -> list[str]:
    return [o.name for o in ruleset.blocks[block].outputs]


def check_claim(
    ruleset: RuleSet,
    block: str,
    claim: Monotone | Bound,
    *,
    order: Sequence[str] = (),
    budget: int = BUDGET,
) -> Outcome:
    """Check one claim about `block` at every boundary (see the module doc).

    Raises:
        ClaimError: the block does not read the input or give the output the claim names.
        PolicyInputError: unknown block.
    """
    if block not in ruleset.blocks:
        raise ClaimError(f"no block {block!r} (blocks: {', '.join(ruleset.blocks)})")
    inputs = list(ruleset.blocks[block].inputs) or _single_input(ruleset, block)
    outputs = _outputs_of(ruleset, block)
    if claim.output not in outputs:
        raise ClaimError(
            f"block {block} has no output {claim.output!r} (outputs: {', '.join(outputs)})"
        )
    found = literals(ruleset, block)
    evaluate = ruleset.evaluator(block)
    if isinstance(claim, Monotone):
        if claim.input not in inputs:
            raise ClaimError(
                f"block {block} does not read {claim.input!r} (inputs: {', '.join(inputs)})"
            )
        axis = [p for p in points(ruleset, claim.input, found.of(claim.input)) if p is not None]
        if not claim.increasing:
            axis.reverse()
        others = [n for n in inputs if n != claim.input]
        contexts, exhaustive = _contexts(ruleset, others, found, max(1, budget // len(axis)))
        rank = _rank(ruleset, block, claim.output, claim.direction, order)
        count = 0
        for context in contexts:
            previous: tuple[dict[str, Any], Any] | None = None
            for value in axis:
                row = {**context, claim.input: value}
                try:
                    got = evaluate(row)[claim.output]
                except PolicyError:
                    continue  # a gap: `policy check` reports it; monotonicity is about decisions
                count += 1
                if previous is not None and rank(got) < rank(previous[1]):
                    return Outcome(claim, block, count, exhaustive, (previous, (row, got)))
                previous = (row, got)
        return Outcome(claim, block, count, exhaustive)
    for end in (claim.low, claim.high):
        if end is not None and not _is_number(end) and end not in inputs:
            raise ClaimError(
                f"--bound {claim}: {end!r} is neither a number nor an input of {block}"
            )
    contexts, exhaustive = _contexts(ruleset, inputs, found, budget)
    count = 0
    for row in contexts:
        try:
            got = evaluate(row)[claim.output]
        except PolicyError:
            continue
        count += 1
        low = _end(claim.low, row)
        high = _end(claim.high, row)
        if got is None or (low is not None and got < low) or (high is not None and got > high):
            return Outcome(claim, block, count, exhaustive, ((row, got),))
    return Outcome(claim, block, count, exhaustive)


def applies(ruleset: RuleSet, block: str, claim: Monotone | Bound) -> bool:
    """The block gives the claim's output (and, for a monotone claim, reads its input)."""
    if claim.output not in _outputs_of(ruleset, block):
        return False
    inputs = list(ruleset.blocks[block].inputs) or _single_input(ruleset, block)
    if isinstance(claim, Monotone):
        return claim.input in inputs
    return all(e is None or _is_number(e) or e in inputs for e in (claim.low, claim.high))


def check_claims(
    ruleset: RuleSet,
    block: str | None,
    claims: Sequence[Monotone | Bound],
    *,
    orders: Mapping[str, Sequence[str]] | None = None,
    budget: int = BUDGET,
) -> list[Outcome]:
    """Check each claim on `block`, or — with no block — on every block it applies to.

    Raises:
        ClaimError: a malformed claim for the block, or (with no block) a claim that applies
            to no block of the rule set.
    """
    outcomes: list[Outcome] = []
    for claim in claims:
        targets = (
            [block]
            if block is not None
            else [b for b in ruleset.blocks if applies(ruleset, b, claim)]
        )
        if not targets:
            raise ClaimError(f"{claim}: no block of {ruleset.ref} applies (name the BLOCK)")
        order = (orders or {}).get(claim.output, ())
        outcomes.extend(check_claim(ruleset, b, claim, order=order, budget=budget) for b in targets)
    return outcomes


def _single_input(ruleset: RuleSet, block: str) -> list[str]:
    b = ruleset.blocks[block]
    names = [getattr(b, a, None) for a in ("input", "row_input", "col_input")]
    return [n for n in names if isinstance(n, str)]


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _end(end: str | None, row: Mapping[str, Any]) -> Any:
    if end is None:
        return None
    if _is_number(end):
        return Decimal(end)
    value = row[end]
    return None if value is None else Decimal(value)


__all__ = [
    "Bound",
    "ClaimError",
    "Monotone",
    "Outcome",
    "applies",
    "check_claim",
    "check_claims",
    "literals",
    "points",
]
