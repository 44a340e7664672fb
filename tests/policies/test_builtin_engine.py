"""Engine behaviour found while writing the built-in rule sets (each with the fix's test)."""

from __future__ import annotations

import pytest

from creditmgmt.policies import PolicyEvaluationError, RuleSet
from creditmgmt.policies.loader import read_document

COLLECT_MAX_OVER_TEXT = """
id: t
version: 1.0.0
effective_from: 2024-01-01
status: draft
inputs:
  x: {type: int}
blocks:
  - id: worst
    kind: decision_table
    hit_policy: COLLECT
    aggregate: MAX
    inputs: [x]
    outputs:
      category: {type: enum, values: [normal, loss]}
    rules:
      - {id: r1, when: {x: ">= 0"}, then: {category: normal}}
"""


def test_collect_max_over_text_outputs_fails_with_a_policy_error() -> None:
    # check() reports it; evaluating the draft anyway used to leak decimal.InvalidOperation
    rules = RuleSet(read_document(COLLECT_MAX_OVER_TEXT))
    with pytest.raises(PolicyEvaluationError, match="MAX needs numeric outputs; category"):
        rules.evaluate("worst", {"x": 1})


def test_block_descriptions_are_kept() -> None:
    # they document a block's contract; the loader used to drop them
    text = COLLECT_MAX_OVER_TEXT.replace(
        "    kind: decision_table", "    kind: decision_table\n    description: worst of"
    )
    assert RuleSet(read_document(text)).blocks["worst"].description == "worst of"
