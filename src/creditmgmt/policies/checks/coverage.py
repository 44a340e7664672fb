"""Coverage: every input is decided, and decided once where the block demands it.

Gaps (inputs no row, bin, band, step or matrix row/column matches: evaluating them fails) and
overlaps (inputs several rows of a UNIQUE table, several matrix rows or columns, or several
bands of a scale match), found by the geometric walk and reported as regions in the policy's
own terms; a table too large to walk completely (`check-incomplete`); ladder steps wholly
outside the input's domain; matrix cells without a value.
"""

from __future__ import annotations

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding, SourceLocation
from creditmgmt.policies.cells import Cell
from creditmgmt.policies.checks.geometry import (
    Axis,
    Box,
    Cut,
    Walk,
    bits_of,
    region_findings,
    show,
)
from creditmgmt.policies.checks.scales import bands, bands_ascend, show_start, steps_ascend
from creditmgmt.policies.checks.survey import Survey
from creditmgmt.policies.checks.types_and_inputs import (
    matrix_location,
    reads_numbers,
    reads_ordered,
)
from creditmgmt.policies.messages import Text


def check_coverage(survey: Survey) -> list[Finding]:
    """Gaps and overlaps of every table, scorecard, matrix, master scale and ladder."""
    return survey.per_block(
        {
            m.DecisionTable: _table,
            m.Scorecard: _scorecard,
            m.Matrix: _matrix,
            m.MasterScale: _scale,
            m.ThresholdLadder: _ladder,
        }
    )


def _table(survey: Survey, t: m.DecisionTable) -> list[Finding]:
    finding = survey.finding
    if t.hit_policy == "COLLECT":
        return []
    if not t.rules:
        return [finding("gap.empty-table", t.id, None, t.loc)]
    geometry = survey.table(t)
    walk = geometry.walk
    out: list[Finding] = []
    if walk.truncated:
        out.append(
            finding(
                "check-incomplete.too-many-regions", t.id, None, t.loc, budget=survey.walk_budget
            )
        )
    axes = geometry.axes
    out.extend(
        region_findings(finding, axes, [(walk.gaps, Text.of("gap.no-rule"), None, t.loc)], t.id)
    )
    if t.hit_policy == "UNIQUE":
        duplicates = survey.duplicate_members(t)
        items = []
        for hit, boxes in walk.overlaps.items():
            rows = list(bits_of(hit))
            if frozenset(rows) <= duplicates.get(rows[0], frozenset()):
                continue  # already reported as a duplicate
            ids = [t.rules[i].id for i in rows]
            key = "overlap.rules-both" if len(ids) == 2 else "overlap.rules-all"
            last = t.rules[rows[-1]]
            items.append((boxes, Text.of(key, rules=tuple(ids)), last.id, last.loc))
        items.sort(key=lambda item: item[3].line)
        out.extend(region_findings(finding, axes, items, t.id))
    return out


def _scorecard(survey: Survey, s: m.Scorecard) -> list[Finding]:
    out: list[Finding] = []
    for index, ch in enumerate(s.characteristics):
        geometry = survey.bins(s, index)
        gaps = [(geometry.walk.gaps, Text.of("gap.no-bin", input=ch.input), None, ch.loc)]
        out.extend(region_findings(survey.finding, geometry.axes, gaps, s.id))
    return out


def _matrix(survey: Survey, mx: m.Matrix) -> list[Finding]:
    finding = survey.finding
    out: list[Finding] = []
    for label, cells in (("r", mx.row_cells), ("c", mx.col_cells)):
        what = "row" if label == "r" else "column"
        geometry = survey.matrix_axis(mx, label)
        walk, axes = geometry.walk, geometry.axes
        gaps = [(walk.gaps, Text.of(f"gap.no-{what}"), None, mx.loc)]
        out.extend(region_findings(finding, axes, gaps, mx.id))
        items: list[tuple[list[Box], Text, str | None, SourceLocation]] = []
        for hit, boxes in walk.overlaps.items():
            rows = list(bits_of(hit))
            ids = [f"{label}{i + 1}" for i in rows]
            items.append(
                (
                    boxes,
                    Text.of(
                        f"overlap.{what}s",
                        rows=tuple(ids),
                        cells=", ".join(cells[i].text for i in rows),
                    ),
                    ids[-1],
                    matrix_location(mx, label, rows[-1]),
                )
            )
        out.extend(region_findings(finding, axes, items, mx.id))
    for i, row in enumerate(mx.values):
        for j, value in enumerate(row):
            if value is None or (isinstance(value, str) and not value.strip()):
                out.append(
                    finding(
                        "empty-cell.no-value",
                        mx.id,
                        f"r{i + 1}c{j + 1}",
                        mx.value_locs[i][j] if i < len(mx.value_locs) else mx.loc,
                        cell=f"r{i + 1}c{j + 1}",
                        row=mx.row_cells[i].text,
                        column=mx.col_cells[j].text,
                    )
                )
    return out


def _scale(survey: Survey, s: m.MasterScale) -> list[Finding]:
    """Gaps and overlaps outside the bands' own span (inside it, `scale-not-contiguous` says
    where bands do not meet): below the first band, above the last, around the default."""
    if not reads_numbers(survey, s):
        return []  # a type error
    spec = survey.doc.inputs[s.input]
    low = spec.min
    if s.floor is not None and (low is None or s.floor > low):
        low = s.floor  # values below the floor are graded as the floor
    # cells of a virtual one-input table: bands [from..to), defaults = at
    cells = [
        Cell("range", f"= {g.lower}", low=g.lower, high=g.lower)
        if g.is_default
        else Cell("range", f"[{g.lower}..{g.upper})", low=g.lower, high=g.upper, high_closed=False)
        for g in s.grades
    ]
    axis = Axis(spec, cells, domain=(low, spec.max))
    covers = [[axis.cover(c)[0]] for c in cells]
    walk = Walk([axis], covers, overlaps_wanted=True, budget=survey.walk_budget)
    walk.run()
    written = bands(s)
    interior: tuple[Cut, Cut] | None = None
    if written and bands_ascend(s):
        top = max(g.upper for g in written if g.upper is not None)
        interior = (axis.cut(written[0].lower, before=True), axis.cut(top, before=True))

    def outside(box: Box) -> bool:
        if interior is None:
            return True
        inside = ((1 << axis.start(interior[1])) - 1) & ~((1 << axis.start(interior[0])) - 1)
        return (box[0] & ~inside) != 0

    gaps = [b for b in walk.gaps if outside(b)]
    out = region_findings(
        survey.finding, [axis], [(gaps, Text.of("gap.no-grade"), None, s.loc)], s.id
    )
    items = []
    for hit, boxes in walk.overlaps.items():
        boxes = [b for b in boxes if outside(b)]
        if boxes:
            rows = list(bits_of(hit))
            names = [s.grades[i].grade for i in rows]
            last = s.grades[rows[-1]]
            items.append(
                (boxes, Text.of("overlap.grades", grades=tuple(names)), last.grade, last.loc)
            )
    out.extend(region_findings(survey.finding, [axis], items, s.id))
    return out


def _ladder(survey: Survey, ladder: m.ThresholdLadder) -> list[Finding]:
    if not reads_ordered(survey, ladder):
        return []  # a type error
    finding = survey.finding
    spec = survey.doc.inputs[ladder.input]
    out: list[Finding] = []
    if spec.nullable:
        out.append(
            finding("gap.no-step", ladder.id, None, ladder.loc, region=f"{ladder.input} missing")
        )
    steps = ladder.steps
    if not steps or not steps_ascend(spec, ladder):
        return out
    first = steps[0]
    if spec.type == "enum":
        below = spec.values[: spec.values.index(first.start)]
        if below:
            region = (
                f"{ladder.input} = {show(below[0])}"
                if len(below) == 1
                else f"{ladder.input} in {{{', '.join(show(v) for v in below)}}}"
            )
            out.append(finding("gap.no-step", ladder.id, None, ladder.loc, region=region))
        return out
    cells = [
        Cell("range", f">= {show_start(spec, st.start)}", low=st.start)
        if i == len(steps) - 1
        else Cell(
            "range",
            f"[{show_start(spec, st.start)}..{show_start(spec, steps[i + 1].start)})",
            low=st.start,
            high=steps[i + 1].start,
            high_closed=False,
        )
        for i, st in enumerate(steps)
    ]
    axis = Axis(spec, cells, domain=(ladder.domain_min, ladder.domain_max))
    first_cut = axis.cut(first.start, before=True)
    if axis.dom_lo is None or first_cut > axis.dom_lo:
        region = axis.interval(axis.dom_lo, first_cut)
        out.append(finding("gap.no-step", ladder.id, None, ladder.loc, region=region))
    for step, cell in zip(steps, cells, strict=True):
        if not axis.cover(cell)[0]:
            start = axis.cut(step.start, before=True)
            above = axis.dom_hi is not None and start >= axis.dom_hi
            out.append(
                finding(
                    "unreachable-step.above-max" if above else "unreachable-step.below-min",
                    ladder.id,
                    f"from {step.start}",
                    step.loc,
                    start=show_start(spec, step.start),
                    value=str(step.value),
                )
            )
    return out
