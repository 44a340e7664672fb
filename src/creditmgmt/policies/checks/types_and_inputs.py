"""Types and inputs: every written value fits what it is compared with or given to.

Declared inputs (min/max, defaults judged as evaluation coerces them), blocks naming inputs the
document does not declare, cells and output values of the wrong type or naming undeclared enum
values, aggregates over non-numeric outputs, blocks reading an input of a kind they cannot use,
`lookup(...)` arguments and enum comparisons in expressions, formula outputs of the wrong type;
inputs a block lists but never reads, and inputs no block uses.
"""

from __future__ import annotations

import ast
import itertools
import math
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding, SourceLocation
from creditmgmt.policies.checks.reasoning import UNKNOWN, Reasoner
from creditmgmt.policies.checks.survey import Geometry, Survey, referenced_inputs
from creditmgmt.policies.coercion import coerce
from creditmgmt.policies.errors import PolicyInputError
from creditmgmt.policies.formula import INPUT_VALUE_TYPES, Expr
from creditmgmt.policies.messages import Text, Value


def check_types_and_inputs(survey: Survey) -> list[Finding]:
    """Declared inputs, then each block's types and the inputs it reads, then unused inputs."""
    doc, finding = survey.doc, survey.finding
    out = _declared_inputs(survey)
    checkable = {b.id for b in survey.blocks}
    for block in doc.blocks.values():
        if block.id not in checkable:
            unknown = [n for n in referenced_inputs(block) if n not in doc.inputs]
            out.extend(
                finding("unknown-input.undeclared", block.id, None, block.loc, input=repr(name))
                for name in dict.fromkeys(unknown)
            )
    out += survey.per_block(
        {
            m.DecisionTable: _table,
            m.Scorecard: _scorecard,
            m.Matrix: _matrix,
            m.MasterScale: _single_input,
            m.ThresholdLadder: _single_input,
            m.Formula: _formula,
            m.TriggerSet: _triggers,
        }
    )
    used = {n for b in doc.blocks.values() for n in b.inputs}
    out.extend(
        finding("unused-input.declared", None, None, spec.loc, input=repr(name))
        for name, spec in doc.inputs.items()
        if name not in used
    )
    return out


def reads_numbers(survey: Survey, block: m.MasterScale) -> bool:
    """Whether a master scale's input is a number (otherwise only a type error is reported)."""
    return survey.doc.inputs[block.input].type in m.NUMERIC_TYPES


def reads_ordered(survey: Survey, block: m.ThresholdLadder) -> bool:
    """Whether a ladder's input is ordered (otherwise only a type error is reported)."""
    return survey.doc.inputs[block.input].type in (*m.ORDERED_TYPES, "enum")


# declared inputs ------------------------------------------------------------------------------
def _declared_inputs(survey: Survey) -> list[Finding]:
    finding = survey.finding
    out: list[Finding] = []
    for name, spec in survey.doc.inputs.items():
        if spec.type not in m.NUMERIC_TYPES and (spec.min is not None or spec.max is not None):
            out.append(
                finding("bad-domain.not-numeric", None, None, spec.loc, input=name, type=spec.type)
            )
        elif (empty := _empty_domain(spec)) is not None:
            bounds = {"min": str(spec.min), "max": str(spec.max)}
            out.append(finding(empty, None, None, spec.loc, input=name, **bounds))
        if spec.has_default and spec.default is not None:
            refused = _default_refused(spec)
            if refused is not None:
                key, reason = refused
                default = repr(spec.default)
                out.append(
                    finding(key, None, None, spec.loc, input=name, default=default, reason=reason)
                )
        elif spec.has_default and spec.default is None and not spec.nullable:
            out.append(finding("type-error.default-null", None, None, spec.loc, input=name))
    return out


def _empty_domain(spec: m.InputSpec) -> str | None:
    """The message key when no value lies between a numeric input's min and max."""
    if spec.min is None or spec.max is None:
        return None
    if spec.min > spec.max:
        return "bad-domain.min-above-max"
    if spec.type == "int" and math.ceil(spec.min) > math.floor(spec.max):
        return "bad-domain.no-whole-number"
    return None


def _default_refused(spec: m.InputSpec) -> tuple[str, Value] | None:
    """(message key, why) when evaluation would refuse the input's default."""
    try:
        coerce(spec, spec.default, "-")  # the evaluator's own rules
    except PolicyInputError as e:
        reason: Value = e.text if e.text is not None else str(e)
        if spec.type == "enum":
            return "unknown-value.default", reason
        out_of_bounds = ("note.input-below-min", "note.input-above-max")
        if e.text is not None and e.text.key in out_of_bounds:
            return "bad-domain.default", reason
        return "type-error.default", reason
    return None


def _value_fits(spec_type: str, values: Sequence[Any], value: Any) -> str | None:
    """Why `value` does not fit an input/output of `spec_type` (None when it fits)."""
    if spec_type == "enum":
        return None if str(value) in {str(v) for v in values} else "unknown-value"
    if spec_type == "bool":
        return None if isinstance(value, bool) else "type-error"
    if isinstance(value, bool):
        return "type-error"
    if spec_type == "int":
        ok = isinstance(value, int) or (
            isinstance(value, Decimal) and value == value.to_integral_value()
        )
        return None if ok else "type-error"
    if spec_type in ("decimal", "money"):
        return None if isinstance(value, int | Decimal) else "type-error"
    if spec_type == "date":
        return None if isinstance(value, date) else "type-error"
    return None if isinstance(value, str) else "type-error"


def _cell_problems(
    survey: Survey,
    geometry: Geometry,
    block: str,
    where: Sequence[tuple[str | Text, str, SourceLocation]],
) -> list[Finding]:
    """A finding per cell that does not fit its input; `where[i]` is (what row i is, rule id,
    location) of row i."""
    out: list[Finding] = []
    for i, _axis, problem in geometry.problems:
        what, rule, loc = where[i]
        out.append(cell_problem(survey, problem, block, rule, loc, what))
    return out


def cell_problem(
    survey: Survey,
    problem: Text,
    block: str,
    rule: str | None,
    loc: SourceLocation,
    where: str | Text,
) -> Finding:
    """The finding of a cell that does not fit its input (`Geometry.problems`), its row
    named by `where`."""
    return survey.finding(problem.key, block, rule, loc, where=where, **problem.values)


# blocks ---------------------------------------------------------------------------------------
def _table(survey: Survey, t: m.DecisionTable) -> list[Finding]:
    finding = survey.finding
    out: list[Finding] = []
    geometry = survey.table(t)
    problems: dict[int, list[Finding]] = {}
    for i, axis, problem in geometry.problems:
        rule = t.rules[i]
        where = Text.of("note.input", input=axis.name)
        problems.setdefault(i, []).append(
            cell_problem(survey, problem, t.id, rule.id, rule.loc, where)
        )
    for i, rule in enumerate(t.rules):
        if problems:
            out.extend(problems.get(i, ()))
        for name, value in rule.then:
            spec = t.output(name)
            if spec is None:
                continue
            fit = _value_fits(spec.type, spec.values, value)
            if fit is not None:
                out.append(
                    finding(
                        f"{fit}.output-value",
                        t.id,
                        rule.id,
                        rule.loc,
                        output=name,
                        value=repr(value),
                        type=spec.type,
                        values=", ".join(map(str, spec.values)),
                    )
                )
    if t.hit_policy == "COLLECT" and t.aggregate in ("SUM", "MIN", "MAX"):
        out.extend(
            finding(
                "type-error.aggregate",
                t.id,
                None,
                o.loc,
                aggregate=str(t.aggregate),
                output=o.name,
                type=o.type,
            )
            for o in t.outputs
            if o.type not in ("int", "decimal")
        )
    out.extend(
        finding("unconstrained-input.any-value", t.id, None, t.loc, input=name)
        for name in t.inputs
        if all(r.cell(name).kind == "any" for r in t.rules)
    )
    return out


def _scorecard(survey: Survey, s: m.Scorecard) -> list[Finding]:
    out: list[Finding] = []
    for index, ch in enumerate(s.characteristics):
        where: list[tuple[str | Text, str, SourceLocation]] = [
            ("", bin_id(ch, i), b.loc) for i, b in enumerate(ch.bins)
        ]
        out.extend(_cell_problems(survey, survey.bins(s, index), s.id, where))
    listed = set(s.inputs) - {c.input for c in s.characteristics}
    out.extend(
        survey.finding("unconstrained-input.no-characteristic", s.id, None, s.loc, input=name)
        for name in sorted(listed)
    )
    return out


def bin_id(ch: m.Characteristic, i: int) -> str:
    """How findings name the i-th bin of a characteristic."""
    return f"{ch.input} bin {i + 1}"


def _matrix(survey: Survey, mx: m.Matrix) -> list[Finding]:
    out: list[Finding] = []
    for label, cells in (("r", mx.row_cells), ("c", mx.col_cells)):
        what = "row" if label == "r" else "column"
        where: list[tuple[str | Text, str, SourceLocation]] = [
            (
                Text.of(f"note.matrix-{what}", n=i + 1),
                f"{label}{i + 1}",
                matrix_location(mx, label, i),
            )
            for i in range(len(cells))
        ]
        out.extend(_cell_problems(survey, survey.matrix_axis(mx, label), mx.id, where))
    return out


def matrix_location(mx: m.Matrix, label: str, i: int) -> SourceLocation:
    """Where the i-th row (`label` "r") or column ("c") cell of a matrix is written."""
    locs = mx.row_locs if label == "r" else mx.col_locs
    return locs[i] if i < len(locs) else mx.loc


def _single_input(survey: Survey, block: m.MasterScale | m.ThresholdLadder) -> list[Finding]:
    spec = survey.doc.inputs[block.input]
    if isinstance(block, m.MasterScale):
        if reads_numbers(survey, block):
            return []
        key = "type-error.scale-input"
    else:
        if reads_ordered(survey, block):
            return []
        key = "type-error.ladder-input"
    return [survey.finding(key, block.id, None, block.loc, input=block.input, type=spec.type)]


def _formula(survey: Survey, f: m.Formula) -> list[Finding]:
    doc = survey.doc
    out: list[Finding] = []
    types: dict[str, str] = {n: INPUT_VALUE_TYPES[doc.inputs[n].type] for n in f.inputs}
    used: set[str] = set()
    for name, expr in f.lets:
        used |= expr.names
        out.extend(_expression(survey, f, f"let {name}", expr, expr.loc or f.loc, types))
        types[name] = expr.type
    for name, expr in f.expressions:
        used |= expr.names
        loc = expr.loc or f.loc
        out.extend(_expression(survey, f, name, expr, loc, types))
        spec = f.output(name)
        declared = INPUT_VALUE_TYPES.get(spec.type) if spec is not None else None
        if declared is not None and expr.type not in ("any", declared):
            out.append(
                survey.finding(
                    "type-error.formula-output",
                    f.id,
                    name,
                    loc,
                    output=name,
                    declared=spec.type if spec else "?",
                    formula=repr(expr.text),
                    type=expr.type,
                )
            )
    out.extend(_unread(survey, f, used, "unconstrained-input.no-expression"))
    return out


def _triggers(survey: Survey, ts: m.TriggerSet) -> list[Finding]:
    out: list[Finding] = []
    types = {n: INPUT_VALUE_TYPES[survey.doc.inputs[n].type] for n in ts.inputs}
    used: set[str] = set()
    for t in ts.triggers:
        used |= t.expr.names
        out.extend(_expression(survey, ts, t.id, t.expr, t.expr.loc or t.loc, types))
    out.extend(_unread(survey, ts, used, "unconstrained-input.no-trigger"))
    return out


def _unread(survey: Survey, block: m.Block, used: set[str], key: str) -> list[Finding]:
    return [
        survey.finding(key, block.id, None, block.loc, input=name)
        for name in block.inputs
        if name not in used
    ]


# expressions ------------------------------------------------------------------------------------
class _Site(NamedTuple):
    """An expression and where findings about it point: block, part (`where`) and location."""

    block: m.Block
    where: str
    expr: Expr
    loc: SourceLocation


def _expression(
    survey: Survey,
    block: m.Block,
    where: str,
    expr: Expr,
    loc: SourceLocation,
    types: Mapping[str, str],
) -> list[Finding]:
    if expr.tree is None:
        return []
    site = _Site(block, where, expr, loc)
    return [*_lookup_types(survey, site, types), *_enum_constants(survey, site)]


def _lookup_types(survey: Survey, site: _Site, types: Mapping[str, str]) -> list[Finding]:
    """Arguments passed to `lookup(...)` must fit the target block's inputs."""
    block, where, expr, loc = site
    assert expr.tree is not None
    doc = survey.doc
    out: list[Finding] = []
    reasoner = Reasoner(expr.text)
    for node in ast.walk(expr.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        if node.func.id != "lookup" or len(node.args) != 2:
            continue
        target_id = reasoner.constant(node.args[0])
        target = doc.blocks.get(target_id) if isinstance(target_id, str) else None
        if target is None:
            continue
        for kw in node.keywords:
            spec = doc.inputs.get(kw.arg or "")
            if spec is None:
                continue
            want = INPUT_VALUE_TYPES[spec.type]
            got: str | None = None
            value = reasoner.constant(kw.value)
            if isinstance(kw.value, ast.Name):
                got = types.get(kw.value.id)
            elif value is not UNKNOWN and value is not None:
                got = (
                    "bool"
                    if isinstance(value, bool)
                    else "num"
                    if isinstance(value, Decimal)
                    else "str"
                )
            if got is not None and got not in (want, "any"):
                out.append(
                    survey.finding(
                        "type-error.lookup-argument",
                        block.id,
                        where,
                        loc,
                        target=target.id,
                        got=got,
                        input=spec.name,
                        type=spec.type,
                    )
                )
            elif spec.type == "enum" and isinstance(value, str) and value not in spec.values:
                out.append(
                    survey.finding(
                        "unknown-value.lookup-argument",
                        block.id,
                        where,
                        loc,
                        target=target.id,
                        value=repr(value),
                        input=spec.name,
                        values=", ".join(spec.values),
                    )
                )
    return out


def _enum_constants(survey: Survey, site: _Site) -> list[Finding]:
    """`rating == "AAB"`: a comparison of an enum input with a value it does not declare."""
    block, where, expr, loc = site
    assert expr.tree is not None
    out: list[Finding] = []
    reasoner = Reasoner(expr.text)
    for node in ast.walk(expr.tree):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for left, right in itertools.pairwise(operands):
            for name_node, other in ((left, right), (right, left)):
                if not isinstance(name_node, ast.Name):
                    continue
                spec = survey.doc.inputs.get(name_node.id)
                if spec is None or spec.type != "enum" or name_node.id not in block.inputs:
                    continue
                value = reasoner.constant(other)
                values = value if isinstance(value, tuple) else (value,)
                bad = [v for v in values if isinstance(v, str) and v not in spec.values]
                if bad:
                    out.append(
                        survey.finding(
                            "unknown-value.comparison",
                            block.id,
                            where,
                            loc,
                            formula=repr(expr.text),
                            input=spec.name,
                            values=", ".join(repr(b) for b in bad),
                            declared=", ".join(spec.values),
                        )
                    )
    return out
