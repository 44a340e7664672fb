"""The rule-set language end to end: load (YAML, JSON, CSV) → compile → evaluate → explain.

Every cell syntax and block kind of POLICIES.md is exercised through a loaded document, errors
are checked for the file:line:column they name, and the bitset index for large tables is
property-tested against the generated matcher and a naive reference.
"""

from __future__ import annotations

import re
import textwrap
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.rule_documents import document, grading

from creditmgmt.policies import (
    Decision,
    PolicyError,
    PolicyEvaluationError,
    PolicyInputError,
    PolicyLoadError,
    RuleSet,
    load_ruleset,
)
from creditmgmt.policies import model as m
from creditmgmt.policies.cells import Cell, parse_cell
from creditmgmt.policies.errors import SourceLocation
from creditmgmt.policies.loader import read_document
from creditmgmt.policies.ruleset import INDEX_THRESHOLD, scaled_pd, scaling_constants
from creditmgmt.policies.table_index import _generated_matcher, _indexed_matcher

# ---------------------------------------------------------------------------------------------
# fixtures: one document holding every block kind
# ---------------------------------------------------------------------------------------------

FULL = (
    textwrap.dedent(
        """\
    # credit policy used by the language tests
    id: retail-policy
    version: 2.1.0
    effective_from: 2026-01-01
    status: draft
    owner: credit-policy
    change_note: every block kind once
    inputs:
      dpd: {type: int, min: 0}
      grade: {type: enum, values: [A, B, C, D, E]}
      segment: {type: enum, values: [retail, sme, corporate]}
      income: {type: decimal, nullable: true}
      age: {type: int}
      revenue: {type: money}
      ebitda: {type: money}
      collateral: {type: money}
      amount: {type: money}
      pd: {type: decimal}
      score: {type: decimal}
      opened: {type: date}
      overdraft: {type: bool}
    blocks:
      - id: classification
        kind: decision_table
        inputs: [dpd]
        outputs:
          category: {type: enum, values: [normal, special_mention, substandard, doubtful, loss]}
        rules:
          - {id: normal, when: {dpd: "<= 0"}, then: {category: normal}}
          - {id: sm, when: {dpd: "[1..90)"}, then: {category: special_mention}}
          - {id: sub, when: {dpd: "[90..180)"}, then: {category: substandard}}
          - {id: dbt, when: {dpd: "[180..360)"}, then: {category: doubtful}}
          - {id: loss, when: {dpd: ">= 360"}, then: {category: loss}}
      - id: pricing
        kind: decision_table
        hit_policy: FIRST
        inputs: [segment, grade]
        outputs:
          margin: {type: decimal}
        rules:
          - {id: vip, when: {segment: corporate, grade: '"A", "B"'}, then: {margin: 0.0150}}
          - {id: corp, when: {segment: corporate}, then: {margin: 0.0200}}
          - {id: rest, when: {segment: "-", grade: "-"}, then: {margin: 0.0300}}
      - id: worst_flag
        kind: decision_table
        hit_policy: PRIORITY
        inputs: [dpd, overdraft]
        outputs:
          flag: {type: enum, values: [red, amber, green]}
        rules:
          - {id: late, when: {dpd: "> 30"}, then: {flag: red}}
          - {id: od, when: {overdraft: true}, then: {flag: amber}}
          - {id: all, when: {dpd: "-"}, then: {flag: green}}
      - id: add_ons
        kind: decision_table
        hit_policy: COLLECT
        aggregate: SUM
        inputs: [grade, amount]
        outputs:
          bp: {type: decimal}
        rules:
          - {id: weak, when: {grade: '"D", "E"'}, then: {bp: 50}}
          - {id: big, when: {amount: ">= 1000000"}, then: {bp: 25}}
          - {id: not_a, when: {grade: 'not("A")'}, then: {bp: 10}}
      - id: application_score
        kind: scorecard
        inputs: [income, age]
        base_points: 520
        characteristics:
          - input: income
            bins:
              - {when: missing, points: -15}
              - {when: "< 5000", points: 0}
              - {when: "[5000..20000)", points: 40}
              - {when: ">= 20000", points: 80}
          - input: age
            bins:
              - {when: "< 25", points: 5}
              - {when: "[25..60]", points: 20}
              - {when: "> 60", points: 10}
        scaling: {points0: 600, odds0: 50, pdo: 20, odds: good_to_bad}
    """
    )
    + textwrap.indent(
        grading(
            (
                ("A", "0", "0.001"),
                ("B", "0.001", "0.005"),
                ("C", "0.005", "0.02"),
                ("D", "0.02", "0.1"),
                ("E", "0.1", "1"),
            ),
            rating="grade",
            months="review_months",
            bucket="dpd_bucket",
            max_dpd=9999,
        ),
        "  ",
    )
    + textwrap.indent(
        textwrap.dedent(
            """\
      - id: limit
        kind: formula
        inputs: [revenue, ebitda, collateral, dpd]
        let:
          ltv: "0.6"
          by_revenue: revenue * 0.2
          by_ebitda: ebitda * 3
        outputs:
          limit: "min(by_revenue, by_ebitda, collateral * ltv)"
          category: 'lookup("classification", "category", dpd=dpd)'
          capped: "clip(round(revenue / 3, 2), 0, 1000)"
          watch: 'ebitda < 0 or lookup("classification", "category", dpd=dpd) != "normal"'
      - id: warnings
        kind: trigger_set
        inputs: [dpd, overdraft, score]
        triggers:
          - {id: ko_dpd, severity: red, reason: R01 arrears over 90 days, when: dpd > 90}
          - {id: ew_dpd, severity: yellow, reason: Y01 arrears over 30 days, when: dpd > 30}
          - {id: ew_od, severity: yellow, reason: Y02 overdraft in use, when: overdraft}
          - {id: low_score, severity: info, reason: I01 weak score, when: score < 500}
    """
        ),
        "  ",
    )
)


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_ruleset(FULL, source_name="retail.yaml")


def line_of(text: str, fragment: str, nth: int = 0) -> int:
    """1-based line of the nth line containing `fragment`."""
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if fragment in line]
    return hits[nth]


# ---------------------------------------------------------------------------------------------
# documents: YAML and JSON, content hash, positions
# ---------------------------------------------------------------------------------------------

SMALL_YAML = textwrap.dedent(
    """\
    id: small
    version: 1.0.0
    effective_from: 2026-03-01
    effective_to: 2027-03-01
    status: draft
    inputs:
      dpd: {type: int}
      rate: {type: decimal}
    blocks:
      - id: bucket
        kind: decision_table
        inputs: [dpd]
        outputs: {bucket: {type: string}}
        rules:
          - {id: cur, when: {dpd: "< 1"}, then: {bucket: current}}
          - {id: late, when: {dpd: ">= 1"}, then: {bucket: late}}
      - id: price
        kind: formula
        inputs: [rate]
        outputs: {all_in: rate + 0.0125}
    """
)

SMALL_JSON = """{
  "id": "small", "version": "1.0.0",
  "effective_from": "2026-03-01", "effective_to": "2027-03-01",
  "status": "draft",
  "inputs": {"dpd": {"type": "int"}, "rate": {"type": "decimal"}},
  "blocks": [
    {"id": "bucket", "kind": "decision_table", "inputs": ["dpd"],
     "outputs": {"bucket": {"type": "string"}},
     "rules": [
       {"id": "cur", "when": {"dpd": "< 1"}, "then": {"bucket": "current"}},
       {"id": "late", "when": {"dpd": ">= 1"}, "then": {"bucket": "late"}}]},
    {"id": "price", "kind": "formula", "inputs": ["rate"],
     "outputs": {"all_in": "rate + 0.0125"}}
  ]
}"""


def test_yaml_and_json_of_one_document_load_the_same_content_and_hash() -> None:
    from_yaml = load_ruleset(SMALL_YAML)
    from_json = load_ruleset(SMALL_JSON)
    assert from_yaml.document.content_hash == from_json.document.content_hash
    assert from_yaml.ref == from_json.ref
    assert from_json.document.effective_from == date(2026, 3, 1)
    assert from_json.document.effective_to == date(2027, 3, 1)
    for rs in (from_yaml, from_json):
        assert rs.evaluate("bucket", {"dpd": 0})["bucket"] == "current"
        assert rs.evaluate("price", {"rate": "0.0350"})["all_in"] == Decimal("0.0475")


def test_hash_ignores_whitespace_comments_and_key_order() -> None:
    reordered = textwrap.dedent(
        """\
        # a comment the hash must not see
        version: 1.0.0      # trailing comment
        id: small
        status: draft
        effective_to: 2027-03-01
        effective_from: 2026-03-01
        inputs:
          rate:   {type: decimal}
          dpd:
            type: int
        blocks:
          - kind: decision_table
            id: bucket
            outputs:
              bucket:
                type: string
            inputs: [dpd]
            rules:
              - when: {dpd: "< 1"}
                then: {bucket: current}
                id: cur
              - {then: {bucket: late}, id: late, when: {dpd: ">= 1"}}
          - {outputs: {all_in: rate + 0.0125}, inputs: [rate], kind: formula, id: price}
        """
    )
    assert read_document(reordered).content_hash == read_document(SMALL_YAML).content_hash


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"< 1"', '"<= 0"'),  # same meaning for ints, different text: a different rule set
        ("rate + 0.0125", "rate + 0.0126"),
        ("version: 1.0.0", "version: 1.0.1"),
        ("effective_to: 2027-03-01", "effective_to: 2027-03-02"),
        ("then: {bucket: late}", "then: {bucket: overdue}"),
    ],
)
def test_hash_changes_with_content(old: str, new: str) -> None:
    assert old in SMALL_YAML
    changed = read_document(SMALL_YAML.replace(old, new)).content_hash
    assert changed != read_document(SMALL_YAML).content_hash


def test_ref_is_id_at_version_hash_prefix_of_the_canonical_sha256() -> None:
    rs = load_ruleset(SMALL_YAML)
    assert re.fullmatch(r"small@1\.0\.0#[0-9a-f]{12}", rs.ref)
    assert len(rs.document.content_hash) == 64
    assert rs.ref.endswith(rs.document.content_hash[:12])
    assert rs.evaluate("bucket", {"dpd": 3}).ruleset_ref == rs.ref


def test_load_from_a_path_names_the_file_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(SMALL_YAML, encoding="utf-8")
    assert load_ruleset(path).ref == load_ruleset(str(path)).ref
    path.write_text(SMALL_YAML.replace("kind: formula", "kind: formulae"), encoding="utf-8")
    with pytest.raises(PolicyLoadError) as info:
        load_ruleset(path)
    assert str(info.value).startswith(f"{path}:{line_of(SMALL_YAML, 'kind: formula')}:")
    with pytest.raises(PolicyLoadError, match=r"no-such\.yaml: cannot read"):
        load_ruleset(str(tmp_path / "no-such.yaml"))


def test_numbers_stay_exact_decimals_never_floats(rules: RuleSet) -> None:
    table = rules.blocks["pricing"]
    assert isinstance(table, m.DecisionTable)
    margins = [dict(r.then)["margin"] for r in table.rules]
    assert margins == [Decimal("0.0150"), Decimal("0.0200"), Decimal("0.0300")]
    assert all(type(x) is Decimal for x in margins)


def test_json_numbers_with_exponents_are_numbers() -> None:
    text = SMALL_JSON.replace('"rate + 0.0125"', '"rate * 1"').replace(
        '"inputs": {"dpd": {"type": "int"}, "rate": {"type": "decimal"}}',
        '"inputs": {"dpd": {"type": "int"}, "rate": {"type": "decimal", "max": 1e2}}',
    )
    assert read_document(text).inputs["rate"].max == Decimal(100)


# ---------------------------------------------------------------------------------------------
# load errors: file:line:column and what was expected
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "at", "expected"),
    [
        ("status: draft", "status: live", "status: live", "is not one of ['draft', 'approved'"),
        ("kind: formula", "kind: formulae", "kind: formulae", "is not one of ['decision_table'"),
        ("    rules:", "    rulez:", "id: bucket", "expected only aggregate, description"),
        ("version: 1.0.0\n", "", "id: small", "'version' is a required property"),
        ("{type: int}", "{type: integer}", "type: integer", "is not one of ['int', 'decimal'"),
        ("outputs: {bucket: {type: string}}", "", "id: bucket", "'outputs' is a required"),
        ('{dpd: "< 1"}', '{dpd: "[1..90"}', "[1..90", "'[1..90' is not a number"),
        ('{dpd: "< 1"}', "{dpx: 3}", "dpx", "'dpx' is not an input of block bucket"),
        ("id: late,", "id: cur,", 'id: cur, when: {dpd: ">= 1', "rule id 'cur' is used twice"),
        ("effective_from: 2026-03-01", "effective_from: 2026-13-01", "2026-13-01", "only dates"),
        ("effective_to: 2027-03-01", "effective_to: 2025-03-01", "2025-03-01", "must be after"),
        ("rate + 0.0125", "rate + fee", "rate + fee", "unknown name 'fee'"),
        ("inputs: [rate]", "inputs: [rates]", "rates", "unknown input 'rates'"),
        ("status: draft", "status: approved", "id: small", "names who approved it"),
        ("rate: {type: decimal}", "rate: {type: decimal}\n  dpd: {type: int}", "dpd", "dup"),
        ("status: draft", "status: [draft", "", "syntax error"),
        ("status: draft", "status: !!python/object:os.system draft", "status", "not allowed"),
    ],
)
def test_load_errors_name_file_line_column_and_what_was_expected(
    old: str, new: str, at: str, expected: str
) -> None:
    assert old in SMALL_YAML
    text = SMALL_YAML.replace(old, new, 1)
    with pytest.raises(PolicyLoadError) as info:
        load_ruleset(text, source_name="rules.yaml")
    message = str(info.value)
    assert expected in message
    located = re.match(r"rules\.yaml:(\d+):(\d+): ", message)
    assert located, message
    if at:
        nth = 1 if at == "dpd" else 0  # the duplicated key is the second `dpd`
        assert int(located.group(1)) == line_of(text, at, nth), message
    assert info.value.location is not None
    assert info.value.location.file == "rules.yaml"


def test_anchors_and_aliases_are_refused() -> None:
    text = SMALL_YAML.replace("dpd: {type: int}", "dpd: &t {type: int}").replace(
        "rate: {type: decimal}", "rate: *t"
    )
    with pytest.raises(PolicyLoadError, match="anchors and aliases are not allowed"):
        read_document(text)


# ---------------------------------------------------------------------------------------------
# CSV import of decision tables
# ---------------------------------------------------------------------------------------------

CSV_DOC = textwrap.dedent(
    """\
    id: csv-grid
    version: 1.0.0
    effective_from: 2026-01-01
    status: draft
    inputs:
      segment: {type: enum, values: [retail, sme, corporate]}
      dpd: {type: int}
    blocks:
      - id: grid
        kind: decision_table
        inputs: [segment, dpd]
        outputs:
          decision: {type: enum, values: [approve, refer, decline]}
          max_ltv: {type: decimal}
        rules_csv: grid.csv
    """
)

CSV_TABLE = (
    "id,segment,dpd,decision,max_ltv\n"
    'r1,"""retail"", ""sme""",< 30,approve,0.70\n'
    "r2,corporate,[0..30),refer,0.60\n"
    "r3,-,>= 30,decline,0\n"
)


def write_csv_doc(tmp_path: Path, table: str = CSV_TABLE) -> Path:
    (tmp_path / "grid.csv").write_text(table, encoding="utf-8")
    path = tmp_path / "rules.yaml"
    path.write_text(CSV_DOC, encoding="utf-8")
    return path


def test_decision_table_rows_can_come_from_csv(tmp_path: Path) -> None:
    rs = load_ruleset(write_csv_doc(tmp_path))
    d = rs.evaluate("grid", {"segment": "sme", "dpd": 12}, trace=True)
    assert d.outputs == {"decision": "approve", "max_ltv": Decimal("0.70")}
    assert d.matched == ("r1",)
    assert d.trace is not None and d.trace.steps[0]["line"] == 2  # the CSV line of r1
    assert rs.evaluate("grid", {"segment": "corporate", "dpd": 29})["decision"] == "refer"
    assert rs.evaluate("grid", {"segment": "retail", "dpd": 30}).matched == ("r3",)


def test_the_csv_rows_are_part_of_the_content_hash(tmp_path: Path) -> None:
    before = load_ruleset(write_csv_doc(tmp_path)).ref
    after = load_ruleset(write_csv_doc(tmp_path, CSV_TABLE.replace("0.60", "0.65"))).ref
    assert before != after
    assert load_ruleset(write_csv_doc(tmp_path)).ref == before


@pytest.mark.parametrize(
    ("table", "where", "expected"),
    [
        ("id,segment,decision,max_ltv\nr1,-,approve,1\n", "rules.yaml:15:", "header must be"),
        (CSV_TABLE + "r4,retail\n", "grid.csv:5:", "a row needs exactly 5 fields"),
        (CSV_TABLE + "r4,retail,1,approve,lots\n", "grid.csv:5:", "'lots' is not a number"),
        (CSV_TABLE + "r4,retail,>= 30; < 50,approve,1\n", "grid.csv:5:", "is not a number"),
        (CSV_TABLE + 'r4,retail,">= 30, < 50",approve,1\n', "grid.csv:5:", "comma list"),
    ],
)
def test_csv_errors_name_the_file_and_line(
    tmp_path: Path, table: str, where: str, expected: str
) -> None:
    path = write_csv_doc(tmp_path, table)
    with pytest.raises(PolicyLoadError) as info:
        load_ruleset(path)
    assert where in str(info.value)
    assert expected in str(info.value)


def test_csv_tables_need_a_document_loaded_from_a_file() -> None:
    with pytest.raises(PolicyLoadError, match="rules_csv needs a document loaded from a file"):
        load_ruleset(CSV_DOC)


# ---------------------------------------------------------------------------------------------
# cells
# ---------------------------------------------------------------------------------------------

D = Decimal


@pytest.mark.parametrize(
    ("text", "type_", "hits", "misses"),
    [
        ("-", "int", [0, -5, 10**9, None], []),
        ("", "int", [0, None], []),
        ("< 30", "int", [29, -1], [30, 31, None]),
        ("<= 30", "int", [30, 0], [31, None]),
        ("> 30", "int", [31], [30, 29, None]),
        (">= 30", "int", [30, 99], [29, None]),
        ("= 30", "int", [30], [29, 31, None]),
        ("30", "int", [30], [29, None]),
        ("[30..50)", "int", [30, 49], [29, 50, None]),
        ("(30..50]", "int", [31, 50], [30, 51]),
        ("[30..50]", "int", [30, 50], [29, 51]),
        ("(30..50)", "int", [31, 49], [30, 50]),
        ("[30..)", "int", [30, 10**6], [29]),
        ("(..50]", "int", [50, -(10**6)], [51]),
        ("[0.5..1.5)", "decimal", [D("0.5"), D("1.4999")], [D("1.5"), D("0.4999")]),
        ("(0.05..0.1]", "decimal", [D("0.1"), D("0.0501")], [D("0.05"), D("0.11")]),
        ("< -1.25", "decimal", [D("-1.26")], [D("-1.25")]),
        ("[1_000..2_000)", "money", [D(1000), D("1999.99")], [D(2000)]),
        ('"A", "B"', "enum", ["A", "B"], ["C", "a", None]),
        ('"A, B", "C"', "string", ["A, B", "C"], ["A", "B"]),
        ("A", "enum", ["A"], ["B"]),
        ("= A", "enum", ["A"], ["B"]),
        ('"A"', "string", ["A"], ['"A"']),
        ('not("A", "B")', "enum", ["C", "D"], ["A", "B", None]),
        ("not([30..50))", "int", [29, 50], [30, 49, None]),
        ("not(< 0)", "int", [0, 5], [-1, None]),
        ("not(missing)", "int", [0, 1], [None]),
        ("missing", "decimal", [None], [D(0)]),
        ("true", "bool", [True], [False, None]),
        ("false", "bool", [False], [True]),
        ("< 2026-07-01", "date", [date(2026, 6, 30)], [date(2026, 7, 1)]),
        ("[2026-01-01..2026-04-01)", "date", [date(2026, 1, 1)], [date(2026, 4, 1)]),
    ],
)
def test_every_cell_syntax(text: str, type_: str, hits: list[Any], misses: list[Any]) -> None:
    cell = parse_cell(text, type_, SourceLocation("t.yaml", 3, 4))
    for value in hits:
        assert cell.matches(value), (text, value)
    for value in misses:
        assert not cell.matches(value), (text, value)
    table = _one_column_table(cell, type_)
    generated = _generated_matcher(table, [type_])
    indexed = _indexed_matcher(table, [type_])
    for value in [*hits, *misses]:
        expected = [0] if cell.matches(value) else []
        assert generated([value]) == expected == indexed([value]), (text, value)


def _one_column_table(cell: Cell, type_: str) -> m.DecisionTable:
    loc = SourceLocation("t.yaml", 1, 1)
    return m.DecisionTable(
        id="t",
        kind="decision_table",
        inputs=("x",),
        outputs=(m.OutputSpec("y", "int", loc),),
        loc=loc,
        hit_policy="COLLECT",
        aggregate=None,
        rules=(m.Rule("r", (("x", cell),), (("y", 1),), loc),),
    )


def test_cells_written_as_yaml_scalars(rules: RuleSet) -> None:
    assert parse_cell(30, "int").matches(30)
    assert parse_cell(D("0.5"), "decimal").matches(D("0.50"))
    assert parse_cell(date(2026, 1, 1), "date").matches(date(2026, 1, 1))
    assert parse_cell(True, "bool").matches(True)
    assert parse_cell(1, "enum").matches("1")  # a bare 1 for a text input is the text "1"


@pytest.mark.parametrize("text", ['">= 30, < 50"', "30, 50", '"A", 2', "1,2,3"])
def test_numeric_comma_lists_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(PolicyLoadError) as info:
        parse_cell(text.strip('"') if text.startswith('">') else text, "int", None)
    message = str(info.value)
    assert "comma list is only an enumeration of quoted strings" in message
    assert "other engines read them as OR" in message
    assert "[30..50)" in message


def test_a_numeric_comma_list_in_a_document_is_refused_at_its_line() -> None:
    text = SMALL_YAML.replace('{dpd: "< 1"}', '{dpd: ">= 30, < 50"}')
    with pytest.raises(PolicyLoadError) as info:
        read_document(text, source_name="r.yaml")
    assert str(info.value).startswith(f"r.yaml:{line_of(text, '>= 30, < 50')}:")
    assert "read them as OR" in str(info.value)


@pytest.mark.parametrize(
    ("text", "type_", "expected"),
    [
        ("[5..1]", "int", "is empty"),
        ("[5..5)", "int", "is empty"),
        ("[1...5)", "int", "exactly one '..'"),
        ('["a"..5)', "int", "bounds must be numbers or dates"),
        ("< A", "enum", "needs a number or a date"),
        ("not(-)", "int", "is not a meaningful test"),
        ("not(not(1))", "int", "is not a meaningful test"),
        ('"A", "B"', "int", "lists text but the input is int"),
        ("abc", "decimal", "'abc' is not a number"),
        ("< 2026-02-30", "date", "is not a date"),
        ("maybe", "bool", "is not true or false"),
        ("= inf", "decimal", "'inf' is not a number"),
    ],
)
def test_malformed_cells_are_refused(text: str, type_: str, expected: str) -> None:
    with pytest.raises(PolicyLoadError, match=re.escape(expected)) as info:
        parse_cell(text, type_, SourceLocation("t.yaml", 7, 9))
    assert str(info.value).startswith("t.yaml:7:9: ")


def test_a_yaml_boolean_is_not_accepted_for_a_number_input() -> None:
    with pytest.raises(PolicyLoadError, match="true is a boolean but the input is int"):
        parse_cell(True, "int")


# ---------------------------------------------------------------------------------------------
# decision tables and hit policies
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "category", "rule"),
    [
        (0, "normal", "normal"),
        (1, "special_mention", "sm"),
        (89, "special_mention", "sm"),
        (90, "substandard", "sub"),
        (179, "substandard", "sub"),
        (180, "doubtful", "dbt"),
        (359, "doubtful", "dbt"),
        (360, "loss", "loss"),
        (10_000, "loss", "loss"),
    ],
)
def test_unique_table(rules: RuleSet, dpd: int, category: str, rule: str) -> None:
    d = rules.evaluate("classification", {"dpd": dpd})
    assert d.outputs == {"category": category}
    assert d.matched == (rule,)
    assert d.trace is None


def test_unique_table_with_no_match_or_two_matches_raises() -> None:
    text = document(
        """
        - id: t
          kind: decision_table
          inputs: [x]
          outputs: {y: {type: int}}
          rules:
            - {id: low, when: {x: "[0..10]"}, then: {y: 1}}
            - {id: high, when: {x: "[10..20)"}, then: {y: 2}}
        """
    )
    rs = load_ruleset(text)
    with pytest.raises(PolicyEvaluationError, match="block t: rules low and high all match"):
        rs.evaluate("t", {"x": 10})
    with pytest.raises(PolicyEvaluationError, match="block t: no rule matches x=20"):
        rs.evaluate("t", {"x": 20})
    assert rs.evaluate("t", {"x": 11}).matched == ("high",)


def test_first_hit_policy_takes_the_first_matching_row(rules: RuleSet) -> None:
    corp_a = rules.evaluate("pricing", {"segment": "corporate", "grade": "A"})
    assert (corp_a["margin"], corp_a.matched) == (Decimal("0.0150"), ("vip",))
    corp_c = rules.evaluate("pricing", {"segment": "corporate", "grade": "C"})
    assert (corp_c["margin"], corp_c.matched) == (Decimal("0.0200"), ("corp",))
    retail = rules.evaluate("pricing", {"segment": "retail", "grade": "A"})
    assert (retail["margin"], retail.matched) == (Decimal("0.0300"), ("rest",))


def test_priority_hit_policy_takes_the_worst_in_output_order(rules: RuleSet) -> None:
    both = rules.evaluate("worst_flag", {"dpd": 45, "overdraft": True})
    assert both["flag"] == "red"
    assert both.matched == ("late", "od", "all")  # every hit is reported, in row order
    od = rules.evaluate("worst_flag", {"dpd": 0, "overdraft": True})
    assert (od["flag"], od.matched) == ("amber", ("od", "all"))
    clean = rules.evaluate("worst_flag", {"dpd": 0, "overdraft": False})
    assert (clean["flag"], clean.matched) == ("green", ("all",))


def test_priority_with_a_value_outside_its_order_is_an_evaluation_error() -> None:
    text = document(
        """
        - id: t
          kind: decision_table
          hit_policy: PRIORITY
          inputs: [x]
          outputs: {y: {type: enum, values: [high, low]}}
          rules:
            - {id: a, when: {x: "-"}, then: {y: medium}}
            - {id: b, when: {x: "-"}, then: {y: low}}
        """
    )
    with pytest.raises(PolicyEvaluationError, match="rule a gives a value that is not in"):
        load_ruleset(text).evaluate("t", {"x": 1})


def test_collect_sum_adds_every_firing_row(rules: RuleSet) -> None:
    d = rules.evaluate("add_ons", {"grade": "E", "amount": "2000000"})
    assert d["bp"] == Decimal(85)
    assert d.matched == ("weak", "big", "not_a")
    a_small = rules.evaluate("add_ons", {"grade": "A", "amount": 10})
    assert (a_small["bp"], a_small.matched) == (Decimal(0), ())


@pytest.mark.parametrize(
    ("aggregate", "x", "expected"),
    [
        ("SUM", 5, Decimal(6)),
        ("MIN", 5, Decimal(1)),
        ("MAX", 5, Decimal(3)),
        ("COUNT", 5, 3),
        (None, 5, (Decimal(1), Decimal(2), Decimal(3))),
        ("SUM", 50, Decimal(0)),
        ("MIN", 50, None),
        ("MAX", 50, None),
        ("COUNT", 50, 0),
        (None, 50, ()),
    ],
)
def test_collect_aggregates(aggregate: str | None, x: int, expected: Any) -> None:
    agg = f"aggregate: {aggregate}" if aggregate else "description: plain COLLECT"
    text = document(
        f"""
        - id: t
          kind: decision_table
          hit_policy: COLLECT
          {agg}
          inputs: [x]
          outputs: {{y: {{type: decimal}}}}
          rules:
            - {{id: a, when: {{x: "< 10"}}, then: {{y: 1}}}}
            - {{id: b, when: {{x: "[5..10)"}}, then: {{y: 2}}}}
            - {{id: c, when: {{x: "<= 5"}}, then: {{y: 3}}}}
            - {{id: d, when: {{x: "> 100"}}, then: {{y: 4}}}}
        """
    )
    d = load_ruleset(text).evaluate("t", {"x": x})
    assert d["y"] == expected
    assert d.matched == (("a", "b", "c") if x == 5 else ())


def test_aggregate_without_collect_is_refused() -> None:
    text = document(
        """
        - id: t
          kind: decision_table
          aggregate: SUM
          inputs: [x]
          outputs: {y: {type: int}}
          rules: [{id: a, when: {x: "-"}, then: {y: 1}}]
        """
    )
    with pytest.raises(PolicyLoadError, match=re.escape("aggregate SUM|MIN|MAX|COUNT goes with")):
        load_ruleset(text)


# ---------------------------------------------------------------------------------------------
# scorecards
# ---------------------------------------------------------------------------------------------


def test_scaling_constants_match_the_domain_figures() -> None:
    scaling = m.Scaling(Decimal(600), Decimal(50), Decimal(20), "good_to_bad")
    factor, offset = scaling_constants(scaling)
    assert factor.quantize(Decimal("0.0001")) == Decimal("28.8539")
    assert offset.quantize(Decimal("0.0001")) == Decimal("487.1229")
    # 600 points ↔ odds 50:1 good:bad, PD 1/51; +PDO points doubles the odds: 620 ↔ 100:1
    assert scaled_pd(Decimal(600), scaling) == (Decimal(1) / 51).quantize(Decimal("1e-12"))
    assert scaled_pd(Decimal(620), scaling) == (Decimal(1) / 101).quantize(Decimal("1e-12"))
    assert scaled_pd(Decimal(580), scaling) == (Decimal(1) / 26).quantize(Decimal("1e-12"))


def test_odds_direction_is_explicit() -> None:
    good_to_bad = m.Scaling(Decimal(600), Decimal(50), Decimal(20), "good_to_bad")
    bad_to_good = m.Scaling(Decimal(600), Decimal(50), Decimal(20), "bad_to_good")
    # good:bad odds — a higher score is a better customer
    assert scaled_pd(Decimal(650), good_to_bad) < scaled_pd(Decimal(550), good_to_bad)
    # bad:good odds — the score measures risk; 620 is 100:1 *bad*
    assert scaled_pd(Decimal(650), bad_to_good) > scaled_pd(Decimal(550), bad_to_good)
    assert scaled_pd(Decimal(620), bad_to_good) == (Decimal(100) / 101).quantize(Decimal("1e-12"))
    # extreme scores clamp instead of overflowing
    assert scaled_pd(Decimal(10**9), good_to_bad) == Decimal("0E-12")
    assert scaled_pd(Decimal(-(10**9)), good_to_bad) == Decimal("1.000000000000")


def test_scorecard_adds_points_with_a_missing_bin_and_scales(rules: RuleSet) -> None:
    d = rules.evaluate("application_score", {"income": "25000", "age": 40}, trace=True)
    assert d["score"] == Decimal(620)  # 520 + 80 + 20
    assert d["pd"] == (Decimal(1) / 101).quantize(Decimal("1e-12"))
    assert d.matched == ("income=>= 20000", "age=[25..60]")
    missing = rules.evaluate("application_score", {"income": None, "age": 61})
    assert missing["score"] == Decimal(515)  # 520 - 15 + 10
    assert missing.matched == ("income=missing", "age=> 60")
    absent = rules.evaluate("application_score", {"age": 20})  # nullable: absent is missing
    assert absent["score"] == Decimal(510)
    assert d.trace is not None
    assert d.trace.steps[:2] == (
        {"characteristic": "income", "bin": ">= 20000", "points": Decimal(80)},
        {"characteristic": "age", "bin": "[25..60]", "points": Decimal(20)},
    )
    assert d.trace.steps[2] == {"score": Decimal(620), "pd": d["pd"]}


def test_scorecard_without_a_matching_bin_raises() -> None:
    text = document(
        """
        - id: s
          kind: scorecard
          inputs: [x]
          base_points: 100
          characteristics:
            - input: x
              bins: [{when: "< 10", points: 5}]
        """
    )
    rs = load_ruleset(text)
    assert rs.evaluate("s", {"x": 3}).outputs == {"score": Decimal(105)}
    with pytest.raises(PolicyEvaluationError, match="block s: no bin of x matches 10"):
        rs.evaluate("s", {"x": 10})


# ---------------------------------------------------------------------------------------------
# master scales, ladders, matrices
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pd", "grade"),
    [
        ("0", "A"),  # raised to the floor 0.0003 first
        ("0.0009999", "A"),
        ("0.001", "B"),  # half-open bands: the boundary belongs to the worse grade
        ("0.0049", "B"),
        ("0.005", "C"),
        ("0.02", "D"),
        ("0.1", "E"),
        ("0.9999", "E"),
        ("1", "X"),
    ],
)
def test_master_scale(rules: RuleSet, pd: str, grade: str) -> None:
    d = rules.evaluate("scale", {"pd": pd}, trace=True)
    assert d["grade"] == grade
    assert d.matched == (grade,)
    assert d.trace is not None
    assert d.trace.steps[0]["pd_used"] == max(Decimal(pd), Decimal("0.0003"))


def test_master_scale_value_off_every_band(rules: RuleSet) -> None:
    with pytest.raises(PolicyEvaluationError, match=r"pd 1\.5 is on no band of the scale"):
        rules.evaluate("scale", {"pd": "1.5"})
    text = document(
        """
        - id: s
          kind: master_scale
          input: pd
          output: grade
          grades:
            - {grade: A, from: 0, to: 0.5}
            - {grade: X, default: true, at: 1}
        """,
        inputs="pd: {type: decimal, nullable: true}",
    )
    with pytest.raises(PolicyEvaluationError, match="block s: pd is missing"):
        load_ruleset(text).evaluate("s", {"pd": None})


@pytest.mark.parametrize(("grade", "months"), [("A", 12), ("B", 12), ("C", 6), ("D", 6), ("E", 3)])
def test_threshold_ladder_over_an_enum(rules: RuleSet, grade: str, months: int) -> None:
    d = rules.evaluate("review_months", {"grade": grade})
    assert d["months"] == months


@pytest.mark.parametrize(
    ("dpd", "bucket", "step"),
    [
        (0, "current", "from 0"),
        (1, "b1", "from 1"),
        (30, "b1", "from 1"),
        (31, "b2", "from 31"),
        (91, "npl", "from 91"),
        (9999, "npl", "from 91"),
    ],
)
def test_threshold_ladder_over_numbers(rules: RuleSet, dpd: int, bucket: str, step: str) -> None:
    d = rules.evaluate("dpd_bucket", {"dpd": dpd})
    assert (d["bucket"], d.matched) == (bucket, (step,))


def test_threshold_ladder_outside_its_domain_raises(rules: RuleSet) -> None:
    with pytest.raises(PolicyEvaluationError, match="above the domain maximum 9999"):
        rules.evaluate("dpd_bucket", {"dpd": 10_000})
    text = document(
        """
        - id: l
          kind: threshold_ladder
          input: x
          output: y
          steps: [{from: 10, value: a}, {from: 20, value: b}]
        """,
        inputs="x: {type: int, nullable: true}",
    )
    rs = load_ruleset(text)
    with pytest.raises(PolicyEvaluationError, match="x 9 is below the first step"):
        rs.evaluate("l", {"x": 9})
    with pytest.raises(PolicyEvaluationError, match="block l: x is missing"):
        rs.evaluate("l", {"x": None})


def test_threshold_ladder_over_dates_written_in_json() -> None:
    text = (
        '{"id": "d", "version": "1.0.0", "effective_from": "2026-01-01", "status": "draft",'
        ' "inputs": {"opened": {"type": "date"}},'
        ' "blocks": [{"id": "vintage", "kind": "threshold_ladder", "input": "opened",'
        ' "output": "v", "steps": [{"from": "2020-01-01", "value": "old"},'
        ' {"from": "2025-01-01", "value": "new"}]}]}'
    )
    rs = load_ruleset(text)
    assert rs.evaluate("vintage", {"opened": date(2024, 12, 31)})["v"] == "old"
    assert rs.evaluate("vintage", {"opened": "2025-01-01"})["v"] == "new"


@pytest.mark.parametrize(
    ("amount", "grade", "level", "cell"),
    [
        ("99999.99", "A", "officer", "r1c1"),
        ("100000", "B", "manager", "r2c1"),
        ("100000", "C", "manager", "r2c2"),
        ("999999", "E", "committee", "r2c3"),
        ("1000000", "C", "committee", "r3c2"),
        ("5000000", "D", "board", "r3c3"),
    ],
)
def test_matrix(rules: RuleSet, amount: str, grade: str, level: str, cell: str) -> None:
    d = rules.evaluate("authority", {"amount": amount, "grade": grade}, trace=True)
    assert (d["level"], d.matched) == (level, (cell,))
    assert d.trace is not None and set(d.trace.steps[0]) == {"row", "column"}


def test_matrix_without_a_row_raises() -> None:
    text = document(
        """
        - id: mx
          kind: matrix
          rows: {input: x, cells: ["< 10"]}
          columns: {input: x2, cells: ["-"]}
          output: y
          values: [[a]]
        """,
        inputs="x: {type: int}\nx2: {type: int}",
    )
    with pytest.raises(PolicyEvaluationError, match="block mx: no row matches x=10"):
        load_ruleset(text).evaluate("mx", {"x": 10, "x2": 0})


def test_matrix_shape_is_checked_at_load() -> None:
    text = document(
        """
        - id: mx
          kind: matrix
          rows: {input: x, cells: ["< 10", ">= 10"]}
          columns: {input: x, cells: ["-"]}
          output: y
          values: [[a]]
        """
    )
    with pytest.raises(PolicyLoadError, match="1 value rows for 2 row cells"):
        load_ruleset(text)


# ---------------------------------------------------------------------------------------------
# formulas and triggers
# ---------------------------------------------------------------------------------------------


def test_formula_with_lets_and_a_lookup_into_a_table(rules: RuleSet) -> None:
    d = rules.evaluate(
        "limit",
        {"revenue": "10000000", "ebitda": "500000", "collateral": "3000000", "dpd": 95},
        trace=True,
    )
    # min(10m × 0.2 = 2m, 0.5m × 3 = 1.5m, 3m × 0.6 = 1.8m)
    assert d["limit"] == Decimal("1500000.0")
    assert d["category"] == "substandard"
    assert d["capped"] == Decimal(1000)
    assert d["watch"] is True
    assert d.trace is not None
    steps = d.trace.steps
    assert {"let": "ltv", "value": Decimal("0.6")} in steps
    assert {"let": "by_revenue", "value": Decimal("2000000.0")} in steps
    assert {"output": "limit", "value": Decimal("1500000.0")} in steps
    lookups = [s for s in steps if "lookup" in s]
    assert lookups[0]["lookup"] == "classification"
    assert lookups[0]["matched"] == ("sub",)
    assert lookups[0]["steps"][0]["rule"] == "sub"  # the nested table's own trace


def test_formula_arithmetic_is_exact_decimal() -> None:
    text = document(
        """
        - id: f
          kind: formula
          inputs: [a, b]
          outputs:
            sum: a + b
            third: round(a / 3, 2)
            half_even: round(b, 0)
            neg: "-a if a > 0 else abs(a)"
            big: max(a, b, 0.3)
          output_types: {half_even: int}
        """,
        inputs="a: {type: decimal}\nb: {type: decimal}",
    )
    d = load_ruleset(text).evaluate("f", {"a": "0.1", "b": "0.2"})
    assert d["sum"] == Decimal("0.3")
    assert d["third"] == Decimal("0.03")
    assert d["half_even"] == 0 and isinstance(d["half_even"], int)
    assert d["neg"] == Decimal("-0.1")
    assert d["big"] == Decimal("0.3")
    assert load_ruleset(text).evaluate("f", {"a": "2.5", "b": "2.5"})["half_even"] == 2
    assert load_ruleset(text).evaluate("f", {"a": "1", "b": "3.5"})["half_even"] == 4


def test_formula_division_by_zero_names_the_block_and_output() -> None:
    text = document(
        """
        - id: dscr
          kind: formula
          inputs: [cash, debt]
          outputs: {dscr: cash / debt}
        """,
        inputs="cash: {type: money}\ndebt: {type: money}",
    )
    with pytest.raises(PolicyEvaluationError, match="block dscr output dscr: division by zero"):
        load_ruleset(text).evaluate("dscr", {"cash": 10, "debt": 0})


def test_formulas_are_type_checked_at_load() -> None:
    text = document(
        """
        - id: f
          kind: formula
          inputs: [x, s]
          outputs: {y: x + s}
        """,
        inputs="x: {type: int}\ns: {type: string}",
    )
    with pytest.raises(PolicyLoadError, match="expected a num value, got str"):
        load_ruleset(text)


def test_trigger_set_reports_every_firing_trigger(rules: RuleSet) -> None:
    d = rules.evaluate("warnings", {"dpd": 120, "overdraft": True, "score": "480"}, trace=True)
    assert d.matched == ("ko_dpd", "ew_dpd", "ew_od", "low_score")
    assert d["count"] == 4
    assert d["severity"] == "red"
    assert d["fired"][0] == {
        "id": "ko_dpd",
        "severity": "red",
        "reason": "R01 arrears over 90 days",
    }
    assert [f["reason"][:3] for f in d["fired"]] == ["R01", "Y01", "Y02", "I01"]
    assert d.trace is not None
    assert [s["trigger"] for s in d.trace.steps] == list(d.matched)
    assert d.trace.steps[0]["line"] == line_of(FULL, "id: ko_dpd")
    some = rules.evaluate("warnings", {"dpd": 40, "overdraft": False, "score": 600})
    assert (some.matched, some["severity"], some["count"]) == (("ew_dpd",), "yellow", 1)
    none = rules.evaluate("warnings", {"dpd": 0, "overdraft": False, "score": 600})
    assert (none.matched, none["severity"], none["count"], none["fired"]) == ((), "none", 0, ())


def test_trigger_conditions_must_be_conditions() -> None:
    text = document(
        """
        - id: t
          kind: trigger_set
          inputs: [x]
          triggers: [{id: a, severity: red, reason: r, when: x + 1}]
        """
    )
    with pytest.raises(PolicyLoadError, match="trigger a: 'when' must be a condition"):
        load_ruleset(text)


def test_a_trigger_may_look_up_another_block() -> None:
    text = document(
        """
        - id: bucket
          kind: threshold_ladder
          input: x
          output: b
          steps: [{from: 0, value: current}, {from: 90, value: npl}]
        - id: ko
          kind: trigger_set
          inputs: [x]
          triggers:
            - {id: npl, severity: red, reason: R, when: 'lookup("bucket", "b", x=x) == "npl"'}
        """
    )
    rs = load_ruleset(text)
    assert rs.evaluate("ko", {"x": 90}).matched == ("npl",)
    assert rs.evaluate("ko", {"x": 89}).matched == ()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("x: {type: int}", "x: {type: enum, values: [yes, no]}", "enum value True is a boolean"),
        ("outputs: {y: x + 1}", "outputs: {y: x + 1}\n    output_types: {z: int}", "'z'"),
    ],
)
def test_document_slips_are_load_errors(old: str, new: str, expected: str) -> None:
    text = document("- id: f\n  kind: formula\n  inputs: [x]\n  outputs: {y: x + 1}")
    assert old in text
    with pytest.raises(PolicyLoadError, match=re.escape(expected)):
        read_document(text.replace(old, new))


LOOKUP_BLOCKS = """
- id: a
  kind: formula
  inputs: [x]
  outputs: {y: 'lookup("{A}", "y", x=x)'}
- id: b
  kind: formula
  inputs: [x]
  outputs: {y: 'lookup("{B}", "y", x=x)'}
"""


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("b", "a", "lookups form a cycle: a -> b -> a"),
        ("a", "a", "lookups form a cycle: a -> a"),
    ],
)
def test_lookup_cycles_are_refused_at_load(a: str, b: str, expected: str) -> None:
    text = document(LOOKUP_BLOCKS.replace("{A}", a).replace("{B}", b))
    with pytest.raises(PolicyLoadError, match=re.escape(expected)) as info:
        read_document(text, source_name="c.yaml")
    assert str(info.value).startswith(f"c.yaml:{line_of(text, '- id: a')}:")


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ('lookup("nope", "y", x=x)', "lookup of unknown block 'nope'"),
        ('lookup("t", "nope", x=x)', "block t has no output 'nope'"),
        ('lookup("t", "y")', "must pass exactly its inputs ['x']"),
        ('lookup("t", "y", x=x, z=1)', "must pass exactly its inputs ['x']"),
        ('lookup(t, "y", x=x)', 'lookup needs ("block", "output", input=value, ...)'),
    ],
)
def test_lookups_are_resolved_at_load(formula: str, expected: str) -> None:
    text = document(
        f"""
        - id: t
          kind: decision_table
          inputs: [x]
          outputs: {{y: {{type: int}}}}
          rules: [{{id: a, when: {{x: "-"}}, then: {{y: 1}}}}]
        - id: f
          kind: formula
          inputs: [x]
          outputs: {{z: '{formula}'}}
        """
    )
    with pytest.raises(PolicyLoadError, match=re.escape(expected)):
        read_document(text)


# ---------------------------------------------------------------------------------------------
# decisions, traces, inputs
# ---------------------------------------------------------------------------------------------


def test_decision_carries_block_outputs_matched_and_ref(rules: RuleSet) -> None:
    d = rules.evaluate("classification", {"dpd": 91}, trace=True)
    assert isinstance(d, Decision)
    assert d.block == "classification"
    assert d.ruleset_ref == rules.ref
    assert re.fullmatch(r"retail-policy@2\.1\.0#[0-9a-f]{12}", d.ruleset_ref)
    assert d.matched == ("sub",)
    assert d.trace is not None
    assert d.trace.block == "classification"
    assert d.trace.inputs == {"dpd": 91}
    assert d.trace.steps == (
        {"rule": "sub", "cells": {"dpd": "[90..180)"}, "line": line_of(FULL, "id: sub")},
    )


def test_trace_shows_inputs_as_seen_after_coercion(rules: RuleSet) -> None:
    d = rules.evaluate("authority", {"amount": "1200000.50", "grade": "D"}, trace=True)
    assert d.trace is not None
    assert d.trace.inputs == {"amount": Decimal("1200000.50"), "grade": "D"}


@pytest.mark.parametrize(
    ("block", "given", "expected"),
    [
        ("classification", {}, "block classification: missing input dpd"),
        ("classification", {"dpd": 1, "grade": "A"}, "unexpected input(s) grade"),
        ("classification", {"dpd": "many"}, "input dpd: 'many' is not a valid int"),
        ("classification", {"dpd": "1.5"}, "input dpd: '1.5' is not a valid int"),
        ("classification", {"dpd": True}, "input dpd: True is not a valid int"),
        ("classification", {"dpd": -1}, "input dpd: -1 is below the minimum 0"),
        ("classification", {"dpd": None}, "input dpd may not be missing"),
        ("scale", {"pd": 0.01}, "input pd: 0.01 is a float"),
        ("scale", {"pd": "NaN"}, "input pd: 'NaN' is not a valid decimal"),
        ("review_months", {"grade": "Z"}, "input grade: 'Z' is not one of A, B, C, D, E"),
        ("worst_flag", {"dpd": 0, "overdraft": "yes"}, "overdraft: 'yes' is not a valid bool"),
        ("warnings", {"dpd": 0, "overdraft": 1, "score": 1}, "overdraft: 1 is not a valid bool"),
        ("nope", {}, "has no block 'nope'"),
    ],
)
def test_missing_extra_and_mistyped_inputs_raise(
    rules: RuleSet, block: str, given: dict[str, Any], expected: str
) -> None:
    with pytest.raises(PolicyInputError, match=re.escape(expected)):
        rules.evaluate(block, given)


def test_dates_take_dates_or_iso_text_never_timestamps() -> None:
    text = document(
        """
        - id: t
          kind: decision_table
          inputs: [d]
          outputs: {new: {type: bool}}
          rules:
            - {id: old, when: {d: "< 2025-01-01"}, then: {new: false}}
            - {id: new, when: {d: ">= 2025-01-01"}, then: {new: true}}
        """,
        inputs="d: {type: date}",
    )
    rs = load_ruleset(text)
    assert rs.evaluate("t", {"d": date(2025, 1, 1)})["new"] is True
    assert rs.evaluate("t", {"d": "2024-12-31"})["new"] is False
    with pytest.raises(PolicyInputError, match=r"input d: .* is not a valid date"):
        rs.evaluate("t", {"d": datetime(2025, 1, 1, 12, 0)})


def test_policy_errors_share_one_root(rules: RuleSet) -> None:
    from creditmgmt.domain.errors import CreditMgmtError

    with pytest.raises(CreditMgmtError):
        rules.evaluate("classification", {})
    assert issubclass(PolicyInputError, PolicyError)
    assert issubclass(PolicyEvaluationError, PolicyError)
    assert issubclass(PolicyLoadError, PolicyError)


# ---------------------------------------------------------------------------------------------
# large tables: the bitset index agrees with the generated matcher and a naive reference
# ---------------------------------------------------------------------------------------------
# A cell is drawn as a structured spec, rendered to text, parsed, and evaluated three ways.

Spec = tuple[Any, ...]
# int inputs meet decimal bounds too ([0.5..2.5) on a count of days)
INT_POINTS: list[Any] = [*range(-2, 12), Decimal("0.5"), Decimal("2.5")]
DEC_POINTS = [Decimal(x) for x in ("-1", "0", "0.5", "1", "1.25", "2", "2.5", "3")]
DATE_POINTS = [date(2026, 1, d) for d in (1, 2, 3, 5, 8, 13)]
ENUMS = ["A", "B", "C", "D", "E"]


def _range_specs(points: list[Any]) -> st.SearchStrategy[Spec]:
    point = st.sampled_from(points)
    compare = st.tuples(st.just("cmp"), st.sampled_from(["<", "<=", ">", ">=", "="]), point)
    interval = st.tuples(
        st.just("iv"),
        st.sampled_from(["[", "("]),
        st.one_of(st.none(), point),
        st.one_of(st.none(), point),
        st.sampled_from(["]", ")"]),
    ).filter(_valid_interval)
    return st.one_of(compare, interval, st.tuples(st.just("bare"), point))


def _valid_interval(spec: Spec) -> bool:
    _, lo_br, lo, hi, hi_br = spec
    if lo is None or hi is None:
        return True
    return bool(lo < hi or (lo == hi and (lo_br, hi_br) == ("[", "]")))


def _cell_specs(points: list[Any] | None) -> st.SearchStrategy[Spec]:
    if points is None:
        inner: st.SearchStrategy[Spec] = st.one_of(
            st.tuples(st.just("set"), st.lists(st.sampled_from(ENUMS), min_size=1, max_size=3)),
            st.tuples(st.just("bare"), st.sampled_from(ENUMS)),
        )
    else:
        inner = _range_specs(points)
    return st.one_of(
        st.just(("any",)),
        st.just(("any",)),
        st.just(("missing",)),
        inner,
        inner,
        st.tuples(st.just("not"), inner),
        st.just(("not", ("missing",))),
    )


def _render(spec: Spec) -> str:
    kind = spec[0]
    if kind == "any":
        return "-"
    if kind == "missing":
        return "missing"
    if kind == "cmp":
        return f"{spec[1]} {spec[2]}"
    if kind == "bare":
        return str(spec[1])
    if kind == "iv":
        _, lo_br, lo, hi, hi_br = spec
        return f"{lo_br}{'' if lo is None else lo}..{'' if hi is None else hi}{hi_br}"
    if kind == "set":
        return ", ".join(f'"{v}"' for v in spec[1])
    return f"not({_render(spec[1])})"


def _reference(spec: Spec, v: Any) -> bool:
    """What the cell means, written independently of cells.py and ruleset.py."""
    kind = spec[0]
    if kind == "any":
        return True
    if kind == "missing":
        return v is None
    if v is None:
        return False
    if kind == "not":
        return not _reference(spec[1], v)
    if kind == "set":
        return v in spec[1]
    if kind == "bare":
        return bool(v == spec[1])
    if kind == "cmp":
        op, x = spec[1], spec[2]
        return bool({"<": v < x, "<=": v <= x, ">": v > x, ">=": v >= x, "=": v == x}[op])
    _, lo_br, lo, hi, hi_br = spec
    if lo is not None and (v < lo or (v == lo and lo_br == "(")):
        return False
    return not (hi is not None and (v > hi or (v == hi and hi_br == ")")))


COLUMNS = [
    ("n", "int", INT_POINTS),
    ("r", "decimal", DEC_POINTS),
    ("g", "enum", None),
    ("d", "date", DATE_POINTS),
]
VALUE_POOLS: list[list[Any]] = [
    [*range(-3, 13), None],
    [*DEC_POINTS, Decimal("-2"), Decimal("0.25"), Decimal("1.1"), Decimal("9"), None],
    [*ENUMS, "F", None],
    [*DATE_POINTS, date(2025, 12, 31), date(2026, 1, 4), date(2026, 2, 1), None],
]


@st.composite
def large_tables(draw: st.DrawFn) -> tuple[list[list[Spec]], str, list[list[Any]]]:
    n_rows = draw(st.integers(min_value=INDEX_THRESHOLD + 1, max_value=INDEX_THRESHOLD + 60))
    row = st.tuples(*(_cell_specs(points) for _, _, points in COLUMNS)).map(list)
    rows = draw(st.lists(row, min_size=n_rows, max_size=n_rows))
    policy = draw(st.sampled_from(["COLLECT", "FIRST", "UNIQUE", "PRIORITY"]))
    queries = draw(
        st.lists(
            st.tuples(*(st.sampled_from(p) for p in VALUE_POOLS)).map(list),
            min_size=25,
            max_size=25,
        )
    )
    return rows, policy, queries


def _table(rows: list[list[Spec]], policy: str) -> m.DecisionTable:
    loc = SourceLocation("big.yaml", 1, 1)
    rules = tuple(
        m.Rule(
            f"r{i}",
            tuple(
                (name, parse_cell(_render(spec), type_, loc))
                for (name, type_, _), spec in zip(COLUMNS, row, strict=True)
            ),
            (("y", i),),
            loc,
        )
        for i, row in enumerate(rows)
    )
    return m.DecisionTable(
        id="big",
        kind="decision_table",
        inputs=tuple(name for name, _, _ in COLUMNS),
        outputs=(m.OutputSpec("y", "int", loc),),
        loc=loc,
        hit_policy=policy,
        aggregate=None,
        rules=rules,
    )


@settings(max_examples=60)
@given(large_tables())
def test_bitset_index_agrees_with_generated_code_and_a_naive_reference(
    case: tuple[list[list[Spec]], str, list[list[Any]]],
) -> None:
    rows, policy, queries = case
    table = _table(rows, policy)
    types = [t for _, t, _ in COLUMNS]
    indexed = _indexed_matcher(table, types)
    generated = _generated_matcher(table, types)
    for values in queries:
        naive = [
            i
            for i, row in enumerate(rows)
            if all(_reference(spec, v) for spec, v in zip(row, values, strict=True))
        ]
        if policy == "FIRST":
            naive = naive[:1]
        assert generated(values) == naive, (
            values,
            [_render(s) for s in rows[naive[0]]] if naive else None,
        )
        assert indexed(values) == naive, values


def test_a_table_above_the_threshold_is_served_by_the_index_with_the_same_answers() -> None:
    rows = "\n".join(
        f'    - {{id: r{i}, when: {{x: "[{i * 10}..{i * 10 + 10})"}}, then: {{y: {i}}}}}'
        for i in range(INDEX_THRESHOLD * 3)
    )
    text = document(
        "- id: big\n  kind: decision_table\n  inputs: [x]\n  outputs: {y: {type: int}}\n"
        "  rules:\n" + textwrap.indent(rows, "  ")
    )
    rs = load_ruleset(text)
    assert rs._matchers["big"].__qualname__.startswith("_indexed_matcher")
    small = load_ruleset(
        document(
            "- id: s\n  kind: decision_table\n  inputs: [x]\n  outputs: {y: {type: int}}\n"
            '  rules: [{id: a, when: {x: "-"}, then: {y: 0}}]'
        )
    )
    assert small._matchers["s"].__qualname__.startswith("_generated_matcher")
    for x in (0, 9, 10, 639, 1000, INDEX_THRESHOLD * 30 - 1):
        d = rs.evaluate("big", {"x": x})
        assert d["y"] == x // 10 and d.matched == (f"r{x // 10}",)
    with pytest.raises(PolicyEvaluationError, match="no rule matches x=-1"):
        rs.evaluate("big", {"x": -1})


def test_dividing_two_int_inputs_is_exact_decimal_never_float() -> None:
    rules = load_ruleset(
        """
id: division
version: 1.0.0
effective_from: 2026-01-01
status: draft
inputs:
  months_paid: {type: int, min: 0}
  months_due: {type: int, min: 1}
blocks:
  - id: share
    kind: formula
    inputs: [months_paid, months_due]
    outputs: {share: "months_paid / months_due", shown: "round(months_paid / months_due, 2)"}
"""
    )
    for decision in (
        rules.evaluate("share", {"months_paid": 1, "months_due": 3}),
        rules.evaluate("share", {"months_paid": 1, "months_due": 3}, trace=True),
        *rules.evaluate_many("share", [{"months_paid": 1, "months_due": 3}]),
    ):
        assert type(decision["share"]) is Decimal
        assert decision["share"] == Decimal("0.3333333333333333333333333333333333")  # 34 digits
        assert decision["shown"] == Decimal("0.33")
