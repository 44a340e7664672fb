"""Shadowing and duplicates: rows that can never decide, and rows written twice.

Duplicates: two rows of a UNIQUE or FIRST table with the same conditions (compared by what
they match, not how they are written) — an error when their outputs differ. Shadowing: a row
with a cell that holds for no allowed value; under FIRST a row whose whole region earlier rows
cover; under PRIORITY a row that a row with a better output always outvotes; a scorecard bin
that earlier bins cover wholly (or in part: `bin-overlap`).
"""

from __future__ import annotations

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding
from creditmgmt.policies.checks.geometry import (
    MAX_REGION_FINDINGS,
    Box,
    Runs,
    bits_of,
    mask_of,
    region_findings,
)
from creditmgmt.policies.checks.survey import Survey
from creditmgmt.policies.checks.types_and_inputs import bin_id
from creditmgmt.policies.messages import Text


def check_duplicates(survey: Survey) -> list[Finding]:
    """Rows of UNIQUE and FIRST tables with the same conditions as an earlier row."""
    out: list[Finding] = []
    for t in survey.of_kind(m.DecisionTable):
        if t.hit_policy == "COLLECT" or not t.rules:
            continue
        for rows in survey.duplicates(t):
            first = t.rules[rows[0]]
            for i in rows[1:]:
                rule = t.rules[i]
                same = dict(rule.then) == dict(first.then)
                out.append(
                    survey.finding(
                        "duplicate-row.same" if same else "conflicting-duplicate.different",
                        t.id,
                        rule.id,
                        rule.loc,
                        rule=rule.id,
                        first=first.id,
                        outputs=_outputs(rule),
                        first_outputs=_outputs(first),
                    )
                )
    return out


def check_shadowing(survey: Survey) -> list[Finding]:
    """Table rows and scorecard bins that can never decide."""
    return survey.per_block({m.DecisionTable: _table, m.Scorecard: _scorecard})


def _outputs(rule: m.Rule) -> str:
    return ", ".join(f"{k}={v}" for k, v in rule.then)


def _table(survey: Survey, t: m.DecisionTable) -> list[Finding]:
    if t.hit_policy == "COLLECT" or not t.rules:
        return []
    finding = survey.finding
    out: list[Finding] = []
    geometry = survey.table(t)
    covers, axes, walk = geometry.covers, geometry.axes, geometry.walk
    dead = [i for i, row in enumerate(covers) if not all(row)]
    for i in dead:
        rule = t.rules[i]
        never = next(a for a, runs in enumerate(covers[i]) if not runs)
        axis = axes[never]
        cell = rule.cell(axis.name)
        if cell.kind in ("range", "missing", "not") and axis.cover(cell)[1] is None:
            out.append(
                finding(
                    "shadowed-row.never-match-not-nullable"
                    if cell.kind == "missing"
                    else "shadowed-row.never-match",
                    t.id,
                    rule.id,
                    rule.loc,
                    rule=rule.id,
                    input=axis.name,
                    cell=cell.text,
                )
            )
    if t.hit_policy == "FIRST" and not walk.truncated:
        duplicates = survey.duplicate_members(t)
        named = 0
        for i, rule in enumerate(t.rules):
            if walk.winners >> i & 1 or i in dead:
                continue
            if i in duplicates and i != min(duplicates[i]):
                continue  # reported as a duplicate of an earlier row
            named += 1
            earlier = _covering_rows(covers, i) if named <= MAX_REGION_FINDINGS else []
            out.append(
                finding(
                    "shadowed-row.covered-by" if earlier else "shadowed-row.covered",
                    t.id,
                    rule.id,
                    rule.loc,
                    rule=rule.id,
                    rules=tuple(t.rules[j].id for j in earlier),
                )
            )
    if t.hit_policy == "PRIORITY" and not walk.truncated:
        out.extend(
            finding("shadowed-row.never-decides", t.id, rule.id, rule.loc, rule=rule.id)
            for i, rule in enumerate(t.rules)
            if not (walk.winners >> i & 1 or i in dead)
        )
    return out


def _covering_rows(covers: list[list[Runs]], i: int) -> list[int]:
    """Earlier rows that meet row i (to name the culprits of a shadowed row)."""
    mine = [mask_of(r) for r in covers[i]]
    return [
        j for j in range(i) if all(mask_of(r) & mk for r, mk in zip(covers[j], mine, strict=True))
    ][:5]


def _scorecard(survey: Survey, s: m.Scorecard) -> list[Finding]:
    out: list[Finding] = []
    for index, ch in enumerate(s.characteristics):
        geometry = survey.bins(s, index)
        walk, axes, covers = geometry.walk, geometry.axes, geometry.covers
        troubled = {i for i, _axis, _problem in geometry.problems}
        partial: dict[int, list[Box]] = {}
        for hit, boxes in walk.overlaps.items():
            for i in list(bits_of(hit))[1:]:
                if walk.winners >> i & 1:
                    partial.setdefault(i, []).extend(boxes)
        for i, b in enumerate(ch.bins):
            if not covers[i][0] and i in troubled:
                continue  # reported as a type error
            if not walk.winners >> i & 1:
                out.append(
                    survey.finding(
                        "shadowed-row.bin-covered" if covers[i][0] else "shadowed-row.bin-empty",
                        s.id,
                        bin_id(ch, i),
                        b.loc,
                        bin=repr(b.cell.text),
                        input=ch.input,
                    )
                )
            elif i in partial:
                message = Text.of("bin-overlap.partial", bin=repr(b.cell.text))
                out.extend(
                    region_findings(
                        survey.finding, axes, [(partial[i], message, bin_id(ch, i), b.loc)], s.id
                    )
                )
    return out
