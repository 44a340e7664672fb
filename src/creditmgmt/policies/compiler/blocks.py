"""The evaluator generated for each block (see `RuleSet.evaluator`).

`BlockCompiler(...).fast(slow)` is one Python function that reads and type-checks the inputs
inline, matches (returning a `Decision` built once per table row, matrix cell, ladder step or
grade) or computes (formulas and trigger sets, see `expressions`) and returns the decision;
`inner()` takes the inputs positionally and returns one output's value, for `lookup(...)` calls
from formulas. Anything out of the ordinary raises `Fallback` inside, and the call goes to the
reference path, which makes the same decision or raises the exact error.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from creditmgmt.policies import model as m
from creditmgmt.policies.cells import Cell
from creditmgmt.policies.coercion import coerce
from creditmgmt.policies.compiler.expressions import (
    MISSING,
    CannotInline,
    ExpressionCompiler,
    Fallback,
    Splicer,
)
from creditmgmt.policies.decision import Decision
from creditmgmt.policies.errors import PolicyInputError
from creditmgmt.policies.table_index import INDEX_THRESHOLD, cell_source, rules_disjoint

BUILTINS: dict[str, Any] = {
    "type": type,
    "len": len,
    "dict": dict,
    "int": int,
    "bool": bool,
    "str": str,
    "min": min,
    "tuple": tuple,
    "Exception": Exception,
    "AttributeError": AttributeError,
}


class BlockCompiler(ExpressionCompiler):
    """Generates the evaluator of one block (see the module docstring)."""

    # the two entry points ------------------------------------------------------------------
    def fast(
        self, slow: Callable[[Mapping[str, Any]], Decision]
    ) -> Callable[[Mapping[str, Any]], Decision]:
        """The block's evaluator: `fn(inputs) -> Decision`, handing `slow` (the reference
        path) every call it does not decide itself."""
        fetch: list[str] = []
        checks: list[str] = []
        required = 0
        optional = False
        for i, spec in enumerate(self.specs):
            var, key = f"a{i}", self.const(spec.name)
            absent = self._absent_value(spec)
            if absent is MISSING:
                required += 1
                fetch.append(f"{var} = g[{key}]")
                checks += self.check(var, spec)
                continue
            optional = True
            marker = self.const(MISSING)
            fetch += [
                f"{var} = g.get({key}, {marker})",
                f"if {var} is {marker}:",
                f"    {var} = {self.const(absent)}",
                "else:",
                "    n += 1",
                *("    " + line for line in self.check(var, spec)),
            ]
        count = "n" if optional else str(required)
        body = [
            *([f"n = {required}"] if optional else []),
            *fetch,
            f"if len(g) != {count}:",
            "    raise Fallback",
            *checks,
            *self.tail(),
        ]
        lines = [
            "def _fast(g):",
            "    if type(g) is dict:",
            "        try:",
            *("            " + line for line in body),
            "        except Exception:",
            "            pass",
            f"    return {self.const(slow)}(g)",
        ]
        return self._build(lines, "_fast")  # type: ignore[no-any-return]

    def inner(self) -> Callable[..., Any]:
        """`fn(*inputs) -> value` of the output `self.output`, for lookups from formulas."""
        args = [f"a{i}" for i in range(len(self.specs))]
        checks = [
            line
            for i, s in enumerate(self.specs)
            if i not in self.trusted
            for line in self.check(args[i], s)
        ]
        lines = [
            f"def _inner({', '.join(args)}):",
            *("    " + line for line in [*checks, *self.tail()]),
        ]
        return self._build(lines, "_inner")  # type: ignore[no-any-return]

    def _build(self, lines: list[str], name: str) -> Any:
        source = "\n".join(
            [f"def _make({', '.join(['Fallback', *self.params])}):"]
            + ["    " + line for line in lines]
            + [f"    return {name}"]
        )
        filename = f"<evaluator of block {self.block.id}>"
        if self.splices:  # formula trees go in place of their placeholder names
            module = Splicer(self.splices).visit(ast.parse(source))
            ast.fix_missing_locations(module)
            code = compile(module, filename, "exec")
        else:
            code = compile(source, filename, "exec")
        namespace: dict[str, Any] = {"__builtins__": BUILTINS}
        # safe: generated from the checked block, every document value passed in as a constant
        # (self.values), formulas spliced as validated trees; restricted builtins
        exec(code, namespace)  # noqa: S102
        return namespace["_make"](Fallback, *self.values)

    # inputs ---------------------------------------------------------------------------------
    def _absent_value(self, spec: m.InputSpec) -> Any:
        """The value an absent input takes, or MISSING when its absence is an error (or a
        default that does not convert: the reference path reports it)."""
        if spec.has_default:
            try:
                return coerce(spec, spec.default, self.block.id)
            except PolicyInputError:
                return MISSING
        return None if spec.nullable else MISSING

    def check(self, var: str, spec: m.InputSpec) -> list[str]:
        """Lines that leave `var` valid for `spec`: a value already of the declared type and
        within bounds passes a cheap test, anything else goes through `coerce` (which
        converts or raises the input error)."""
        t = spec.type
        tests: list[str]
        if t == "int":
            tests = [f"type({var}) is not int"]
        elif t in ("decimal", "money"):
            tests = [f"type({var}) is not {self.const(Decimal)}", f"not {var}.is_finite()"]
        elif t == "bool":
            tests = [f"type({var}) is not bool"]
        elif t == "date":
            tests = [f"type({var}) is not {self.const(date)}"]
        elif t == "string":
            tests = [f"type({var}) is not str"]
        elif t == "enum":
            tests = [
                f"type({var}) is not str",
                f"{var} not in {self.const(frozenset(spec.values))}",
            ]
        else:
            tests = ["True"]
        if t in ("int", "decimal", "money"):
            for bound, op in ((spec.min, "<"), (spec.max, ">")):
                if bound is not None:
                    tests.append(f"{var} {op} {self.number(bound, t == 'int')}")
        convert = f"{self.const(coerce)}({self.const(spec)}, {var}, {self.const(self.block.id)})"
        return [f"if {' or '.join(tests)}:", f"    {var} = {convert}"]

    def number(self, value: Any, int_input: bool) -> str:
        if int_input and isinstance(value, Decimal) and value == value.to_integral_value():
            return str(int(value))  # from the parsed number, not from user text
        return self.const(value)

    # what the block computes ----------------------------------------------------------------
    def tail(self) -> list[str]:
        """Lines that compute the decision from the valid inputs a0..an and return it (or,
        for inner(), the output's value), or raise so that the reference path decides."""
        block = self.block
        if isinstance(block, m.DecisionTable) and block.hit_policy != "COLLECT":
            return self.table(block)
        try:
            if type(block) is m.Formula:
                return self.formula(block)
            if type(block) is m.TriggerSet:
                return self.trigger_set(block)
        except CannotInline:
            pass
        if type(block) is m.Matrix:
            return self.matrix(block)
        if type(block) is m.ThresholdLadder:
            return self.ladder(block)
        if type(block) is m.MasterScale:
            return self.master_scale(block)
        return self.generic()

    def generic(self) -> list[str]:
        """Lines handing the valid inputs to the reference evaluator's run of the block."""
        reference, block = self.reference, self.block

        def run(values: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
            return reference.run(block, values, None)

        values = ", ".join(f"{self.const(s.name)}: a{i}" for i, s in enumerate(self.specs))
        return [
            f"o, ids = {self.const(run)}({{{values}}})",
            *self.decision(f"{self.const(MappingProxyType)}(o)", "tuple(ids)"),
        ]

    def table(self, t: m.DecisionTable) -> list[str]:
        ref = self.reference.ref
        outputs = [MappingProxyType(dict(r.then)) for r in t.rules]
        results: list[Any]
        if self.output is None:
            results = [
                Decision(t.id, o, (r.id,), ref) for o, r in zip(outputs, t.rules, strict=True)
            ]
        elif all(self.output in o for o in outputs):
            results = [o[self.output] for o in outputs]
        else:
            return self.generic()  # the reference path reports the missing output
        ranks: list[tuple[int, ...]] | None = None
        if t.hit_policy == "PRIORITY":
            try:
                ranks = [
                    tuple(o.values.index(dict(r.then)[o.name]) for o in t.outputs) for r in t.rules
                ]
            except (ValueError, KeyError):
                return self.generic()  # the reference path reports the bad PRIORITY value
        lines: list[str] = []
        if len(t.rules) > INDEX_THRESHOLD:
            matcher = self.reference.matchers[t.id]  # the index built at load
            args = ", ".join(f"a{i}" for i in range(len(self.specs)))
            lines.append(f"h = {self.const(matcher)}([{args}])")
        else:
            ints = [s.type == "int" for s in self.specs]
            conds = [
                " and ".join(
                    c
                    for i, (name, spec) in enumerate(zip(t.inputs, self.specs, strict=True))
                    if (
                        c := cell_source(
                            r.cell(name), f"a{i}", self.const, ints[i], nullable=spec.nullable
                        )
                    )
                    is not None
                )
                or "True"
                for r in t.rules
            ]
            if t.hit_policy == "FIRST" or (t.hit_policy == "UNIQUE" and rules_disjoint(t)):
                # at most one row can match (or the first one decides): stop there
                for cond, result in zip(conds, results, strict=True):
                    lines += [f"if {cond}:", f"    return {self.const(result)}"]
                return [*lines, "raise Fallback"]
            lines.append("h = []")
            for r_index, cond in enumerate(conds):
                lines += [f"if {cond}:", f"    h.append({r_index})"]
        every = self.const(tuple(results))
        if t.hit_policy == "FIRST":
            return [*lines, "if h:", f"    return {every}[h[0]]", "raise Fallback"]
        lines += ["if len(h) == 1:", f"    return {every}[h[0]]"]
        if ranks is not None:
            ids = self.const(tuple(r.id for r in t.rules))
            winner = (
                f"{self.const(tuple(outputs))}[min(h, key={self.const(tuple(ranks))}.__getitem__)]"
            )
            lines += [
                "if h:",
                *("    " + line for line in self.decision(winner, f"tuple([{ids}[i] for i in h])")),
            ]
        return [*lines, "raise Fallback"]

    def cells(self, cells: Sequence[Cell], var: str, spec: m.InputSpec, index: str) -> list[str]:
        """`index` = the position of the first of `cells` matching `var`, or raise."""
        lines: list[str] = []
        for i, cell in enumerate(cells):
            cond = cell_source(cell, var, self.const, spec.type == "int", spec.nullable)
            lines += [f"{'if' if not lines else 'elif'} {cond or 'True'}:", f"    {index} = {i}"]
        return [*lines, "else:", "    raise Fallback"] if lines else ["raise Fallback"]

    def matrix(self, mx: m.Matrix) -> list[str]:
        """Row and column as if-chains (first match, as ReferenceEvaluator._matrix), then the cell's
        decision (or value) built once per cell."""
        if self.output is not None and self.output != mx.output_name:
            return self.generic()
        specs = {s.name: (f"a{i}", s) for i, s in enumerate(self.specs)}
        results = tuple(
            tuple(
                value
                if self.output is not None
                else Decision(
                    mx.id, {mx.output_name: value}, (f"r{i + 1}c{j + 1}",), self.reference.ref
                )
                for j, value in enumerate(row)
            )
            for i, row in enumerate(mx.values)
        )
        return [
            *self.cells(mx.row_cells, *specs[mx.row_input], "i"),
            *self.cells(mx.col_cells, *specs[mx.col_input], "j"),
            f"return {self.const(results)}[i][j]",
        ]

    def ladder(self, ladder: m.ThresholdLadder) -> list[str]:
        """The step by bisection over the starts (ReferenceEvaluator._ladder), its decision built once."""
        if self.output is not None and self.output != ladder.output_name:
            return self.generic()
        spec = self.reference.document.inputs[ladder.input]
        var = f"a{self.block.inputs.index(ladder.input)}"
        lines = [f"if {var} is None:", "    raise Fallback"]
        if spec.type == "enum":
            try:
                starts: list[Any] = [spec.values.index(s.start) for s in ladder.steps]
            except ValueError:
                return self.generic()  # the reference path reports it
            positions = {v: spec.values.index(v) for v in spec.values}
            lines.append(f"k = {self.const(positions)}[{var}]")
        else:
            starts = [s.start for s in ladder.steps]
            lines.append(f"k = {var}")
            for bound, op in ((ladder.domain_min, "<"), (ladder.domain_max, ">")):
                if bound is not None:
                    lines += [f"if {var} {op} {self.const(bound)}:", "    raise Fallback"]
        results = tuple(
            s.value
            if self.output is not None
            else Decision(
                ladder.id, {ladder.output_name: s.value}, (f"from {s.start}",), self.reference.ref
            )
            for s in ladder.steps
        )
        return [
            *lines,
            f"i = {self.const(bisect.bisect_right)}({self.const(starts)}, k) - 1",
            "if i < 0:",
            "    raise Fallback",
            f"return {self.const(results)}[i]",
        ]

    def master_scale(self, s: m.MasterScale) -> list[str]:
        """The grade bands in order (ReferenceEvaluator._scale), each grade's decision built once."""
        if self.output is not None and self.output != s.output_name:
            return self.generic()
        var = f"a{self.block.inputs.index(s.input)}"
        lines = [f"x = {var}", "if x is None:", "    raise Fallback"]
        if s.floor is not None:
            floor = self.const(s.floor)
            lines += [f"if x < {floor}:", f"    x = {floor}"]
        for g in s.grades:
            if g.is_default:
                cond = f"x == {self.const(g.lower)}"
            elif g.upper is not None:
                cond = f"{self.const(g.lower)} <= x < {self.const(g.upper)}"
            else:
                continue
            result = (
                g.grade
                if self.output is not None
                else Decision(s.id, {s.output_name: g.grade}, (g.grade,), self.reference.ref)
            )
            lines += [f"if {cond}:", f"    return {self.const(result)}"]
        return [*lines, "raise Fallback"]
