"""Static checks of rule-set documents: one test per finding code, written as a policy team
would write the document, asserting code, severity, block, row, line and the region text."""

from __future__ import annotations

import itertools
import textwrap
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests import rule_documents

from creditmgmt.policies import PolicyCheckError, PolicyEvaluationError, load_ruleset
from creditmgmt.policies import checks as checks_module
from creditmgmt.policies.checks import FINDING_CODES, FINDING_SEVERITIES, check_document
from creditmgmt.policies.loader import read_document
from creditmgmt.policies.model import DecisionTable, Finding, MasterScale


def document(inputs: str, blocks: str, *, status: str = "draft") -> str:
    """A document of these inputs and blocks (inputs first, as the checks read them)."""
    return rule_documents.document(
        blocks, inputs, id="checks-demo", status=status, effective_from="2025-01-01"
    )


def check(text: str) -> list[Finding]:
    return check_document(read_document(text))


def line_of(text: str, marker: str) -> int:
    """1-based line of the only line containing `marker` (the YAML node starts there)."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def only(findings: list[Finding], code: str) -> Finding:
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, [str(f) for f in findings]
    return matching[0]


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def block_line(text: str, block_id: str) -> int:
    # a block's location is its mapping, which starts on the "- id: ..." line
    return line_of(text, f"- id: {block_id}")


CLASSIFICATION_INPUTS = """
dpd: {type: int, min: 0}
grade: {type: enum, values: [A, BB, C]}
"""


# gaps and overlaps in UNIQUE decision tables --------------------------------------------------
def test_gap_in_unique_table_names_the_region_in_policy_terms() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: classification
          kind: decision_table
          inputs: [dpd, grade]
          outputs: {category: {type: enum, values: [normal, special, substandard]}}
          rules:
            - {id: r1, when: {dpd: "[0..91)"}, then: {category: normal}}
            - {id: r2, when: {dpd: "[91..120)", grade: '"A", "C"'}, then: {category: special}}
            - {id: r3, when: {dpd: ">= 120"}, then: {category: substandard}}
        """,
    )
    gap = only(check(text), "gap")
    assert gap.severity == "error"
    assert (gap.block, gap.rule) == ("classification", None)
    assert gap.location is not None and gap.location.line == block_line(text, "classification")
    assert gap.message == 'no rule matches dpd in [91..120), grade = "BB"'


def test_overlap_in_unique_table_names_both_rows_and_the_region() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: classification
          kind: decision_table
          inputs: [dpd]
          outputs: {category: {type: enum, values: [normal, special]}}
          rules:
            - {id: r1, when: {dpd: "<= 90"}, then: {category: normal}}
            - {id: r2, when: {dpd: ">= 60"}, then: {category: special}}
        """,
    )
    findings = check(text)
    overlap = only(findings, "overlap")
    assert overlap.severity == "error"
    assert (overlap.block, overlap.rule) == ("classification", "r2")
    assert overlap.location is not None and overlap.location.line == line_of(text, "id: r2")
    assert overlap.message == "rules r1 and r2 both match dpd in [60..91)"
    assert "gap" not in codes(findings)


def test_decimal_regions_keep_open_and_closed_bounds() -> None:
    text = document(
        "ltv: {type: decimal, min: 0, max: 2}",
        """
        - id: haircut
          kind: decision_table
          inputs: [ltv]
          outputs: {haircut: {type: decimal}}
          rules:
            - {id: low, when: {ltv: "< 0.6"}, then: {haircut: 0.1}}
            - {id: mid, when: {ltv: "(0.6..0.8]"}, then: {haircut: 0.2}}
            - {id: high, when: {ltv: "[0.8..)"}, then: {haircut: 0.3}}
        """,
    )
    findings = check(text)
    assert [f.message for f in findings if f.code == "gap"] == ["no rule matches ltv = 0.6"]
    assert [f.message for f in findings if f.code == "overlap"] == [
        "rules mid and high both match ltv = 0.8"
    ]


def test_nullable_input_without_a_missing_row_is_a_gap() -> None:
    text = document(
        "bureau_score: {type: int, min: 300, max: 900, nullable: true}",
        """
        - id: bureau
          kind: decision_table
          inputs: [bureau_score]
          outputs: {band: {type: enum, values: [low, high]}}
          rules:
            - {id: low, when: {bureau_score: "< 600"}, then: {band: low}}
            - {id: high, when: {bureau_score: ">= 600"}, then: {band: high}}
        """,
    )
    assert only(check(text), "gap").message == "no rule matches bureau_score missing"


def test_declared_max_closes_the_top_region() -> None:
    text = document(
        "months: {type: int, min: 0, max: 360}",
        """
        - id: tenor
          kind: decision_table
          inputs: [months]
          outputs: {bucket: {type: int}}
          rules:
            - {id: short, when: {months: "< 12"}, then: {bucket: 1}}
            - {id: medium, when: {months: "[12..120)"}, then: {bucket: 2}}
        """,
    )
    assert only(check(text), "gap").message == "no rule matches months in [120..360]"


@pytest.mark.parametrize(
    ("declaration", "cells", "region"),
    [
        (
            "{type: date}",
            ['"< 2020-01-01"', '"[2021-01-01..)"'],
            "opened in [2020-01-01..2021-01-01)",
        ),
        ("{type: date}", ['"<= 2020-01-01"', '"> 2020-01-02"'], "opened = 2020-01-02"),
        ("{type: bool}", ["true"], "opened = false"),
        ("{type: bool, nullable: true}", ["true", "false"], "opened missing"),
        ("{type: string}", ['"retail"', '"sme"'], 'opened not in {"retail", "sme"}'),
        ("{type: string}", ['\'"retail", "sme"\'', "not(sme)"], "any input"),
        ("{type: decimal}", ['"< -1.5"', '"> -1.5"'], "opened = -1.5"),
        ("{type: money, min: 0}", ['"(0..)"'], "opened = 0"),
        ("{type: int, max: 10}", ['"[0..10]"'], "opened < 0"),
    ],
)
def test_regions_read_in_the_input_type(declaration: str, cells: list[str], region: str) -> None:
    rules = "\n".join(
        f"    - {{id: r{i}, when: {{opened: {cell}}}, then: {{x: {i}}}}}"
        for i, cell in enumerate(cells)
    )
    text = document(
        f"opened: {declaration}",
        "- id: t\n  kind: decision_table\n  hit_policy: FIRST\n  inputs: [opened]\n"
        "  outputs: {x: {type: int}}\n  rules:\n" + rules,
    )
    gaps = [f.message for f in check(text) if f.code == "gap"]
    expected = [] if region == "any input" else [f"no rule matches {region}"]
    assert gaps == expected


# FIRST tables, duplicates ------------------------------------------------------------------------
def test_shadowed_row_under_first() -> None:
    text = document(
        """
        secured: {type: bool}
        segment: {type: enum, values: [retail, sme, corporate]}
        """,
        """
        - id: collateral
          kind: decision_table
          hit_policy: FIRST
          inputs: [secured, segment]
          outputs: {haircut: {type: decimal}}
          rules:
            - {id: secured-any, when: {secured: true}, then: {haircut: 0.1}}
            - {id: secured-sme, when: {secured: true, segment: sme}, then: {haircut: 0.2}}
            - {id: unsecured, when: {secured: false}, then: {haircut: 1}}
        """,
    )
    findings = check(text)
    shadowed = only(findings, "shadowed-row")
    assert shadowed.severity == "warning"
    assert (shadowed.block, shadowed.rule) == ("collateral", "secured-sme")
    assert shadowed.location is not None
    assert shadowed.location.line == line_of(text, "id: secured-sme")
    assert "secured-any" in shadowed.message
    assert codes(findings) == {"shadowed-row"}  # FIRST overlaps are not errors


def test_a_priority_row_that_never_decides() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: floors
          kind: decision_table
          hit_policy: PRIORITY
          inputs: [dpd]
          outputs: {category: {type: enum, values: [loss, substandard, normal]}}
          rules:
            - {id: base, when: {}, then: {category: normal}}
            - {id: over-90, when: {dpd: "> 90"}, then: {category: substandard}}
            - {id: over-180, when: {dpd: "> 180"}, then: {category: loss}}
            - {id: over-360, when: {dpd: "> 360"}, then: {category: substandard}}
        """,
    )
    finding = only(check(text), "shadowed-row")
    assert (finding.severity, finding.block, finding.rule) == ("warning", "floors", "over-360")
    assert finding.location is not None and finding.location.line == line_of(text, "over-360")


def test_gap_under_first_is_reported_too() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: stage
          kind: decision_table
          hit_policy: FIRST
          inputs: [dpd, grade]
          outputs: {stage: {type: int}}
          rules:
            - {id: s3, when: {dpd: "> 90"}, then: {stage: 3}}
            - {id: s2, when: {dpd: "> 30"}, then: {stage: 2}}
            - {id: s1, when: {grade: '"A", "BB"'}, then: {stage: 1}}
        """,
    )
    assert only(check(text), "gap").message == 'no rule matches dpd in [0..31), grade = "C"'


def test_conflicting_duplicate_compares_what_rows_match_not_how_they_are_written() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: pricing
          kind: decision_table
          hit_policy: FIRST
          inputs: [dpd]
          outputs: {margin: {type: decimal}}
          rules:
            - {id: current, when: {dpd: "< 30"}, then: {margin: 0.02}}
            - {id: late, when: {dpd: ">= 30"}, then: {margin: 0.05}}
            - {id: late-again, when: {dpd: "[30..)"}, then: {margin: 0.07}}
        """,
    )
    findings = check(text)
    dup = only(findings, "conflicting-duplicate")
    assert dup.severity == "error"
    assert (dup.block, dup.rule) == ("pricing", "late-again")
    assert dup.location is not None and dup.location.line == line_of(text, "id: late-again")
    assert "same conditions as rule late" in dup.message
    assert "shadowed-row" not in codes(findings)  # said once, as the duplicate


def test_duplicate_row_with_same_outputs_is_a_warning() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: pricing
          kind: decision_table
          inputs: [grade]
          outputs: {margin: {type: decimal}}
          rules:
            - {id: a, when: {grade: A}, then: {margin: 0.02}}
            - {id: rest, when: {grade: '"BB", "C"'}, then: {margin: 0.05}}
            - {id: rest-copy, when: {grade: '"C", "BB"'}, then: {margin: 0.05}}
        """,
    )
    findings = check(text)
    dup = only(findings, "duplicate-row")
    assert (dup.severity, dup.block, dup.rule) == ("warning", "pricing", "rest-copy")
    assert dup.location is not None and dup.location.line == line_of(text, "id: rest-copy")
    assert "overlap" not in codes(findings)  # the duplicate is the overlap, said once


def test_a_row_whose_cell_holds_for_no_allowed_value_is_reported() -> None:
    text = document(
        "dpd: {type: int, min: 0}",
        """
        - id: stage
          kind: decision_table
          inputs: [dpd]
          outputs: {stage: {type: int}}
          rules:
            - {id: unknown, when: {dpd: missing}, then: {stage: 0}}
            - {id: negative, when: {dpd: "< 0"}, then: {stage: 0}}
            - {id: current, when: {dpd: "< 31"}, then: {stage: 1}}
            - {id: late, when: {dpd: ">= 31"}, then: {stage: 2}}
        """,
    )
    findings = check(text)
    assert [(f.code, f.severity, f.rule) for f in findings] == [
        ("shadowed-row", "warning", "unknown"),
        ("shadowed-row", "warning", "negative"),
    ]
    assert findings[0].message == (
        "rule unknown can never match: dpd missing holds for no allowed value "
        "(the input is not nullable)"
    )
    assert findings[1].location is not None
    assert findings[1].location.line == line_of(text, "id: negative")


def test_defaults_are_judged_as_the_evaluator_coerces_them() -> None:
    text = document(
        """
        dpd: {type: int, min: 0, default: "5"}
        late: {type: bool, default: "false"}
        limit: {type: money, min: 0, default: -1}
        """,
        """
        - id: t
          kind: decision_table
          hit_policy: COLLECT
          inputs: [dpd, late, limit]
          outputs: {n: {type: int}}
          rules:
            - {id: r, when: {dpd: "> 5", late: true, limit: "> 0"}, then: {n: 1}}
        """,
    )
    finding = only(check(text), "bad-domain")
    assert finding.location is not None and finding.location.line == line_of(text, "limit: {type")
    assert finding.message == "input limit: default -1 is refused: -1 is below the minimum 0"


# triggers ---------------------------------------------------------------------------------------
TRIGGER_INPUTS = """
dpd: {type: int, min: 0}
rating: {type: enum, values: [AAA, AA, A, BBB]}
watchlist: {type: bool}
sector: {type: enum, values: [retail, sme], nullable: true}
reviewed: {type: bool, nullable: true}
"""


@pytest.mark.parametrize(
    "condition",
    [
        "dpd > 10 and dpd < 5",
        "dpd > 10 and dpd < 11",  # no whole number of days in between
        "dpd < 0",  # below the declared minimum
        "rating == 'D'",  # not a declared value
        "rating == 'AAA' and rating in ('A', 'BBB')",
        "watchlist and not watchlist",
        "reviewed and not reviewed",
        "False",
        "1 > 2 and dpd > 0",
        "(dpd > 90 or dpd < 0) and dpd < 30",
        "not (dpd >= 0)",
        "dpd >= 5 and dpd <= 6 and dpd != 5 and dpd != 6",
    ],
)
def test_trigger_that_can_never_fire(condition: str) -> None:
    text = document(
        TRIGGER_INPUTS,
        f"""
        - id: early-warning
          kind: trigger_set
          inputs: [dpd, rating, watchlist, sector, reviewed]
          triggers:
            - {{id: ok, severity: yellow, reason: R1, when: "dpd > 30 or watchlist or rating == 'BBB'"}}
            - {{id: dead, severity: red, reason: R2, when: "{condition}"}}
        """,
    )
    finding = only(check(text), "trigger-never-fires")
    assert (finding.severity, finding.block, finding.rule) == ("warning", "early-warning", "dead")
    assert finding.location is not None and finding.location.line == line_of(text, "id: dead")


@pytest.mark.parametrize(
    "condition",
    [
        "dpd >= 10 and dpd < 11",
        "dpd > 10 or dpd < 5",
        "rating in ('AAA', 'BBB') and rating != 'AAA'",
        "dpd > 90 if watchlist else dpd > 30",
        "0 < dpd < 5",
        "sector == None",  # a nullable input may be missing
        "not reviewed and reviewed == None",  # a missing flag reads as false
    ],
)
def test_trigger_that_can_fire_is_not_reported(condition: str) -> None:
    text = document(
        TRIGGER_INPUTS,
        f"""
        - id: early-warning
          kind: trigger_set
          inputs: [dpd, rating, watchlist, sector, reviewed]
          triggers:
            - {{id: t, severity: red, reason: R1, when: "{condition} or (watchlist and rating == 'A')"}}
            - {{id: u, severity: red, reason: R2, when: "{condition}"}}
        """,
    )
    assert [f for f in check(text) if f.severity != "info"] == []


# master scales ------------------------------------------------------------------------------------
SCALE_INPUTS = "pd: {type: decimal, min: 0, max: 1}"


def scale(
    bands: list[tuple[str, str, str]], default: str = "- {grade: D, default: true, at: 1}"
) -> str:
    lines = [f"- {{grade: {g}, from: {lo}, to: {hi}}}" for g, lo, hi in bands]
    body = textwrap.indent("\n".join([*lines, default]), " " * 6)
    return document(
        SCALE_INPUTS,
        "- id: master-scale\n  kind: master_scale\n  input: pd\n  output: grade\n  grades:\n"
        + body,
    )


GOOD_BANDS = [
    ("AAA", "0", "0.0005"),
    ("AA", "0.0005", "0.001"),
    ("A", "0.001", "0.0025"),
    ("BBB", "0.0025", "0.01"),
    ("BB", "0.01", "0.04"),
    ("B", "0.04", "0.12"),
    ("CCC", "0.12", "1"),
]


def test_a_seven_plus_one_contiguous_scale_is_clean() -> None:
    assert check(scale(GOOD_BANDS)) == []


def test_scale_with_too_few_grades() -> None:
    text = scale([*GOOD_BANDS[:5], ("CCC", "0.04", "1")])
    finding = only(check(text), "scale-too-few-grades")
    assert (finding.severity, finding.block, finding.rule) == ("error", "master-scale", None)
    assert finding.location is not None
    assert finding.location.line == block_line(text, "master-scale")
    assert "6 non-default and 1 default" in finding.message


def test_scale_not_contiguous_names_the_break() -> None:
    bands = list(GOOD_BANDS)
    bands[4] = ("BB", "0.012", "0.04")
    text = scale(bands)
    findings = check(text)
    finding = only(findings, "scale-not-contiguous")
    assert (finding.severity, finding.block, finding.rule) == ("error", "master-scale", "BB")
    assert finding.location is not None
    assert finding.location.line == line_of(text, "grade: BB,")
    assert finding.message == (
        "band BBB ends at 0.01 but band BB starts at 0.012: pd in [0.01..0.012) has no grade"
    )
    assert "gap" not in codes(findings)  # the break is said once


def test_scale_not_monotone() -> None:
    bands = list(GOOD_BANDS)
    bands[2], bands[3] = bands[3], bands[2]
    text = scale(bands)
    findings = check(text)
    finding = next(f for f in findings if f.code == "scale-not-monotone")
    assert (finding.severity, finding.block, finding.rule) == ("error", "master-scale", "A")
    assert finding.location is not None and finding.location.line == line_of(text, "grade: A,")


def test_scale_gap_at_the_edge_and_default_overlap() -> None:
    bands = list(GOOD_BANDS)
    bands[0] = ("AAA", "0.0001", "0.0005")
    text = scale(bands)
    assert only(check(text), "gap").message == "no grade for pd in [0..0.0001)"
    text = scale(GOOD_BANDS, default="- {grade: D, default: true, at: 0.5}")
    assert "scale-not-monotone" in codes(check(text))


def test_scale_with_a_grade_named_twice() -> None:
    bands = list(GOOD_BANDS)
    bands[5] = ("BB", "0.04", "0.12")
    text = scale(bands)
    finding = only(check(text), "duplicate-grade")
    assert (finding.severity, finding.rule) == ("error", "BB")
    assert finding.location is not None and finding.location.line == line_of(text, "0.04, to: 0.12")


# threshold ladders ------------------------------------------------------------------------------
def ladder(steps: str, inputs: str = "dpd: {type: int, min: 0}", domain: str = "") -> str:
    return document(
        inputs,
        "- id: dpd-ladder\n  kind: threshold_ladder\n  input: dpd\n  output: category\n"
        + (f"  domain: {domain}\n" if domain else "")
        + "  steps:\n"
        + textwrap.indent(textwrap.dedent(steps).strip("\n"), "    "),
    )


def test_clean_ladder() -> None:
    text = ladder(
        """
        - {from: 0, value: normal}
        - {from: 31, value: special-mention}
        - {from: 91, value: substandard}
        """
    )
    assert check(text) == []


def test_ladder_gap_below_the_first_step() -> None:
    text = ladder(
        """
        - {from: 1, value: normal}
        - {from: 91, value: substandard}
        """
    )
    gap = only(check(text), "gap")
    assert (gap.severity, gap.block, gap.rule) == ("error", "dpd-ladder", None)
    assert gap.location is not None and gap.location.line == block_line(text, "dpd-ladder")
    assert gap.message == "no step matches dpd = 0"
    unbounded = ladder("- {from: 0, value: normal}", inputs="dpd: {type: int}")
    assert only(check(unbounded), "gap").message == "no step matches dpd < 0"


def test_nullable_ladder_input_is_a_gap() -> None:
    text = ladder("- {from: 0, value: normal}", inputs="dpd: {type: int, min: 0, nullable: true}")
    assert only(check(text), "gap").message == "no step matches dpd missing"


def test_ladder_not_ordered_and_same_start() -> None:
    text = ladder(
        """
        - {from: 0, value: normal}
        - {from: 91, value: substandard}
        - {from: 31, value: special-mention}
        """
    )
    finding = only(check(text), "ladder-not-ordered")
    assert (finding.severity, finding.block, finding.rule) == ("error", "dpd-ladder", "from 31")
    assert finding.location is not None and finding.location.line == line_of(text, "from: 31")
    text = ladder(
        """
        - {from: 0, value: normal}
        - {from: 31, value: watch}
        - {from: 31, value: special-mention}
        """
    )
    overlap = only(check(text), "overlap")
    assert (overlap.severity, overlap.rule) == ("error", "from 31")
    assert overlap.location is not None
    assert overlap.location.line == line_of(text, "special-mention")


def test_ladder_step_beyond_the_domain_is_unreachable() -> None:
    text = ladder(
        """
        - {from: 0, value: normal}
        - {from: 91, value: substandard}
        - {from: 400, value: loss}
        """,
        domain="{min: 0, max: 365}",
    )
    finding = only(check(text), "unreachable-step")
    assert (finding.severity, finding.rule) == ("warning", "from 400")
    assert finding.location is not None and finding.location.line == line_of(text, "from: 400")


def test_enum_ladder_gap_lists_the_values_below_the_first_step() -> None:
    text = document(
        "rating: {type: enum, values: [AAA, AA, A, BBB, BB]}",
        """
        - id: review
          kind: threshold_ladder
          input: rating
          output: months
          steps:
            - {from: A, value: 12}
            - {from: BB, value: 6}
        """,
    )
    assert only(check(text), "gap").message == 'no step matches rating in {"AAA", "AA"}'


# matrices ---------------------------------------------------------------------------------------
AUTHORITY_INPUTS = """
amount: {type: money, min: 0}
grade: {type: enum, values: [A, B, C]}
"""


def test_matrix_gap_overlap_and_empty_cell() -> None:
    text = document(
        AUTHORITY_INPUTS,
        """
        - id: authority
          kind: matrix
          rows: {input: amount, cells: ["< 1000000", "[1000000..5000000)", "[4000000..10000000)"]}
          columns: {input: grade, cells: ['"A"', '"B"']}
          output: level
          values:
            - [branch, branch]
            - [region, ""]
            - [board, board]
        """,
    )
    findings = check(text)
    gaps = [f for f in findings if f.code == "gap"]
    assert sorted(f.message for f in gaps) == [
        'no column matches grade = "C"',
        "no row matches amount >= 10000000",
    ]
    assert all(f.location is not None for f in gaps)
    assert {f.location.line for f in gaps if f.location} == {block_line(text, "authority")}
    overlap = only(findings, "overlap")
    assert (overlap.severity, overlap.block, overlap.rule) == ("error", "authority", "r3")
    assert overlap.message == (
        "rows r2 and r3 ([1000000..5000000), [4000000..10000000)) all match "
        "amount in [4000000..5000000)"
    )
    rows_line = line_of(text, "rows: {input: amount")
    assert overlap.location is not None and overlap.location.line == rows_line
    assert overlap.location.column == text.splitlines()[rows_line - 1].index('"[4000000') + 1
    empty = only(findings, "empty-cell")
    assert (empty.severity, empty.rule) == ("error", "r2c2")
    empty_line = line_of(text, "[region, ")
    assert empty.location is not None and empty.location.line == empty_line
    assert empty.location.column == text.splitlines()[empty_line - 1].index('""') + 1


# scorecards -------------------------------------------------------------------------------------
def test_scorecard_bins_gap_shadowed_and_partial_overlap() -> None:
    text = document(
        """
        age: {type: int, min: 18, max: 100}
        income: {type: decimal, min: 0, nullable: true}
        """,
        """
        - id: application-score
          kind: scorecard
          inputs: [age, income]
          base_points: 600
          characteristics:
            - input: age
              bins:
                - {when: "< 25", points: -10}
                - {when: "[25..40)", points: 5}
                - {when: "[30..35)", points: 7}
                - {when: "[38..60)", points: 10}
            - input: income
              bins:
                - {when: "< 5000", points: -5}
                - {when: ">= 5000", points: 15}
        """,
    )
    findings = check(text)
    gaps = sorted(f.message for f in findings if f.code == "gap")
    assert gaps == [
        "no bin of age matches age in [60..100]",
        "no bin of income matches income missing",
    ]
    shadowed = only(findings, "shadowed-row")
    assert (shadowed.severity, shadowed.rule) == ("warning", "age bin 3")
    assert shadowed.location is not None and shadowed.location.line == line_of(text, "[30..35)")
    partial = only(findings, "bin-overlap")
    assert (partial.severity, partial.rule) == ("warning", "age bin 4")
    assert partial.message.endswith("at age in [38..40)")


# formulas ---------------------------------------------------------------------------------------
LIMIT_INPUTS = """
revenue: {type: money, min: 0}
debt_service: {type: money, min: 0}
ebitda: {type: money}
tenor: {type: int, min: 1}
"""


def formula(output: str, inputs: str = "[revenue, debt_service, ebitda, tenor]") -> str:
    return document(
        LIMIT_INPUTS,
        f"""
        - id: limit
          kind: formula
          inputs: {inputs}
          outputs:
            limit: "min(revenue * 0.2, ebitda * 3) + tenor * 0"
            ratio: "{output}"
        """,
    )


def test_division_by_an_input_that_may_be_zero() -> None:
    text = formula("ebitda / debt_service")
    finding = only(check(text), "division-by-zero")
    assert (finding.severity, finding.block, finding.rule) == ("error", "limit", "ratio")
    assert finding.location is not None and finding.location.line == line_of(text, "ratio:")
    assert "debt_service" in finding.message


@pytest.mark.parametrize(
    "expression",
    [
        "ebitda / debt_service if debt_service > 0 else 0",
        "0 if debt_service == 0 else ebitda / debt_service",
        "debt_service != 0 and ebitda / debt_service > 1.25",
        "debt_service == 0 or ebitda / debt_service > 1.25",
        "revenue / tenor",  # min 1: never 0
        "ebitda / max(debt_service, 1)",
    ],
)
def test_guarded_or_nonzero_division_is_not_reported(expression: str) -> None:
    assert [f for f in check(formula(expression)) if f.severity != "info"] == []


def test_formula_output_type_mismatch() -> None:
    text = document(
        LIMIT_INPUTS,
        """
        - id: limit
          kind: formula
          inputs: [revenue]
          outputs:
            approved: "revenue * 0.2"
          output_types: {approved: bool}
        """,
    )
    finding = only(check(text), "type-error")
    assert (finding.severity, finding.block, finding.rule) == ("error", "limit", "approved")
    assert finding.location is not None
    assert finding.location.line == line_of(text, 'approved: "revenue')


def test_lookup_argument_of_the_wrong_type() -> None:
    text = document(
        """
        pd: {type: decimal, min: 0, max: 1}
        rating: {type: enum, values: [A, B]}
        """,
        """
        - id: grade-of
          kind: decision_table
          inputs: [rating]
          outputs: {weight: {type: decimal}}
          rules:
            - {id: a, when: {rating: A}, then: {weight: 1}}
            - {id: b, when: {rating: B}, then: {weight: 2}}
        - id: use
          kind: formula
          inputs: [pd]
          outputs:
            w: "lookup('grade-of', 'weight', rating=pd)"
        """,
    )
    finding = only(check(text), "type-error")
    assert (finding.block, finding.rule) == ("use", "w")
    assert "passes a num as rating" in finding.message


def test_formula_comparing_an_enum_with_an_undeclared_value() -> None:
    text = document(
        """
        rating: {type: enum, values: [A, B]}
        amount: {type: money, min: 0}
        """,
        """
        - id: cap
          kind: formula
          inputs: [rating, amount]
          outputs:
            cap: "amount * 0.5 if rating in ('A', 'AA') else amount * 0.2"
        """,
    )
    finding = only(check(text), "unknown-value")
    assert (finding.severity, finding.block, finding.rule) == ("error", "cap", "cap")
    assert finding.location is not None and finding.location.line == line_of(text, "cap: ")
    assert "'AA'" in finding.message


# types, values, domains, inputs -----------------------------------------------------------------
def test_output_value_of_the_wrong_type_and_undeclared_enum_values() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: classification
          kind: decision_table
          inputs: [grade]
          outputs:
            category: {type: enum, values: [normal, watch]}
            months: {type: int}
          rules:
            - {id: a, when: {grade: A}, then: {category: normal, months: twelve}}
            - {id: bb, when: {grade: BB}, then: {category: doubtful, months: 6}}
            - {id: c, when: {grade: '"C", "D"'}, then: {category: watch, months: 3}}
        """,
    )
    findings = check(text)
    type_error = only(findings, "type-error")
    assert (type_error.severity, type_error.rule) == ("error", "a")
    assert type_error.location is not None and type_error.location.line == line_of(text, "id: a,")
    unknown = sorted((f.rule or "", f.message) for f in findings if f.code == "unknown-value")
    assert [rule for rule, _m in unknown] == ["bb", "c"]
    assert "'doubtful'" in unknown[0][1] and "'D'" in unknown[1][1]
    assert all(f.severity == "error" for f in findings if f.code == "unknown-value")


def test_collect_sum_of_text_outputs_is_a_type_error() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: reasons
          kind: decision_table
          hit_policy: COLLECT
          aggregate: SUM
          inputs: [dpd]
          outputs: {reason: {type: string}}
          rules:
            - {id: late, when: {dpd: "> 30"}, then: {reason: late}}
        """,
    )
    finding = only(check(text), "type-error")
    assert (finding.block, finding.rule) == ("reasons", None)
    assert finding.location is not None and finding.location.line == line_of(text, "outputs:")


def test_master_scale_over_text_is_a_type_error() -> None:
    text = document(
        "rating: {type: enum, values: [A, B]}",
        """
        - id: scale
          kind: master_scale
          input: rating
          output: grade
          grades:
            - {grade: A, from: 0, to: 1}
        """,
    )
    finding = only(check(text), "type-error")
    assert (finding.severity, finding.block) == ("error", "scale")


def test_bad_domain_and_bad_default() -> None:
    text = document(
        """
        dpd: {type: int, min: 10, max: 0}
        rating: {type: enum, values: [A, B], default: C}
        """,
        """
        - id: t
          kind: decision_table
          hit_policy: COLLECT
          inputs: [dpd, rating]
          outputs: {n: {type: int}}
          rules:
            - {id: r, when: {dpd: "> 5", rating: A}, then: {n: 1}}
        """,
    )
    findings = check(text)
    bad = only(findings, "bad-domain")
    assert (bad.severity, bad.block, bad.rule) == ("error", None, None)
    assert bad.location is not None and bad.location.line == line_of(text, "dpd: {type: int")
    default = only(findings, "unknown-value")
    assert default.location is not None
    assert default.location.line == line_of(text, "rating: {type: enum")


def test_unused_input() -> None:
    text = document(
        """
        dpd: {type: int, min: 0}
        sector: {type: string}
        """,
        """
        - id: stage
          kind: threshold_ladder
          input: dpd
          output: stage
          steps:
            - {from: 0, value: 1}
        """,
    )
    finding = only(check(text), "unused-input")
    assert (finding.severity, finding.block, finding.rule) == ("warning", None, None)
    assert finding.location is not None and finding.location.line == line_of(text, "sector:")
    assert "'sector'" in finding.message


def test_unconstrained_input_is_advice() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: t
          kind: decision_table
          inputs: [dpd, grade]
          outputs: {x: {type: int}}
          rules:
            - {id: r1, when: {dpd: "< 30"}, then: {x: 1}}
            - {id: r2, when: {dpd: ">= 30"}, then: {x: 2}}
        """,
    )
    finding = only(check(text), "unconstrained-input")
    assert (finding.severity, finding.block, finding.rule) == ("info", "t", None)
    assert "grade" in finding.message


def test_unknown_input_in_a_hand_built_document() -> None:
    text = document(
        CLASSIFICATION_INPUTS,
        """
        - id: t
          kind: decision_table
          inputs: [dpd, grade]
          outputs: {x: {type: int}}
          rules:
            - {id: r1, when: {dpd: "< 30", grade: A}, then: {x: 1}}
        """,
    )
    doc = read_document(text)
    # the loader refuses undeclared inputs; a document assembled in code can still name one
    broken = attrs.evolve(doc, inputs={"dpd": doc.inputs["dpd"]})
    findings = check_document(broken)
    finding = only(findings, "unknown-input")
    assert (finding.severity, finding.block) == ("error", "t")
    assert "'grade'" in finding.message


def test_walk_budget_gives_check_incomplete(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "\n".join(
        f'    - {{id: r{i}, when: {{dpd: "[{i}..{i + 1})"}}, then: {{x: {i}}}}}' for i in range(50)
    )
    text = document(
        "dpd: {type: int, min: 0, max: 49}",
        "- id: t\n  kind: decision_table\n  inputs: [dpd]\n  outputs: {x: {type: int}}\n"
        "  rules:\n" + rows,
    )
    assert check(text) == []
    monkeypatch.setattr(checks_module, "WALK_BUDGET", 10)
    finding = only(check(text), "check-incomplete")
    assert (finding.severity, finding.block) == ("info", "t")


# the document as a whole ------------------------------------------------------------------------
CLEAN = document(
    """
    dpd: {type: int, min: 0}
    grade: {type: enum, values: [A, BB, C]}
    pd: {type: decimal, min: 0, max: 1}
    amount: {type: money, min: 0}
    debt_service: {type: money, min: 0}
    ebitda: {type: money}
    income: {type: decimal, min: 0, nullable: true}
    opened: {type: date}
    """,
    """
    - id: classification
      kind: decision_table
      inputs: [dpd, grade]
      outputs: {category: {type: enum, values: [normal, special, substandard]}}
      rules:
        - {id: r1, when: {dpd: "[0..91)"}, then: {category: normal}}
        - {id: r2, when: {dpd: "[91..120)", grade: '"A", "C"'}, then: {category: special}}
        - {id: r3, when: {dpd: "[91..120)", grade: BB}, then: {category: substandard}}
        - {id: r4, when: {dpd: ">= 120"}, then: {category: substandard}}
    - id: vintage
      kind: decision_table
      hit_policy: FIRST
      inputs: [opened]
      outputs: {cohort: {type: string}}
      rules:
        - {id: old, when: {opened: "< 2020-01-01"}, then: {cohort: old}}
        - {id: new, when: {opened: "-"}, then: {cohort: new}}
    - id: score
      kind: scorecard
      inputs: [income]
      base_points: 600
      characteristics:
        - input: income
          bins:
            - {when: missing, points: -20}
            - {when: "< 5000", points: -5}
            - {when: ">= 5000", points: 15}
    - id: grade-scale
      kind: master_scale
      input: pd
      output: grade
      grades:
        - {grade: "1", from: 0, to: 0.0005}
        - {grade: "2", from: 0.0005, to: 0.001}
        - {grade: "3", from: 0.001, to: 0.0025}
        - {grade: "4", from: 0.0025, to: 0.01}
        - {grade: "5", from: 0.01, to: 0.04}
        - {grade: "6", from: 0.04, to: 0.12}
        - {grade: "7", from: 0.12, to: 1}
        - {grade: "D", default: true, at: 1}
    - id: stage
      kind: threshold_ladder
      input: dpd
      output: stage
      steps:
        - {from: 0, value: 1}
        - {from: 31, value: 2}
        - {from: 91, value: 3}
    - id: authority
      kind: matrix
      rows: {input: amount, cells: ["< 1000000", ">= 1000000"]}
      columns: {input: grade, cells: ['"A", "BB"', '"C"']}
      output: level
      values:
        - [branch, region]
        - [region, board]
    - id: limit
      kind: formula
      inputs: [ebitda, debt_service]
      outputs:
        dscr: "ebitda / debt_service if debt_service > 0 else 0"
    - id: warnings
      kind: trigger_set
      inputs: [dpd, grade]
      triggers:
        - {id: late, severity: red, reason: DPD90, when: "dpd > 90 and grade != 'A'"}
    """,
    status="approved",
)


def test_a_clean_document_has_no_findings_and_loads_approved() -> None:
    assert check(CLEAN) == []
    assert load_ruleset(CLEAN).status == "approved"


def test_an_approved_document_with_an_error_finding_does_not_load() -> None:
    broken = CLEAN.replace('{dpd: "[91..120)", grade: BB}', '{dpd: "[91..100)", grade: BB}')
    with pytest.raises(PolicyCheckError) as raised:
        load_ruleset(broken)
    [finding] = raised.value.findings
    assert (finding.code, finding.block) == ("gap", "classification")
    assert finding.message == 'no rule matches dpd in [100..120), grade = "BB"'
    assert 'gap: [classification] no rule matches dpd in [100..120), grade = "BB"' in str(
        raised.value
    )
    # a draft with the same text loads; its findings are listed by check()
    draft = load_ruleset(broken.replace("status: approved", "status: draft"))
    assert [f.code for f in draft.check()] == ["gap"]


def test_warnings_do_not_block_approval() -> None:
    with_unused = CLEAN.replace("inputs:\n", "inputs:\n  spare: {type: int}\n", 1)
    ruleset = load_ruleset(with_unused)
    assert [f.code for f in ruleset.check()] == ["unused-input"]


def test_findings_are_in_document_order() -> None:
    text = document(
        CLASSIFICATION_INPUTS + "spare: {type: bool}\n",
        """
        - id: t
          kind: decision_table
          hit_policy: FIRST
          inputs: [dpd]
          outputs: {x: {type: int}}
          rules:
            - {id: r1, when: {dpd: "-"}, then: {x: 1}}
            - {id: r2, when: {dpd: "< 5"}, then: {x: 2}}
        - id: u
          kind: decision_table
          inputs: [grade]
          outputs: {x: {type: int}}
          rules:
            - {id: a, when: {grade: A}, then: {x: 1}}
        """,
    )
    lines = [f.location.line for f in check(text) if f.location is not None]
    assert lines == sorted(lines) and len(lines) == 3


def test_every_code_is_documented_with_a_severity() -> None:
    assert set(FINDING_CODES) == set(FINDING_SEVERITIES)
    assert set(FINDING_SEVERITIES.values()) <= {"error", "warning", "info"}
    assert all(code == code.lower() and " " not in code for code in FINDING_CODES)
    source = checks_module.__file__
    assert source is not None
    with open(source, encoding="utf-8") as f:
        text = f.read()
    body = text.split("\ndef _finding(", 1)[1]  # the checks, after the code tables
    used = {code for code in FINDING_CODES if f'"{code}"' in body}
    assert used == set(FINDING_CODES)


# properties -------------------------------------------------------------------------------------
def partition_table(bounds: list[int], top: int, *, drop: int | None = None) -> str:
    edges = [0, *bounds, top]
    rows = [
        f'    - {{id: s{i}, when: {{x: "[{lo}..{hi})"}}, then: {{y: {i}}}}}'
        for i, (lo, hi) in enumerate(itertools.pairwise(edges))
        if i != drop
    ]
    return document(
        f"x: {{type: int, min: 0, max: {top - 1}}}",
        "- id: steps\n  kind: decision_table\n  inputs: [x]\n  outputs: {y: {type: int}}\n"
        "  rules:\n" + "\n".join(rows),
    )


@given(
    st.lists(st.integers(min_value=1, max_value=999), unique=True, max_size=30).map(sorted),
    st.data(),
)
def test_a_partition_has_no_gap_and_removing_a_step_leaves_exactly_that_gap(
    bounds: list[int], data: st.DataObject
) -> None:
    assert check(partition_table(bounds, 1000)) == []
    edges = [0, *bounds, 1000]
    if len(edges) == 2:
        return  # one step: removing it leaves no table (the schema refuses an empty list)
    drop = data.draw(st.integers(min_value=0, max_value=len(edges) - 2))
    lo, hi = edges[drop], edges[drop + 1]
    findings = check(partition_table(bounds, 1000, drop=drop))
    expected = (
        f"x = {lo}"
        if hi == lo + 1
        else (f"x in [{lo}..999]" if hi == 1000 else f"x in [{lo}..{hi})")
    )
    assert [(f.code, f.message) for f in findings] == [("gap", f"no rule matches {expected}")]


@given(
    st.lists(st.integers(min_value=1, max_value=999), unique=True, min_size=2, max_size=20).map(
        sorted
    ),
    st.data(),
)
def test_stretching_a_step_over_its_neighbour_gives_exactly_that_overlap(
    bounds: list[int], data: st.DataObject
) -> None:
    edges = [0, *bounds, 1000]
    i = data.draw(st.integers(min_value=0, max_value=len(edges) - 3))
    stretch = data.draw(st.integers(min_value=edges[i + 1] + 1, max_value=edges[i + 2]))
    text = partition_table(bounds, 1000).replace(
        f'[{edges[i]}..{edges[i + 1]})"', f'[{edges[i]}..{stretch})"', 1
    )
    findings = check(text)
    lo, hi = edges[i + 1], stretch
    region = (
        f"x = {lo}"
        if hi == lo + 1
        else (f"x in [{lo}..999]" if hi == 1000 else f"x in [{lo}..{hi})")
    )
    assert [(f.code, f.rule, f.message) for f in findings] == [
        ("overlap", f"s{i + 1}", f"rules s{i} and s{i + 1} both match {region}")
    ]


def test_a_3000_row_table_finds_its_one_missing_cell() -> None:
    grades = [f"G{i}" for i in range(10)]
    rows = []
    for g in grades:
        for d in range(15):
            days = f"[{d * 10}..{d * 10 + 10})" if d < 14 else f">= {d * 10}"
            for a in range(20):
                amount = f"[{a * 1000}..{a * 1000 + 1000})" if a < 19 else f">= {a * 1000}"
                if (g, d, a) == ("G4", 1, 13):
                    continue
                rows.append(
                    f"    - {{id: {g}-{d}-{a}, when: {{grade: {g}, dpd: '{days}', "
                    f"amount: '{amount}'}}, then: {{level: {a}}}}}"
                )
    text = document(
        f"""
        dpd: {{type: int, min: 0}}
        grade: {{type: enum, values: [{", ".join(grades)}]}}
        amount: {{type: money, min: 0}}
        """,
        "- id: grid\n  kind: decision_table\n  inputs: [grade, dpd, amount]\n"
        "  outputs: {level: {type: int}}\n  rules:\n" + "\n".join(rows),
    )
    assert len(rows) == 2999
    assert [f.message for f in check(text)] == [
        'no rule matches grade = "G4", dpd in [10..20), amount in [13000..14000)'
    ]


X_CELLS = st.one_of(
    st.sampled_from(["-", "missing"]),
    st.builds(
        lambda op, k: f"{op} {k}", st.sampled_from(["<", "<=", ">", ">=", "="]), st.integers(-1, 13)
    ),
    st.builds(
        lambda a, w, lo, hi: f"{lo}{a}..{a + w}{hi}",
        st.integers(-1, 12),
        st.integers(1, 6),
        st.sampled_from("[("),
        st.sampled_from("])"),
    ),
    st.builds(lambda a, w: f"not([{a}..{a + w}))", st.integers(0, 12), st.integers(1, 4)),
)
G_CELLS = st.sampled_from(["-", "a", '"a", "b"', '"b", "c"', 'not("a")', "c"])


@given(
    st.lists(st.tuples(X_CELLS, G_CELLS, st.integers(0, 2)), min_size=1, max_size=8),
    st.sampled_from(["UNIQUE", "FIRST", "PRIORITY"]),
    st.booleans(),
)
def test_findings_agree_with_trying_every_input(
    rows: list[tuple[str, str, int]], hit_policy: str, nullable: bool
) -> None:
    """Over a small finite domain the geometric walk must say exactly what trying every
    input says: a gap iff some input matches no row, an overlap (UNIQUE) iff some input
    matches two rows, a shadowed row (FIRST, PRIORITY) iff the row decides no input."""
    body = "\n".join(
        f"    - {{id: r{i}, when: {{x: '{x}', g: '{g}'}}, then: {{y: p{rank}}}}}"
        for i, (x, g, rank) in enumerate(rows)
    )
    text = document(
        f"x: {{type: int, min: 0, max: 12, nullable: {str(nullable).lower()}}}\n"
        "g: {type: enum, values: [a, b, c]}",
        f"- id: t\n  kind: decision_table\n  hit_policy: {hit_policy}\n  inputs: [x, g]\n"
        "  outputs: {y: {type: enum, values: [p0, p1, p2]}}\n  rules:\n" + body,
    )
    doc = read_document(text)
    table = doc.blocks["t"]
    assert isinstance(table, DecisionTable)
    found = {f.code for f in check_document(doc)} - {"unconstrained-input"}
    unmatched = overlapping = False
    deciding: set[str] = set()
    rank = {f"r{i}": row[2] for i, row in enumerate(rows)}
    for x in [*map(Decimal, range(13)), *([None] if nullable else [])]:
        for g in "abc":
            hits = [r.id for r in table.rules if r.cell("x").matches(x) and r.cell("g").matches(g)]
            unmatched |= not hits
            overlapping |= len(hits) > 1
            if hits:  # PRIORITY: the best output; min() keeps the first row of a tie
                priority = hit_policy == "PRIORITY"
                deciding.add(min(hits, key=lambda r: rank[r]) if priority else hits[0])
    assert ("gap" in found) == unmatched
    if hit_policy == "UNIQUE":
        duplicates = found & {"duplicate-row", "conflicting-duplicate"}
        assert ("overlap" in found or bool(duplicates)) == overlapping
    else:
        never = {r.id for r in table.rules} - deciding
        reported = {
            f.rule
            for f in check_document(doc)
            if f.code in ("shadowed-row", "duplicate-row", "conflicting-duplicate")
        }
        assert reported == never


COMPARISON = st.one_of(
    st.builds(
        lambda op, k: f"dpd {op} {k}",
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.integers(-2, 22),
    ),
    st.builds(
        lambda op, v: f"rating {op} '{v}'", st.sampled_from(["==", "!="]), st.sampled_from("ABCZ")
    ),
    st.sampled_from(["flag", "not flag", "True", "False"]),
)


@given(
    st.lists(st.lists(COMPARISON, min_size=1, max_size=4), min_size=1, max_size=3),
)
def test_trigger_never_fires_exactly_when_no_input_fires_it(clauses: list[list[str]]) -> None:
    """A disjunction of conjunctions of comparisons with constants: the checker's verdict
    must match evaluating the trigger on every input of the (finite) domain."""
    condition = " or ".join("(" + " and ".join(clause) + ")" for clause in clauses)
    text = document(
        """
        dpd: {type: int, min: 0, max: 20}
        rating: {type: enum, values: [A, B, C]}
        flag: {type: bool}
        """,
        f"""
        - id: warnings
          kind: trigger_set
          inputs: [dpd, rating, flag]
          triggers:
            - {{id: t, severity: red, reason: R, when: "{condition}"}}
        """,
    )
    ruleset = load_ruleset(text)
    fires = any(
        ruleset.evaluate("warnings", {"dpd": d, "rating": r, "flag": f}).outputs["count"]
        for d in range(21)
        for r in "ABC"
        for f in (True, False)
    )
    verdict = "trigger-never-fires" in {f.code for f in ruleset.check()}
    assert verdict == (not fires)


GUARDS = st.one_of(
    st.builds(
        lambda op, k: f"d {op} {k}",
        st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
        st.integers(-2, 2),
    ),
    st.sampled_from(["flag", "not flag", "True", "False", "flag and d != 0", "d > 0 or flag"]),
)
SHAPES = [
    "x / d if {g} else 0",
    "0 if {g} else x / d",
    "({g}) and x / d > 1",
    "({g}) or x / d > 1",
    "x / d",
    "x / max(d, 1) if {g} else x",
]


@given(GUARDS, st.sampled_from(SHAPES), st.integers(-3, 1), st.integers(-1, 3))
def test_division_finding_exactly_when_some_input_divides_by_zero(
    guard: str, shape: str, low: int, high: int
) -> None:
    if low > high:
        low, high = high, low
    text = document(
        f"""
        x: {{type: decimal}}
        d: {{type: int, min: {low}, max: {high}}}
        flag: {{type: bool}}
        """,
        f"""
        - id: ratio
          kind: formula
          inputs: [x, d, flag]
          outputs:
            r: "{shape.format(g=guard)}"
        """,
    )
    ruleset = load_ruleset(text)
    divides_by_zero = False
    for d in range(low, high + 1):
        for flag in (True, False):
            try:
                ruleset.evaluate("ratio", {"x": 1, "d": d, "flag": flag})
            except PolicyEvaluationError as e:
                divides_by_zero |= "division by zero" in str(e)
    verdict = "division-by-zero" in {f.code for f in ruleset.check()}
    assert verdict == divides_by_zero


@st.composite
def near_valid_scales(draw: st.DrawFn) -> tuple[list[tuple[int, int]], int]:
    """Contiguous bands over [0, 1) on a 0.1 grid, then at most two small mistakes."""
    inner = draw(st.lists(st.integers(1, 9), unique=True, max_size=8).map(sorted))
    cuts = [0, *inner, 10]
    bands = list(itertools.pairwise(cuts))
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(bands) - 1))
        lo, hi = bands[i]
        mistake = draw(st.sampled_from(["shift-from", "shift-to", "swap", "copy", "empty"]))
        if mistake == "shift-from":
            bands[i] = (max(0, min(10, lo + draw(st.sampled_from([-1, 1])))), hi)
        elif mistake == "shift-to":
            bands[i] = (lo, max(0, min(10, hi + draw(st.sampled_from([-1, 1])))))
        elif mistake == "swap" and len(bands) > 1:
            j = (i + 1) % len(bands)
            bands[i], bands[j] = bands[j], bands[i]
        elif mistake == "copy":
            bands.insert(i, bands[i])
        elif mistake == "empty":
            bands[i] = (lo, lo)
    default_at = draw(st.sampled_from([10, 10, 10, 9, 5]))
    return bands, default_at


@given(near_valid_scales())
def test_scale_findings_agree_with_grading_every_point(
    scale_spec: tuple[list[tuple[int, int]], int],
) -> None:
    """Bands on a 0.1 grid, probed on a 0.05 grid: the scale is reported broken (gap,
    overlap, not contiguous, not monotone) exactly when some PD gets no grade or two, a
    band is empty, or the bands are not written in ascending order."""
    bands, default_at = scale_spec
    lines = [
        f"      - {{grade: G{i}, from: {lo / 10}, to: {hi / 10}}}"
        for i, (lo, hi) in enumerate(bands)
    ]
    lines.append(f"      - {{grade: D, default: true, at: {default_at / 10}}}")
    text = document(
        "pd: {type: decimal, min: 0, max: 1}",
        "- id: scale\n  kind: master_scale\n  input: pd\n  output: grade\n  grades:\n"
        + "\n".join(lines),
    )
    doc = read_document(text)
    scale = doc.blocks["scale"]
    assert isinstance(scale, MasterScale)
    broken = any(lo >= hi for lo, hi in bands) or any(
        b[0] < a[0] for a, b in itertools.pairwise(bands)
    )
    for k in range(21):
        pd = Decimal(k) / 20
        covering = [
            g
            for g in scale.grades
            if (g.is_default and pd == g.lower)
            or (not g.is_default and g.upper is not None and g.lower <= pd < g.upper)
        ]
        broken |= len(covering) != 1
    reported = {f.code for f in check_document(doc)} & {
        "gap",
        "overlap",
        "scale-not-contiguous",
        "scale-not-monotone",
    }
    assert bool(reported) == broken
