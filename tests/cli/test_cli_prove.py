"""`creditmgmt policy prove`: counterexamples, proofs, bounds, exit codes, Chinese labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.rule_documents import RULES, SEEDED, written

from creditmgmt.cli import main

CLAIM = "dpd:increasing->category:worse"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["policy", "prove", *args])


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return written(tmp_path, RULES)


def test_a_monotone_table_is_proved(rules: Path) -> None:
    result = run(str(rules), "classification", "--monotone", CLAIM)
    assert result.exit_code == 0, result.output
    assert "holds at every boundary" in result.output


def test_a_seeded_non_monotone_row_prints_the_counterexample(tmp_path: Path) -> None:
    path = tmp_path / "seeded.yaml"
    path.write_text(SEEDED, encoding="utf-8")
    result = run(str(path), "classification", "--monotone", CLAIM)
    assert result.exit_code == 1, result.output
    assert "does not hold" in result.output
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "180" in lines["dpd"] and "181" in lines["dpd"]
    assert "substandard" in lines["category"] and "special_mention" in lines["category"]


def test_without_a_block_every_block_the_claim_applies_to_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "seeded.yaml"
    path.write_text(SEEDED, encoding="utf-8")
    result = run(str(path), "--monotone", CLAIM, "--bound", "limit:0..requested")
    assert result.exit_code == 1, result.output
    assert "classification: dpd:increasing->category:worse: does not hold" in result.output
    assert "limit: limit:0..requested: holds at every boundary" in result.output
    builtin = run("--builtin", "cn-2023", "--monotone", CLAIM)
    assert builtin.exit_code == 0, builtin.output
    assert "classification: " in builtin.output and "card_classification: " in builtin.output


def test_the_builtin_classification_never_improves_with_more_dpd() -> None:
    # PRIORITY lists the categories worst first; ten inputs, every combination walked
    result = run("--builtin", "cn-2023", "classification", "--monotone", CLAIM)
    assert result.exit_code == 0, result.output
    assert "holds at every boundary" in result.output


def test_bounds_and_formula_monotonicity(rules: Path) -> None:
    result = run(
        str(rules),
        "limit",
        "--bound",
        "limit:0..requested",
        "--monotone",
        "revenue:increasing->limit:increasing",
    )
    assert result.exit_code == 0, result.output
    broken = run(str(rules), "limit", "--bound", "limit:0..100")
    assert broken.exit_code == 1, broken.output
    assert "limit" in broken.output and "requested" in broken.output


def test_order_option_and_chinese_labels(tmp_path: Path) -> None:
    path = tmp_path / "seeded.yaml"
    path.write_text(SEEDED, encoding="utf-8")
    reverse = "category=loss,doubtful,substandard,special_mention,normal"
    result = run(str(path), "classification", "--monotone", CLAIM, "--order", reverse)
    assert result.exit_code == 1  # read the other way round, other rows break it
    zh = run(str(path), "classification", "--monotone", CLAIM, "--lang", "zh")
    assert zh.exit_code == 1
    assert "不成立" in zh.output and "次级" in zh.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["classification", "--monotone", "dpd->category"], "INPUT:increasing"),
        (["classification", "--monotone", "grade:increasing->category:worse"], "does not read"),
        (["classification", "--monotone", "dpd:increasing->rate:worse"], "no output"),
        (["nope", "--monotone", CLAIM], "no block"),
        (["classification"], "at least one"),
        (["--monotone", "revenue:increasing->category:worse"], "no block of"),
        (["limit", "--bound", "limit:0..salary"], "neither a number nor an input"),
    ],
)
def test_usage_errors_exit_2(rules: Path, args: list[str], message: str) -> None:
    result = run(str(rules), *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_file_that_cannot_be_loaded_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [", encoding="utf-8")
    assert run(str(path), "classification", "--monotone", CLAIM).exit_code == 2


CONTEXT = """\
id: context
version: 1.0.0
effective_from: 2026-01-01
status: draft
owner: credit-policy
inputs:
  dpd: {type: int, min: 0}
  secured: {type: bool}
  grade: {type: enum, values: [A, B, C]}
blocks:
  - id: classification
    kind: decision_table
    hit_policy: FIRST
    inputs: [dpd, secured, grade]
    outputs:
      category: {type: enum, values: [normal, special_mention, substandard]}
    rules:
      - {id: odd, when: {dpd: "(60..90]", secured: true, grade: C}, then: {category: normal}}
      - {id: r1, when: {dpd: "[0..30]"}, then: {category: normal}}
      - {id: r2, when: {dpd: "(30..90]"}, then: {category: special_mention}}
      - {id: r3, when: {dpd: "> 90"}, then: {category: substandard}}
"""


def test_a_defect_in_one_combination_of_the_other_inputs_is_found(tmp_path: Path) -> None:
    path = tmp_path / "context.yaml"
    path.write_text(CONTEXT, encoding="utf-8")
    result = run(str(path), "classification", "--monotone", CLAIM)
    assert result.exit_code == 1, result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "true" in rows["secured"] and "C" in rows["grade"]
    assert "60" in rows["dpd"] and "61" in rows["dpd"]


def test_a_large_product_is_sampled_and_says_so() -> None:
    from creditmgmt.cli.prove import Monotone, check_claim
    from creditmgmt.policies import builtin_ruleset

    rules = builtin_ruleset("cn-2023")
    outcome = check_claim(rules, "classification", Monotone.parse(CLAIM), budget=1000)
    assert outcome.holds and not outcome.exhaustive and outcome.evaluations <= 1000


def test_no_file_is_a_usage_error() -> None:
    result = run("--monotone", CLAIM)
    assert result.exit_code == 2 and "FILE [BLOCK]" in result.output
