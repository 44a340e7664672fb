"""Scales: master-scale grades and threshold-ladder steps in a sound order.

A master scale needs at least `MIN_NON_DEFAULT_GRADES` non-default grades and exactly one
default grade, each grade named once, bands that ascend without being empty, a default grade
above the bands, and each band starting where the previous one ends. A threshold ladder's
steps must ascend, two steps never starting at the same value. (Gaps and overlaps of the
values a scale or ladder covers are coverage findings.)
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding
from creditmgmt.policies.checks.geometry import Axis, show
from creditmgmt.policies.checks.survey import Survey
from creditmgmt.policies.checks.types_and_inputs import reads_numbers, reads_ordered
from creditmgmt.policies.messages import Value

#: Basel/CRR minimum for a rating scale: 7 non-default grades and 1 default grade.
MIN_NON_DEFAULT_GRADES = 7


def check_scales(survey: Survey) -> list[Finding]:
    """The grades of every master scale and the steps of every threshold ladder."""
    out: list[Finding] = []
    for block in survey.blocks:
        if isinstance(block, m.MasterScale) and reads_numbers(survey, block):
            out.extend(_grades(survey, block))
        elif isinstance(block, m.ThresholdLadder) and reads_ordered(survey, block):
            out.extend(_steps(survey, block))
    return out


def bands(s: m.MasterScale) -> list[m.Grade]:
    """The non-default grades of a scale, as written."""
    return [g for g in s.grades if not g.is_default]


def bands_ascend(s: m.MasterScale) -> bool:
    """Whether every band is non-empty and starts no lower than the one before."""
    written = bands(s)
    for prev, g in zip([None, *written], written, strict=False):
        assert g.upper is not None
        if g.lower >= g.upper or (prev is not None and g.lower < prev.lower):
            return False
    return True


def step_key(spec: m.InputSpec) -> Any:
    """The order of a ladder's step starts: an enum's declared order, else the values'."""
    if spec.type == "enum":
        return spec.values.index
    return lambda v: v


def show_start(spec: m.InputSpec, v: Any) -> str:
    """A step start as findings write it."""
    if spec.type == "enum":
        return show(v)
    return v.isoformat() if isinstance(v, date) else str(v)


def steps_ascend(spec: m.InputSpec, ladder: m.ThresholdLadder) -> bool:
    """Whether each step starts above the one before."""
    key = step_key(spec)
    return all(key(b.start) > key(a.start) for a, b in itertools.pairwise(ladder.steps))


def _grades(survey: Survey, s: m.MasterScale) -> list[Finding]:
    finding = survey.finding
    out: list[Finding] = []
    written = bands(s)
    defaults = [g for g in s.grades if g.is_default]
    if len(written) < MIN_NON_DEFAULT_GRADES or len(defaults) != 1:
        out.append(
            finding(
                "scale-too-few-grades.count",
                s.id,
                None,
                s.loc,
                grades=len(written),
                defaults=len(defaults),
                minimum=MIN_NON_DEFAULT_GRADES,
            )
        )
    seen: dict[str, m.Grade] = {}
    for g in s.grades:
        if g.grade in seen:
            out.append(
                finding(
                    "duplicate-grade.twice",
                    s.id,
                    g.grade,
                    g.loc,
                    grade=g.grade,
                    line=seen[g.grade].loc.line,
                )
            )
        seen.setdefault(g.grade, g)
    for prev, g in zip([None, *written], written, strict=False):
        assert g.upper is not None
        values: dict[str, Value]
        if g.lower >= g.upper:
            key, values = "scale-not-monotone.empty-band", {"upper": str(g.upper)}
        elif prev is not None and g.lower < prev.lower:
            key = "scale-not-monotone.descending"
            values = {"previous": prev.grade, "previous_lower": str(prev.lower)}
        else:
            continue
        out.append(finding(key, s.id, g.grade, g.loc, grade=g.grade, lower=str(g.lower), **values))
    top = max((g.upper for g in written if g.upper is not None), default=None)
    out.extend(
        finding(
            "scale-not-monotone.default-below",
            s.id,
            d.grade,
            d.loc,
            grade=d.grade,
            lower=str(d.lower),
            top=str(top),
        )
        for d in defaults
        if top is not None and d.lower < top
    )
    if not written or not bands_ascend(s):
        return out
    axis = Axis(survey.doc.inputs[s.input], ())  # only to write regions in the input's terms
    for prev, g in itertools.pairwise(written):
        if prev.upper != g.lower:
            assert prev.upper is not None
            lo, hi = sorted((prev.upper, g.lower))
            region = axis.interval(axis.cut(lo, before=True), axis.cut(hi, before=True))
            out.append(
                finding(
                    "scale-not-contiguous.hole"
                    if prev.upper < g.lower
                    else "scale-not-contiguous.overlap",
                    s.id,
                    g.grade,
                    g.loc,
                    previous=prev.grade,
                    upper=str(prev.upper),
                    grade=g.grade,
                    lower=str(g.lower),
                    region=region,
                )
            )
    return out


def _steps(survey: Survey, ladder: m.ThresholdLadder) -> list[Finding]:
    spec = survey.doc.inputs[ladder.input]
    key = step_key(spec)
    out: list[Finding] = []
    for prev, step in itertools.pairwise(ladder.steps):
        if key(step.start) == key(prev.start):
            out.append(
                survey.finding(
                    "overlap.steps",
                    ladder.id,
                    f"from {step.start}",
                    step.loc,
                    first=show_start(spec, prev.start),
                    first_value=str(prev.value),
                    second=show_start(spec, step.start),
                    second_value=str(step.value),
                )
            )
        elif key(step.start) < key(prev.start):
            out.append(
                survey.finding(
                    "ladder-not-ordered.descending",
                    ladder.id,
                    f"from {step.start}",
                    step.loc,
                    start=show_start(spec, step.start),
                    previous=show_start(spec, prev.start),
                )
            )
    return out
