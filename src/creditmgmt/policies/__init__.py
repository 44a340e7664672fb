"""Rule sets policy teams write: load, check, compile, evaluate, explain, version, back-test.

    from creditmgmt.policies import load_ruleset
    rules = load_ruleset("rules.yaml")
    for finding in rules.check():
        print(finding)                      # file:line: severity code: [block/rule] message
    decision = rules.evaluate("classification", {"dpd": 91, ...}, trace=True)
    decision.outputs["category"], decision.matched, decision.ruleset_ref

Everything raised is a `PolicyError` (under `CreditMgmtError`).
"""

from creditmgmt.policies.base import Finding
from creditmgmt.policies.builtin import UnknownRuleSetError, builtin_names, builtin_ruleset
from creditmgmt.policies.errors import (
    PolicyCheckError,
    PolicyError,
    PolicyEvaluationError,
    PolicyInputError,
    PolicyLoadError,
    SourceLocation,
)
from creditmgmt.policies.impact import ImpactReport, diff_impact
from creditmgmt.policies.registry import (
    RuleSetNotFoundError,
    RuleSetOverlapError,
    RuleSetRegistry,
    RuleSetVersionError,
)
from creditmgmt.policies.ruleset import Decision, RuleSet, Trace, load_ruleset

__all__ = [
    "Decision",
    "Finding",
    "ImpactReport",
    "PolicyCheckError",
    "PolicyError",
    "PolicyEvaluationError",
    "PolicyInputError",
    "PolicyLoadError",
    "RuleSet",
    "RuleSetNotFoundError",
    "RuleSetOverlapError",
    "RuleSetRegistry",
    "RuleSetVersionError",
    "SourceLocation",
    "Trace",
    "UnknownRuleSetError",
    "builtin_names",
    "builtin_ruleset",
    "diff_impact",
    "load_ruleset",
]
