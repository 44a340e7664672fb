"""A formula that does not compile: a finding for `check` (the other blocks still checked),
a load error for `load_ruleset`, and never an evaluation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditmgmt.policies import PolicyEvaluationError, PolicyLoadError, RuleSet, load_ruleset
from creditmgmt.policies.checks import FINDING_CODES
from creditmgmt.policies.loader import read_document

TEXT = """\
id: broken
version: 0.1.0
effective_from: 2026-01-01
status: {status}
owner: credit-policy
approved_by: cro
inputs:
  dpd: {{type: int, min: 0}}
  flag: {{type: bool}}
  balance: {{type: decimal}}
blocks:
  - id: bad_formula
    kind: formula
    inputs: [flag, balance]
    outputs:
      limit: balance * flag
  - id: gappy
    kind: decision_table
    inputs: [dpd]
    outputs:
      category: {{type: enum, values: [normal, substandard]}}
    rules:
      - {{id: n, when: {{dpd: "[0..30]"}}, then: {{category: normal}}}}
      - {{id: s, when: {{dpd: "> 90"}}, then: {{category: substandard}}}}
  - id: uses_bad
    kind: formula
    inputs: [flag, balance]
    outputs:
      doubled: lookup("bad_formula", "limit", flag=flag, balance=balance) * 2
  - id: fine
    kind: formula
    inputs: [balance]
    outputs:
      half: balance / 2
  - id: bad_trigger
    kind: trigger_set
    inputs: [dpd]
    triggers:
      - {{id: t1, severity: red, reason: R1, when: dpd + "x" > 1}}
"""


def lenient(status: str = "draft") -> RuleSet:
    return RuleSet(read_document(TEXT.format(status=status), source_name="b.yaml", lenient=True))


def test_load_still_refuses_a_formula_that_does_not_compile() -> None:
    for status in ("draft", "approved"):
        with pytest.raises(PolicyLoadError, match=r"b\.yaml:16:\d+: .*formula"):
            load_ruleset(TEXT.format(status=status), source_name="b.yaml")
        with pytest.raises(PolicyLoadError):
            read_document(TEXT.format(status=status), source_name="b.yaml")


def test_check_lists_every_formula_error_at_its_line_and_checks_the_other_blocks() -> None:
    findings = lenient().check()
    errors = [f for f in findings if f.code == "formula-error"]
    assert [(f.block, f.location.line if f.location else None) for f in errors] == [
        ("bad_formula", 16),
        ("bad_trigger", 39),
    ]
    assert all(f.severity == "error" for f in errors)
    assert "formula" in errors[0].message and "b.yaml" not in errors[0].message
    # the table after the broken formula is still checked: its gap is found
    gaps = [f for f in findings if f.code == "gap"]
    assert [f.block for f in gaps] == ["gappy"] and "[31..91)" in gaps[0].message
    # nothing else is said about the broken blocks (their stand-ins are not the policy)
    others = [f for f in findings if f.block in ("bad_formula", "bad_trigger")]
    assert {f.code for f in others} == {"formula-error"}
    assert "formula-error" in FINDING_CODES


def test_a_block_with_a_formula_error_never_evaluates() -> None:
    rules = lenient()
    for block, given in (
        ("bad_formula", {"flag": True, "balance": "10"}),
        ("bad_trigger", {"dpd": 5}),
    ):
        for trace in (False, True):
            with pytest.raises(PolicyEvaluationError, match=f"block {block} cannot be evaluated"):
                rules.evaluate(block, given, trace=trace)
        with pytest.raises(PolicyEvaluationError, match=block):
            rules.evaluator(block)
    # a block that looks one up does not evaluate either, and says why
    with pytest.raises(PolicyEvaluationError, match="it looks up block bad_formula"):
        rules.evaluate("uses_bad", {"flag": True, "balance": "10"})
    with pytest.raises(PolicyEvaluationError, match="it looks up block bad_formula"):
        rules.evaluate_many("uses_bad", [{"flag": True, "balance": "10"}])
    # the sound blocks decide as usual
    assert rules.evaluate("fine", {"balance": "10"})["half"] == Decimal(5)
    assert rules.evaluate("gappy", {"dpd": 0})["category"] == "normal"
