"""The reference evaluator: each block kind evaluated in the open, with a trace on request.

It defines the results and the errors of evaluation. `RuleSet.evaluate(..., trace=True)` runs
it, and the generated evaluators (`creditmgmt.policies.compiler`) hand it every case they do
not decide themselves, so both paths give the same outputs, matched ids and errors.
"""

from __future__ import annotations

import bisect
import decimal
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from creditmgmt.policies import model as m
from creditmgmt.policies.base import TRIGGER_SEVERITIES
from creditmgmt.policies.coercion import coerce
from creditmgmt.policies.decision import Decision, Trace
from creditmgmt.policies.errors import PolicyEvaluationError, PolicyInputError
from creditmgmt.policies.formula import evaluate as evaluate_expr
from creditmgmt.policies.table_index import Matcher, table_matcher

#: A trace under construction (None: no trace requested).
Steps = list[Mapping[str, Any]] | None
#: evaluates one kind of block: (block, valid values, steps) -> (outputs, matched ids)
_Run = Callable[[Any, dict[str, Any], Steps], tuple[dict[str, Any], list[str]]]


class ReferenceEvaluator:
    """Evaluates the blocks of one document (see the module docstring)."""

    def __init__(self, document: m.RuleSetDocument) -> None:
        self.document = document
        self.ref = document.ref
        #: per decision table: its matcher (generated code or the large-table index)
        self.matchers: dict[str, Matcher] = {}
        # per block: the set of its input names and (name, spec) pairs, for inputs()
        self._accepts = {b.id: frozenset(b.inputs) for b in document.blocks.values()}
        self._specs = {
            b.id: tuple((n, document.inputs[n]) for n in b.inputs) for b in document.blocks.values()
        }
        # formulas that call lookup(): the others skip building a lookup function
        self._with_lookups = {
            b.id
            for b in document.blocks.values()
            if isinstance(b, m.Formula) and any(e.lookups for _n, e in (*b.lets, *b.expressions))
        }
        # how each kind of block is evaluated (one look-up by type, subclasses by issubclass)
        self._runs: dict[type[m.Block], _Run] = {
            m.Formula: self._formula,
            m.DecisionTable: self._table,
            m.Scorecard: self._scorecard,
            m.MasterScale: self._scale,
            m.ThresholdLadder: self._ladder,
            m.Matrix: self._matrix,
            m.TriggerSet: self._triggers,
        }
        # per table: each rule's outputs as a dict (copied per decision) and its id
        self._then: dict[str, list[tuple[dict[str, Any], str]]] = {}
        for block in document.blocks.values():
            if isinstance(block, m.DecisionTable):
                self._then[block.id] = [(dict(r.then), r.id) for r in block.rules]
                types = [document.inputs[n].type for n in block.inputs]
                self.matchers[block.id] = table_matcher(block, types)

    def block(self, block_id: str) -> m.Block:
        """The block of that id.

        Raises:
            PolicyInputError: the rule set has no such block (the message lists its blocks).
        """
        block = self.document.blocks.get(block_id)
        if block is None:
            raise PolicyInputError(
                f"rule set {self.ref} has no block {block_id!r} "
                f"(blocks: {', '.join(self.document.blocks)})"
            )
        return block

    def evaluate(self, block_id: str, inputs: Mapping[str, Any], trace: bool) -> Decision:
        """The reference path: every check in the open, a trace on request.

        Raises:
            PolicyInputError: unknown block; missing, extra or mistyped inputs (names them).
            PolicyEvaluationError: the block cannot decide (no or several matches under
                UNIQUE, division by zero ...).
        """
        block = self.block(block_id)
        values = self.inputs(block, inputs)
        steps: list[Mapping[str, Any]] | None = [] if trace else None
        outputs, matched = self.run(block, values, steps)
        return Decision(
            block_id,
            outputs,
            tuple(matched),
            self.ref,
            Trace(block_id, dict(values), tuple(steps)) if steps is not None else None,
        )

    def inputs(self, block: m.Block, given: Mapping[str, Any]) -> dict[str, Any]:
        """The values `block` decides on: `given` coerced, defaults and nulls filled in.

        Raises:
            PolicyInputError: an extra, missing or invalid input (named).
        """
        if not self._accepts[block.id].issuperset(given):
            extra = [k for k in given if k not in block.inputs]
            raise PolicyInputError(
                f"block {block.id}: unexpected input(s) {', '.join(sorted(extra))}; "
                f"it takes {', '.join(block.inputs)}"
            )
        values: dict[str, Any] = {}
        for name, spec in self._specs[block.id]:
            if name in given:
                values[name] = coerce(spec, given[name], block.id)
            elif spec.has_default:
                values[name] = coerce(spec, spec.default, block.id)
            elif spec.nullable:
                values[name] = None
            else:
                raise PolicyInputError(f"block {block.id}: missing input {name}")
        return values

    def run(
        self, block: m.Block, v: dict[str, Any], steps: Steps
    ) -> tuple[dict[str, Any], list[str]]:
        """(outputs, matched ids) of `block` on valid values `v`; appends to `steps` if given.

        Raises:
            PolicyEvaluationError: the block cannot decide.
        """
        kind = type(block)
        run = self._runs.get(kind) or next(
            (r for k, r in self._runs.items() if issubclass(kind, k)), None
        )
        if run is None:
            raise PolicyEvaluationError(f"block {block.id}: kind {block.kind} cannot be evaluated")
        return run(block, v, steps)

    def _table(
        self, t: m.DecisionTable, v: dict[str, Any], steps: Steps
    ) -> tuple[dict[str, Any], list[str]]:
        hits = self.matchers[t.id]([v[n] for n in t.inputs])
        if steps is None and len(hits) == 1 and t.hit_policy != "COLLECT":
            then, rule_id = self._then[t.id][hits[0]]
            return then.copy(), [rule_id]
        rules = [t.rules[i] for i in hits]
        if steps is not None:
            for r in rules:
                steps.append(
                    {"rule": r.id, "cells": {n: c.text for n, c in r.when}, "line": r.loc.line}
                )
        ids = [r.id for r in rules]
        if t.hit_policy == "COLLECT":
            return self._collect(t, rules), ids
        if not rules:
            shown = ", ".join(f"{k}={v[k]!r}" for k in t.inputs)
            raise PolicyEvaluationError(f"block {t.id}: no rule matches {shown}")
        if t.hit_policy == "UNIQUE" and len(rules) > 1:
            raise PolicyEvaluationError(
                f"block {t.id}: rules {' and '.join(ids)} all match (hit policy UNIQUE)"
            )
        if t.hit_policy == "PRIORITY":

            def rank(r: m.Rule) -> tuple[int, ...]:
                then = dict(r.then)
                try:
                    return tuple(o.values.index(then[o.name]) for o in t.outputs)
                except ValueError:
                    raise PolicyEvaluationError(
                        f"block {t.id}: rule {r.id} gives a value that is not in the "
                        "declared order of its PRIORITY output"
                    ) from None

            winner = min(rules, key=rank)
            if steps is not None:  # the row that decided, for explain (see Trace.lines)
                at = len(steps) - len(rules) + rules.index(winner)
                steps[at] = {**steps[at], "decides": True}
            return dict(winner.then), ids
        return dict(rules[0].then), ids

    @staticmethod
    def _collect(t: m.DecisionTable, rules: list[m.Rule]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for o in t.outputs:
            values = [dict(r.then)[o.name] for r in rules]
            if t.aggregate is None:
                out[o.name] = tuple(values)
            elif t.aggregate == "COUNT":
                out[o.name] = len(values)
            elif not values and t.aggregate != "SUM":
                out[o.name] = None
            else:
                # check() reports non-numeric outputs; a draft evaluated anyway must still
                # fail with a policy error, not a raw decimal.InvalidOperation
                try:
                    numbers = [Decimal(x) for x in values]
                except (ArithmeticError, TypeError, ValueError):
                    raise PolicyEvaluationError(
                        f"block {t.id}: {t.aggregate} needs numeric outputs; "
                        f"{o.name} gave {values!r}"
                    ) from None
                if t.aggregate == "SUM":
                    out[o.name] = sum(numbers, Decimal(0))
                else:
                    out[o.name] = (min if t.aggregate == "MIN" else max)(numbers)
        return out

    def _scorecard(
        self, s: m.Scorecard, v: dict[str, Any], steps: Steps
    ) -> tuple[dict[str, Any], list[str]]:
        score = s.base_points
        matched: list[str] = []
        for ch in s.characteristics:
            value = v[ch.input]
            hit = next((b for b in ch.bins if b.cell.matches(value)), None)
            if hit is None:
                raise PolicyEvaluationError(f"block {s.id}: no bin of {ch.input} matches {value!r}")
            score += hit.points
            matched.append(f"{ch.input}={hit.cell.text}")
            if steps is not None:
                steps.append(
                    {"characteristic": ch.input, "bin": hit.cell.text, "points": hit.points}
                )
        out: dict[str, Any] = {"score": score}
        if s.scaling is not None:
            out["pd"] = scaled_pd(score, s.scaling)
            if steps is not None:
                steps.append({"score": score, "pd": out["pd"]})
        return out, matched

    def _scale(
        self, s: m.MasterScale, v: dict[str, Any], steps: Steps
    ) -> tuple[dict[str, Any], list[str]]:
        pd = _required(s.id, s.input, v)
        if s.floor is not None and pd < s.floor:
            pd = s.floor
        for g in s.grades:
            if (g.is_default and pd == g.lower) or (
                not g.is_default and g.upper is not None and g.lower <= pd < g.upper
            ):
                if steps is not None:
                    steps.append({"grade": g.grade, "pd_used": pd, "line": g.loc.line})
                return {s.output_name: g.grade}, [g.grade]
        raise PolicyEvaluationError(f"block {s.id}: {s.input} {pd} is on no band of the scale")

    def _ladder(
        self, ladder: m.ThresholdLadder, v: dict[str, Any], steps: Steps
    ) -> tuple[dict[str, Any], list[str]]:
        value = _required(ladder.id, ladder.input, v)
        spec = self.document.inputs[ladder.input]
        key: Any = spec.values.index(value) if spec.type == "enum" else value
        starts = [
            spec.values.index(s.start) if spec.type == "enum" else s.start for s in ladder.steps
        ]
        i = bisect.bisect_right(starts, key) - 1
        if i < 0 or (
            ladder.domain_min is not None and spec.type != "enum" and value < ladder.domain_min
        ):
            raise PolicyEvaluationError(
                f"block {ladder.id}: {ladder.input} {value!r} is below the first step"
            )
        if ladder.domain_max is not None and spec.type != "enum" and value > ladder.domain_max:
            raise PolicyEvaluationError(
                f"block {ladder.id}: {ladder.input} {value!r} is above the domain "
                f"maximum {ladder.domain_max}"
            )
        step = ladder.steps[i]
        if steps is not None:
            steps.append({"step_from": step.start, "value": step.value, "line": step.loc.line})
        return {ladder.output_name: step.value}, [f"from {step.start}"]

    def _matrix(
        self, mx: m.Matrix, v: dict[str, Any], steps: Steps
    ) -> tuple[dict[str, Any], list[str]]:
        row = next((i for i, c in enumerate(mx.row_cells) if c.matches(v[mx.row_input])), None)
        col = next((j for j, c in enumerate(mx.col_cells) if c.matches(v[mx.col_input])), None)
        if row is None or col is None:
            raise PolicyEvaluationError(
                f"block {mx.id}: no {'row' if row is None else 'column'} matches "
                f"{mx.row_input}={v[mx.row_input]!r}, {mx.col_input}={v[mx.col_input]!r}"
            )
        if steps is not None:
            steps.append({"row": mx.row_cells[row].text, "column": mx.col_cells[col].text})
        return {mx.output_name: mx.values[row][col]}, [f"r{row + 1}c{col + 1}"]

    def _lookup_fn(
        self, steps: list[Mapping[str, Any]] | None
    ) -> Callable[[str, str, dict[str, Any]], Any]:
        def lookup(block: str, output: str, args: dict[str, Any]) -> Any:
            # the target exists and takes exactly these inputs (checked at load time)
            target = self.document.blocks[block]
            inner: list[Mapping[str, Any]] | None = [] if steps is not None else None
            outputs, matched = self.run(target, self.inputs(target, args), inner)
            if steps is not None:
                steps.append(
                    {
                        "lookup": block,
                        "output": output,
                        "value": outputs[output],
                        "matched": tuple(matched),
                        "steps": tuple(inner or ()),
                    }
                )
            return outputs[output]

        return lookup

    def _formula(
        self, f: m.Formula, v: dict[str, Any], steps: Steps
    ) -> tuple[dict[str, Any], list[str]]:
        env = dict(v) if f.lets else v  # lets must not leak into the caller's values
        lookup = self._lookup_fn(steps) if f.id in self._with_lookups else _no_lookup
        for name, expr in f.lets:
            env[name] = evaluate_expr(expr, env, lookup, where=f"block {f.id} let {name}")
            if steps is not None:
                steps.append({"let": name, "value": env[name]})
        out: dict[str, Any] = {}
        for o, (name, expr) in zip(f.outputs, f.expressions, strict=True):
            value = evaluate_expr(expr, env, lookup, where=f"block {f.id} output {name}")
            if o.type == "int" and value is not None and not isinstance(value, bool):
                value = int(value)
            out[name] = value
            if steps is not None:
                steps.append({"output": name, "value": value})
        return out, []

    def _triggers(
        self, ts: m.TriggerSet, v: dict[str, Any], steps: Steps
    ) -> tuple[dict[str, Any], list[str]]:
        lookup = self._lookup_fn(steps)
        fired = []
        for t in ts.triggers:
            if evaluate_expr(t.expr, v, lookup, where=f"block {ts.id} trigger {t.id}"):
                fired.append({"id": t.id, "severity": t.severity, "reason": t.reason})
                if steps is not None:
                    steps.append({"trigger": t.id, "when": t.expr.text, "line": t.loc.line})
        order = ("none", *TRIGGER_SEVERITIES)
        worst = max((f["severity"] for f in fired), key=order.index, default="none")
        return {"fired": tuple(fired), "severity": worst, "count": len(fired)}, [
            f["id"] for f in fired
        ]


def _required(block: str, name: str, values: Mapping[str, Any]) -> Any:
    """The value of input `name`, which block `block` cannot do without.

    Raises:
        PolicyEvaluationError: the value is missing (None), naming the block and the input.
    """
    value = values[name]
    if value is None:
        raise PolicyEvaluationError(f"block {block}: {name} is missing")
    return value


def _no_lookup(block: str, output: str, args: dict[str, Any]) -> Any:
    raise PolicyEvaluationError(f"lookup of {block}.{output} from a formula that declares none")


def scaled_pd(score: Decimal, scaling: m.Scaling) -> Decimal:
    """PD from a scaled score: score = offset + factor·ln(odds), factor = PDO/ln 2.

    With odds good:bad (`good_to_bad`), PD = 1 / (1 + exp((score − offset)/factor)).
    """
    with decimal.localcontext() as ctx:
        ctx.prec = 34
        factor = scaling.pdo / Decimal(2).ln()
        offset = scaling.points0 - factor * scaling.odds0.ln()
        z = (score - offset) / factor
        if scaling.direction == "bad_to_good":
            z = -z
        z = max(min(z, Decimal(700)), Decimal(-700))
        pd = Decimal(1) / (Decimal(1) + z.exp())
        return pd.quantize(Decimal("1e-12"))


def scaling_constants(scaling: m.Scaling) -> tuple[Decimal, Decimal]:
    """(factor, offset) of a scaling, for reports."""
    factor = scaling.pdo / Decimal(2).ln()
    return factor, scaling.points0 - factor * scaling.odds0.ln()
