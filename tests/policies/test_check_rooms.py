"""The checks are split into rooms (`creditmgmt.policies.checks.ROOMS`): each reports only the
codes it declares, together they declare every code, and they share one survey of the
document, so a table is walked once however many rooms read it."""

from __future__ import annotations

import textwrap

import pytest

from creditmgmt.policies import builtin_names, builtin_ruleset
from creditmgmt.policies.checks import FINDING_CODES, ROOMS, WALK_BUDGET, _finding, check_document
from creditmgmt.policies.checks.geometry import Walk
from creditmgmt.policies.checks.survey import Survey
from creditmgmt.policies.loader import read_document
from creditmgmt.policies.model import RuleSetDocument

BROKEN = textwrap.dedent(
    """\
    id: many-problems
    version: 1.0.0
    effective_from: 2025-01-01
    status: draft
    inputs:
      dpd: {type: int, min: 0}
      grade: {type: enum, values: [A, B, C]}
      pd: {type: decimal, min: 0, max: 1}
      debt: {type: decimal}
      spare: {type: int}
    blocks:
      - id: unique
        kind: decision_table
        inputs: [dpd, grade]
        outputs: {category: {type: enum, values: [normal, special]}}
        rules:
          - {id: r1, when: {dpd: "[0..30)", grade: "A"}, then: {category: normal}}
          - {id: r2, when: {dpd: "[20..90)"}, then: {category: special}}
          - {id: r3, when: {dpd: "[20..90)"}, then: {category: normal}}
          - {id: r4, when: {grade: "D"}, then: {category: normal}}
      - id: first
        kind: decision_table
        hit_policy: FIRST
        inputs: [dpd]
        outputs: {x: {type: int}}
        rules:
          - {id: a, when: {dpd: ">= 0"}, then: {x: 1}}
          - {id: b, when: {dpd: "< 10"}, then: {x: 2}}
      - id: scale
        kind: master_scale
        input: pd
        output: grade
        grades:
          - {grade: "1", from: 0, to: 0.2}
          - {grade: "2", from: 0.1, to: 0.5}
          - {grade: "D", default: true, at: 1}
      - id: ladder
        kind: threshold_ladder
        input: dpd
        output: stage
        steps:
          - {from: 30, value: late}
          - {from: 0, value: current}
      - id: ratio
        kind: formula
        inputs: [dpd, debt]
        outputs:
          r: "debt / dpd"
      - id: warnings
        kind: trigger_set
        inputs: [dpd]
        triggers:
          - {id: never, severity: red, reason: impossible, when: "dpd < 0"}
      - id: broken
        kind: formula
        inputs: [dpd]
        outputs:
          y: "dpd * (dpd > 1)"
    """
)


def room_findings(doc: RuleSetDocument) -> dict[str, set[str]]:
    survey = Survey(doc, _finding, WALK_BUDGET)
    return {room.__name__: {f.code for f in room(survey)} for room, _codes in ROOMS}


def test_the_rooms_declare_every_finding_code() -> None:
    declared = {code for _room, codes in ROOMS for code in codes}
    assert declared == set(FINDING_CODES)


@pytest.mark.parametrize("name", ["many-problems", *builtin_names()])
def test_each_room_reports_only_the_codes_it_declares(name: str) -> None:
    doc = (
        read_document(BROKEN, lenient=True)
        if name == "many-problems"
        else builtin_ruleset(name).document
    )
    found = room_findings(doc)
    for room, codes in ROOMS:
        assert found[room.__name__] <= set(codes), room.__name__
    if name == "many-problems":  # the document exercises every room
        assert all(found.values()), found


def test_the_entry_point_gives_every_room_finding_once_in_position_order() -> None:
    doc = read_document(BROKEN, lenient=True)
    findings = check_document(doc)
    survey = Survey(doc, _finding, WALK_BUDGET)
    # every room's finding, except what the others say about a block whose formula did not
    # compile (its stand-in expression is not the policy): that block has its formula-error
    every = [f for room, _c in ROOMS for f in room(survey)]
    kept = [f for f in every if f.code == "formula-error" or f.block not in doc.formula_errors]
    assert len(kept) < len(every)
    assert sorted(map(str, findings)) == sorted(map(str, kept))
    assert {f.code for f in findings if f.block == "broken"} == {"formula-error"}
    lines = [f.location.line for f in findings if f.location is not None]
    assert lines == sorted(lines)


def test_a_table_is_walked_once_however_many_rooms_read_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walked: list[int] = []
    run = Walk.run

    def counting(self: Walk) -> None:
        walked.append(id(self.covers))
        run(self)

    monkeypatch.setattr(Walk, "run", counting)
    doc = read_document(BROKEN, lenient=True)
    check_document(doc)
    # one walk per table (unique, first) and one for the master scale's bands
    assert len(walked) == len(set(walked)) == 3
