"""A small rule set a policy team might write, and a copy with one seeded non-monotone row:
shared by the `policy prove` CLI tests and the `testing.policies` property tests."""

from __future__ import annotations

RULES = """\
id: team
version: 1.0.0
effective_from: 2026-01-01
status: draft
owner: credit-policy
inputs:
  dpd: {type: int, min: 0}
  revenue: {type: money, min: 0}
  requested: {type: money, min: 0}
blocks:
  - id: classification
    kind: decision_table
    inputs: [dpd]
    outputs:
      category: {type: enum, values: [normal, special_mention, substandard, doubtful, loss]}
    rules:
      - {id: r1, when: {dpd: "[0..30]"}, then: {category: normal}}
      - {id: r2, when: {dpd: "(30..90]"}, then: {category: special_mention}}
      - {id: r3, when: {dpd: "(90..180]"}, then: {category: substandard}}
      - {id: r4, when: {dpd: "(180..360]"}, then: {category: doubtful}}
      - {id: r5, when: {dpd: "> 360"}, then: {category: loss}}
  - id: limit
    kind: formula
    inputs: [revenue, requested]
    outputs:
      limit: round(min(revenue * 0.3, requested), 2)
"""
# r4 seeded non-monotone: 181 days past due is special mention again, better than 180
SEEDED = RULES.replace("then: {category: doubtful}", "then: {category: special_mention}")
