"""Hypothesis strategies for rule-set documents, and seeded defects `check()` must find.

    from creditmgmt.policies import load_ruleset
    from creditmgmt.testing import rulesets as rs

    @given(rs.documents())
    def test_valid_documents_are_clean(doc):
        assert rs.errors(load_ruleset(rs.to_text(doc)).check()) == []

    @given(rs.documents().flatmap(rs.mutations))
    def test_check_finds_every_seeded_defect(mutation):
        codes = {f.code for f in load_ruleset(rs.to_text(mutation.document)).check()}
        assert mutation.code in codes

A document is the plain mapping the rule-set language describes (docs/policies.md), written
out as JSON text (which YAML loaders read too). Valid documents hold one block of each kind:
decision tables under every hit policy, a scorecard, a master scale, a threshold ladder, a
matrix, a formula and a trigger set, each total over its inputs' domains and free of error
findings. `mutations(doc)` makes one edit — drop a row, shift a boundary, duplicate a row,
flip a type, ... — and names the finding code `check()` must then report.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs
import yaml
from hypothesis import strategies as st

from creditmgmt.policies import Finding

Document = dict[str, Any]

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "COLLECT")
CATEGORIES = ["normal", "special_mention", "substandard", "doubtful", "loss"]
GRADES = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C"]

INPUTS: dict[str, dict[str, Any]] = {
    "dpd": {"type": "int", "min": 0},
    "grade": {"type": "enum", "values": ["A", "B", "C", "D"]},
    "secured": {"type": "bool"},
    "pd": {"type": "decimal", "min": 0, "max": 1},
    "amount": {"type": "money", "min": 0},
    "revenue": {"type": "money", "min": 0},
    "requested": {"type": "money", "min": 0},
}


class _Dumper(yaml.SafeDumper):
    """Writes a Decimal as the plain number it is (the loader reads it back exactly), and
    never an alias (rule-set documents refuse anchors)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))


def to_text(document: Document) -> str:
    """The document as YAML text for `load_ruleset`; Decimal values become exact numbers."""
    return yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


def errors(findings: Sequence[Finding]) -> list[Finding]:
    """The error findings of a `check()` (warnings and info are advice)."""
    return [f for f in findings if f.severity == "error"]


def _cuts(draw: st.DrawFn, *, low: int, high: int, min_size: int, max_size: int) -> list[int]:
    return sorted(draw(st.sets(st.integers(low, high), min_size=min_size, max_size=max_size)))


def _intervals(cuts: Sequence[int]) -> list[str]:
    """`[0..c1)`, `[c1..c2)`, ..., `>= cn`: the non-negative integers, once each."""
    bounds = [0, *cuts]
    cells = [f"[{a}..{b})" for a, b in itertools.pairwise(bounds)]
    return [*cells, f">= {bounds[-1]}"]


# blocks --------------------------------------------------------------------------------------
@st.composite
def decision_tables(draw: st.DrawFn, *, hit_policy: str | None = None) -> dict[str, Any]:
    """A table over `dpd` (rows cut it into intervals) under `hit_policy` (any when None).

    UNIQUE, FIRST and PRIORITY rows give a category; COLLECT rows add a decimal with SUM.
    """
    policy = hit_policy or draw(st.sampled_from(HIT_POLICIES))
    cells = _intervals(_cuts(draw, low=1, high=720, min_size=1, max_size=6))
    block: dict[str, Any] = {
        "id": f"table_{policy.lower()}",
        "kind": "decision_table",
        "hit_policy": policy,
        "inputs": ["dpd"],
    }
    if policy == "COLLECT":
        block["aggregate"] = "SUM"
        block["outputs"] = {"addon": {"type": "decimal"}}
        values = draw(
            st.lists(st.decimals("0", "0.05", places=4), min_size=len(cells), max_size=len(cells))
        )
        block["rules"] = [
            {"id": f"r{i}", "when": {"dpd": cell}, "then": {"addon": v}}
            for i, (cell, v) in enumerate(zip(cells, values), 1)
        ]
        return block
    order = CATEGORIES[::-1] if policy == "PRIORITY" else CATEGORIES  # PRIORITY: worst first
    block["outputs"] = {"category": {"type": "enum", "values": order}}
    chosen = draw(st.lists(st.sampled_from(CATEGORIES), min_size=len(cells), max_size=len(cells)))
    block["rules"] = [
        {"id": f"r{i}", "when": {"dpd": cell}, "then": {"category": c}}
        for i, (cell, c) in enumerate(zip(cells, chosen), 1)
    ]
    return block


@st.composite
def scorecards(draw: st.DrawFn) -> dict[str, Any]:
    """Points for `dpd` bins (a partition) and for `secured`."""
    cells = _intervals(_cuts(draw, low=1, high=360, min_size=1, max_size=5))
    points = draw(st.lists(st.integers(-50, 80), min_size=len(cells), max_size=len(cells)))
    return {
        "id": "score",
        "kind": "scorecard",
        "inputs": ["dpd", "secured"],
        "base_points": draw(st.integers(300, 700)),
        "characteristics": [
            {
                "input": "dpd",
                "bins": [{"when": c, "points": p} for c, p in zip(cells, points)],
            },
            {
                "input": "secured",
                "bins": [
                    {"when": "true", "points": draw(st.integers(0, 40))},
                    {"when": "false", "points": 0},
                ],
            },
        ],
    }


@st.composite
def master_scales(draw: st.DrawFn) -> dict[str, Any]:
    """PD → grade over 7 to 9 contiguous bands from 0 to 1, plus the default grade at 1."""
    count = draw(st.integers(7, len(GRADES)))
    cuts = sorted(draw(st.sets(st.integers(1, 9999), min_size=count - 1, max_size=count - 1)))
    edges = [Decimal(0), *(Decimal(c).scaleb(-4) for c in cuts), Decimal(1)]
    grades = [{"grade": GRADES[i], "from": edges[i], "to": edges[i + 1]} for i in range(count)]
    return {
        "id": "scale",
        "kind": "master_scale",
        "input": "pd",
        "output": "grade",
        "grades": [*grades, {"grade": "D", "default": True, "at": 1}],
    }


@st.composite
def ladders(draw: st.DrawFn) -> dict[str, Any]:
    """`dpd` → a collections action; steps ascend from 0."""
    starts = [0, *_cuts(draw, low=1, high=360, min_size=1, max_size=5)]
    actions = draw(
        st.lists(
            st.sampled_from(["none", "reminder", "call", "notice", "legal"]),
            min_size=len(starts),
            max_size=len(starts),
        )
    )
    return {
        "id": "collections",
        "kind": "threshold_ladder",
        "input": "dpd",
        "output": "action",
        "steps": [{"from": s, "value": a} for s, a in zip(starts, actions)],
    }


@st.composite
def matrices(draw: st.DrawFn) -> dict[str, Any]:
    """`amount` bands × `grade` groups → an approval level, every cell filled."""
    rows = _intervals([c * 1_000_000 for c in _cuts(draw, low=1, high=500, min_size=1, max_size=3)])
    cols = ['"A", "B"', '"C", "D"']
    levels = st.sampled_from(["branch", "regional", "head_office", "committee"])
    return {
        "id": "authority",
        "kind": "matrix",
        "rows": {"input": "amount", "cells": rows},
        "columns": {"input": "grade", "cells": cols},
        "output": "level",
        "values": [[draw(levels) for _ in cols] for _ in rows],
    }


@st.composite
def formulas(draw: st.DrawFn) -> dict[str, Any]:
    """limit = min(revenue × k, requested): never negative, never above the request."""
    k = draw(st.decimals("0.05", "0.60", places=2))
    return {
        "id": "limit",
        "kind": "formula",
        "inputs": ["revenue", "requested"],
        "outputs": {"limit": f"round(min(revenue * {k}, requested), 2)"},
    }


@st.composite
def trigger_sets(draw: st.DrawFn) -> dict[str, Any]:
    """Early-warning triggers on `dpd` and `secured`; each can fire."""
    cut = draw(st.integers(1, 360))
    return {
        "id": "warnings",
        "kind": "trigger_set",
        "inputs": ["dpd", "secured"],
        "triggers": [
            {"id": "overdue", "severity": "red", "reason": "EW1", "when": f"dpd > {cut}"},
            {"id": "unsecured", "severity": "yellow", "reason": "EW2", "when": "not secured"},
        ],
    }


BLOCKS: dict[str, Callable[[], st.SearchStrategy[dict[str, Any]]]] = {
    **{
        f"decision_table/{p}": (lambda p=p: decision_tables(hit_policy=p))  # type: ignore[misc]
        for p in HIT_POLICIES
    },
    "scorecard": scorecards,
    "master_scale": master_scales,
    "threshold_ladder": ladders,
    "matrix": matrices,
    "formula": formulas,
    "trigger_set": trigger_sets,
}


@st.composite
def documents(draw: st.DrawFn, *, kinds: Sequence[str] | None = None) -> Document:
    """A valid draft document with one block of each of `kinds` (keys of `BLOCKS`; all when
    None). Only the inputs its blocks read are declared."""
    chosen = list(kinds) if kinds is not None else list(BLOCKS)
    blocks = [draw(BLOCKS[k]()) for k in chosen]
    used = sorted({name for b in blocks for name in _reads(b)})
    return {
        "id": "generated",
        "version": f"1.{draw(st.integers(0, 99))}.0",
        "effective_from": "2026-01-01",
        "status": "draft",
        "owner": "credit-policy",
        "inputs": {name: dict(INPUTS[name]) for name in used},
        "blocks": blocks,
    }


def _reads(block: dict[str, Any]) -> list[str]:
    if "inputs" in block:
        return list(block["inputs"])
    if block["kind"] == "matrix":
        return [block["rows"]["input"], block["columns"]["input"]]
    return [block["input"]]


# mutations -----------------------------------------------------------------------------------
@attrs.frozen
class Mutation:
    """One edit of a valid document, and the finding `check()` must report for it."""

    document: Document
    code: str
    block: str
    edit: str

    def __repr__(self) -> str:
        return f"Mutation({self.edit!r} in {self.block} -> {self.code})"


def _rows(block: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = block["rules"]
    return rows


def _drop_row(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    rows = _rows(block)
    if block.get("hit_policy") == "COLLECT" or len(rows) < 2:
        return None
    k = i % len(rows)
    del rows[k]
    return "gap", f"drop row {k + 1}"


def _shift_boundary_down(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    """Start row i+1 one day earlier: it now shares a day with row i."""
    rows = _rows(block)
    if block.get("hit_policy") != "UNIQUE" or len(rows) < 2:
        return None
    k = 1 + i % (len(rows) - 1)
    cell = rows[k]["when"]["dpd"]
    start = int(cell[1:].split("..")[0]) if cell.startswith("[") else int(cell[3:])
    rows[k]["when"]["dpd"] = cell.replace(str(start), str(start - 1), 1)
    return "overlap", f"shift the lower boundary of row {k + 1} down by one"


def _shift_boundary_up(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    """End row i one day earlier: the day it no longer covers belongs to no row."""
    rows = _rows(block)
    if block.get("hit_policy") == "COLLECT" or len(rows) < 2:
        return None
    k = i % (len(rows) - 1)
    low, high = rows[k]["when"]["dpd"][1:-1].split("..")
    if int(high) - 1 <= int(low):
        return None
    rows[k]["when"]["dpd"] = f"[{low}..{int(high) - 1})"
    return "gap", f"shift the upper boundary of row {k + 1} down by one"


def _duplicate_row(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    """Under PRIORITY the copy never decides (shadowed-row); under COLLECT a repeated row
    counts twice, which is meaningful, so the edit does not apply."""
    rows = _rows(block)
    if block.get("hit_policy") == "COLLECT":
        return None
    k = i % len(rows)
    copy_ = copy.deepcopy(rows[k])
    copy_["id"] = "duplicate"
    rows.append(copy_)
    code = "shadowed-row" if block.get("hit_policy") == "PRIORITY" else "duplicate-row"
    return code, f"duplicate row {k + 1}"


def _conflicting_duplicate(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    rows = _rows(block)
    if "category" not in rows[0]["then"]:
        return None
    copy_ = copy.deepcopy(rows[i % len(rows)])
    copy_["id"] = "conflicting"
    code = "shadowed-row" if block.get("hit_policy") == "PRIORITY" else "conflicting-duplicate"
    other = [c for c in CATEGORIES if c != copy_["then"]["category"]]
    copy_["then"]["category"] = other[0]
    rows.append(copy_)
    return code, "duplicate a row with another category"


def _flip_output_type(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    rows = _rows(block)
    row = rows[i % len(rows)]
    if "category" in row["then"]:
        row["then"]["category"] = "catastrophic"
        return "unknown-value", "write an undeclared category"
    row["then"]["addon"] = "high"
    return "type-error", "write text into a decimal output"


def _swap_steps(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    steps = block["steps"]
    if len(steps) < 2:
        return None
    k = i % (len(steps) - 1)
    steps[k]["from"], steps[k + 1]["from"] = steps[k + 1]["from"], steps[k]["from"]
    return "ladder-not-ordered", f"swap the starts of steps {k + 1} and {k + 2}"


def _scale_gap(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    grades = block["grades"]
    k = 1 + i % (len(grades) - 2)  # a band after the first, not the default grade
    if k == len(grades) - 2:  # the top band: move its start down instead of up
        return None
    grades[k]["from"] = (grades[k]["from"] + grades[k]["to"]) / 2
    return "scale-not-contiguous", f"move the start of band {grades[k]['grade']}"


def _scale_duplicate_grade(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    grades = block["grades"]
    k = 1 + i % (len(grades) - 2)
    grades[k]["grade"] = grades[k - 1]["grade"]
    return "duplicate-grade", f"give band {k + 1} the name of band {k}"


def _scale_too_few(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    grades = block["grades"]
    performing = grades[:-1]
    kept = performing[:6]
    kept[-1]["to"] = Decimal(1)
    block["grades"] = [*kept, grades[-1]]
    return "scale-too-few-grades", "merge the top bands into six"


def _empty_matrix_cell(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    values = block["values"]
    values[i % len(values)][0] = None
    return "empty-cell", "empty a matrix cell"


def _divide_by_input(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    block["outputs"]["ratio"] = "requested / revenue"
    return "division-by-zero", "divide by an input that may be 0"


def _contradictory_trigger(block: dict[str, Any], i: int) -> tuple[str, str] | None:
    trigger = block["triggers"][0]
    cut = int(trigger["when"].split(">")[1])
    trigger["when"] = f"dpd > {cut} and dpd < {cut}"
    return "trigger-never-fires", "write `and` for `or` in a trigger"


def _flip_input_type(document: Document, block: dict[str, Any]) -> tuple[str, str] | None:
    """Point the ladder at a text input: a ladder cannot read text (other blocks keep the
    numeric input, whose cells would not even load as text)."""
    name = f"{block['input']}_text"
    document["inputs"][name] = {"type": "string"}
    block["input"] = name
    return "type-error", f"read {name}, declared as string"


Edit = Callable[[dict[str, Any], int], tuple[str, str] | None]

EDITS: dict[str, tuple[Edit, ...]] = {
    "decision_table": (
        _drop_row,
        _shift_boundary_down,
        _shift_boundary_up,
        _duplicate_row,
        _conflicting_duplicate,
        _flip_output_type,
    ),
    "threshold_ladder": (_swap_steps,),
    "master_scale": (_scale_gap, _scale_duplicate_grade, _scale_too_few),
    "matrix": (_empty_matrix_cell,),
    "formula": (_divide_by_input,),
    "trigger_set": (_contradictory_trigger,),
}


def mutation_count(document: Document) -> int:
    """How many distinct kinds of edit `mutations(document)` can make."""
    return sum(len(EDITS.get(b["kind"], ())) for b in document["blocks"])


@st.composite
def mutations(draw: st.DrawFn, document: Document) -> Mutation:
    """One single-edit defect of a valid `document`, with the code `check()` must report.

    Edits: drop a row (gap), shift a boundary down (overlap under UNIQUE) or up (gap),
    duplicate a row (duplicate-row) or duplicate it with another output
    (conflicting-duplicate; under PRIORITY either copy is a shadowed-row), write an undeclared enum value (unknown-value) or text into a
    number (type-error), swap ladder steps (ladder-not-ordered), move a master-scale band
    (scale-not-contiguous), repeat a grade (duplicate-grade), merge bands (too few grades),
    empty a matrix cell (empty-cell), divide by an input that may be 0 (division-by-zero),
    write a contradictory trigger (trigger-never-fires), let a ladder read a text input
    (type-error). An edit that does not apply to the drawn block is skipped.
    """
    candidates: list[tuple[int, Edit | None]] = []
    for index, block in enumerate(document["blocks"]):
        candidates.extend((index, edit) for edit in EDITS.get(block["kind"], ()))
        if block["kind"] == "threshold_ladder":
            candidates.append((index, None))
    if not candidates:
        from hypothesis.errors import InvalidArgument

        raise InvalidArgument("the document has no block that mutations() can edit")
    for index, edit in draw(st.permutations(candidates)):
        mutated = copy.deepcopy(document)
        block = mutated["blocks"][index]
        if edit is None:
            outcome = _flip_input_type(mutated, block)
        else:
            outcome = edit(block, draw(st.integers(0, 50)))
        if outcome is not None:
            code, what = outcome
            return Mutation(mutated, code, block["id"], what)
    from hypothesis import reject

    return reject()  # no edit applies to this document (every table has a single row)


__all__ = [
    "BLOCKS",
    "EDITS",
    "HIT_POLICIES",
    "Document",
    "Mutation",
    "decision_tables",
    "documents",
    "errors",
    "formulas",
    "ladders",
    "master_scales",
    "matrices",
    "mutation_count",
    "mutations",
    "scorecards",
    "to_text",
    "trigger_sets",
]
