"""Interval reasoning over formula and trigger expressions.

Comparisons of one input with constants, combined with and/or/not/if-else, narrow what each
input may be (from its declared min/max, whole numbers for int, declared values for enums):
`Reasoner.assume(tree, truth, facts)` gives the facts under which an expression takes that
truth value, or None when no input can make it so. `Reasoner.divisions` walks a tree with the
facts that hold on the way to each division. Conditions the reasoning cannot read (a `let`, a
lookup) count as "may be true", so nothing is reported impossible wrongly.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs

from creditmgmt.policies import model as m


@attrs.frozen
class Range:
    """What a numeric name may still be: an interval (whole numbers if `whole`) minus points."""

    lo: Decimal | None = None
    lo_closed: bool = True
    hi: Decimal | None = None
    hi_closed: bool = True
    whole: bool = False
    excluded: frozenset[Decimal] = frozenset()

    def meet(self, op: str, c: Decimal) -> Range:
        if op == "!=":
            return attrs.evolve(self, excluded=self.excluded | {c})
        r = self
        if op in ("<", "<=", "=="):
            closed = op != "<"
            if r.hi is None or c < r.hi or (c == r.hi and not closed):
                r = attrs.evolve(r, hi=c, hi_closed=closed)
        if op in (">", ">=", "=="):
            closed = op != ">"
            if r.lo is None or c > r.lo or (c == r.lo and not closed):
                r = attrs.evolve(r, lo=c, lo_closed=closed)
        return r

    def _whole_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        lo = hi = None
        if self.lo is not None:
            lo = Decimal(math.ceil(self.lo) if self.lo_closed else math.floor(self.lo) + 1)
        if self.hi is not None:
            hi = Decimal(math.floor(self.hi) if self.hi_closed else math.ceil(self.hi) - 1)
        return lo, hi

    @property
    def empty(self) -> bool:
        if self.whole:
            lo, hi = self._whole_bounds()
            if lo is not None and hi is not None:
                if hi - lo + 1 > len(self.excluded):
                    return False
                return all(Decimal(v) in self.excluded for v in range(int(lo), int(hi) + 1))
            return False
        if self.lo is None or self.hi is None:
            return False
        if self.lo > self.hi:
            return True
        if self.lo == self.hi:
            return not (self.lo_closed and self.hi_closed) or self.lo in self.excluded
        return False

    def allows(self, value: Decimal) -> bool:
        if value in self.excluded:
            return False
        if self.lo is not None and (value < self.lo or (value == self.lo and not self.lo_closed)):
            return False
        return not (
            self.hi is not None and (value > self.hi or (value == self.hi and not self.hi_closed))
        )


@attrs.frozen
class Values:
    """What a text/enum/bool name may still be: `allowed` (None = anything) minus `excluded`."""

    allowed: frozenset[Any] | None = None
    excluded: frozenset[Any] = frozenset()

    def meet(self, op: str, values: frozenset[Any]) -> Values:
        if op in ("==", "in"):
            allowed = values if self.allowed is None else self.allowed & values
            return attrs.evolve(self, allowed=allowed)
        return attrs.evolve(self, excluded=self.excluded | values)

    @property
    def empty(self) -> bool:
        return self.allowed is not None and not (self.allowed - self.excluded)


Fact = Range | Values
Facts = Mapping[str, Fact]
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "==", "in": "not in"}
_NEGATE["not in"] = "in"
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_OPS = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
}
UNKNOWN = object()


def domain_facts(doc: m.RuleSetDocument, names: Iterable[str]) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    for name in names:
        spec = doc.inputs.get(name)
        if spec is None:
            continue
        if spec.type in m.NUMERIC_TYPES:
            facts[name] = Range(lo=spec.min, hi=spec.max, whole=spec.type == "int")
        elif spec.type in ("enum", "bool"):
            values: set[Any] = set(spec.values) if spec.type == "enum" else {True, False}
            if spec.nullable:
                values.add(None)
            facts[name] = Values(allowed=frozenset(values))
        elif spec.type == "string":
            facts[name] = Values()
    return facts


class Reasoner:
    """Abstract evaluation of a formula tree over the facts known about its names."""

    def __init__(self, text: str) -> None:
        self.text = text

    def constant(self, node: ast.AST) -> Any:
        """The value of a constant expression (numbers as Decimal), or UNKNOWN."""
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or v is None or isinstance(v, str):
                return v
            if isinstance(v, int | float):
                segment = ast.get_source_segment(self.text, node) or str(v)
                try:
                    return Decimal(segment.replace("_", ""))
                except ArithmeticError:
                    return UNKNOWN
            return UNKNOWN
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.constant(node.operand)
            if isinstance(inner, Decimal):
                return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Tuple | ast.List):
            items = [self.constant(e) for e in node.elts]
            return UNKNOWN if any(i is UNKNOWN for i in items) else tuple(items)
        return UNKNOWN

    def assume(self, node: ast.AST, truth: bool, facts: Facts | None) -> Facts | None:
        """`facts` refined by `node` having the value `truth`; None when it cannot."""
        if facts is None:
            return None
        if isinstance(node, ast.BoolOp):
            conj = isinstance(node.op, ast.And) == truth  # every operand takes `truth`
            if conj:
                current: Facts | None = facts
                for v in node.values:
                    current = self.assume(v, truth, current)
                return current
            return self._either([self.assume(v, truth, facts) for v in node.values], facts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.assume(node.operand, not truth, facts)
        if isinstance(node, ast.IfExp):
            yes = self.assume(node.body, truth, self.assume(node.test, True, facts))
            no = self.assume(node.orelse, truth, self.assume(node.test, False, facts))
            return self._either([yes, no], facts)
        if isinstance(node, ast.Name):
            fact = facts.get(node.id)
            if (
                isinstance(fact, Values)
                and fact.allowed is not None
                and (fact.allowed <= {True, False, None})
            ):
                # a missing (None) flag reads as false
                holds = frozenset({True}) if truth else frozenset({False, None})
                return self._refine(facts, node.id, fact.meet("==", holds))
            return facts
        if isinstance(node, ast.Compare):
            if len(node.ops) > 1 and not truth:
                return facts  # not (a < b < c) is a disjunction; stay conservative
            left = node.left
            current = facts
            for op_node, right in zip(node.ops, node.comparators, strict=True):
                op = _OPS.get(type(op_node))
                if op is None:
                    return facts
                current = self._compare(left, op if truth else _NEGATE[op], right, current)
                if current is None:
                    return None
                left = right
            return current
        value = self.constant(node)
        if value is not UNKNOWN and isinstance(value, bool):
            return facts if value == truth else None
        return facts

    @staticmethod
    def _either(options: list[Facts | None], facts: Facts) -> Facts | None:
        possible = [o for o in options if o is not None]
        if not possible:
            return None
        return possible[0] if len(possible) == 1 else facts

    def _compare(self, left: ast.AST, op: str, right: ast.AST, facts: Facts) -> Facts | None:
        lc, rc = self.constant(left), self.constant(right)
        if lc is not UNKNOWN and rc is not UNKNOWN:
            result = compare_constants(lc, op, rc)
            if result is None:
                return facts
            return facts if result else None
        if isinstance(left, ast.Name) and rc is not UNKNOWN:
            name, c = left.id, rc
        elif isinstance(right, ast.Name) and lc is not UNKNOWN and op in _FLIP:
            name, c, op = right.id, lc, _FLIP[op]
        else:
            return facts
        fact = facts.get(name)
        if fact is None:
            return facts
        if isinstance(fact, Range):
            if op in ("in", "not in"):
                points = [x for x in c if isinstance(x, Decimal)] if isinstance(c, tuple) else []
                if op == "in" and not any(fact.allows(p) for p in points):
                    return None
                return facts
            if not isinstance(c, Decimal):
                return facts
            return self._refine(facts, name, fact.meet(op, c))
        if op in ("in", "not in"):
            values = frozenset(c) if isinstance(c, tuple) else frozenset()
            return self._refine(facts, name, fact.meet(op, values))
        if op in ("==", "!="):
            return self._refine(facts, name, fact.meet(op, frozenset({c})))
        return facts

    @staticmethod
    def _refine(facts: Facts, name: str, fact: Fact) -> Facts | None:
        if fact.empty:
            return None
        refined = dict(facts)
        refined[name] = fact
        return refined

    def divisions(self, node: ast.AST, facts: Facts | None, report: Callable[[str], None]) -> None:
        """Report every `x / name` where `name` is tracked and may be 0 under `facts`."""
        if facts is None:
            return  # this branch is never taken
        if isinstance(node, ast.IfExp):
            self.divisions(node.test, facts, report)
            self.divisions(node.body, self.assume(node.test, True, facts), report)
            self.divisions(node.orelse, self.assume(node.test, False, facts), report)
            return
        if isinstance(node, ast.BoolOp):
            current: Facts | None = facts
            for v in node.values:
                self.divisions(v, current, report)
                current = self.assume(v, isinstance(node.op, ast.And), current)
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            divisor = node.right
            if isinstance(divisor, ast.Name):
                fact = facts.get(divisor.id)
                if isinstance(fact, Range) and fact.allows(Decimal(0)):
                    report(divisor.id)
        for child in ast.iter_child_nodes(node):
            self.divisions(child, facts, report)


def compare_constants(a: Any, op: str, b: Any) -> bool | None:
    try:
        if op == "in":
            return bool(a in b)
        if op == "not in":
            return bool(a not in b)
        return bool(
            {
                "<": lambda: a < b,
                "<=": lambda: a <= b,
                ">": lambda: a > b,
                ">=": lambda: a >= b,
                "==": lambda: a == b,
                "!=": lambda: a != b,
            }[op]()
        )
    except TypeError:
        return None
