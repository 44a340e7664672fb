"""Triggers that never fire: a condition no allowed input can make true (contradictory
comparisons, an undeclared enum value, constant false), read by interval reasoning."""

from __future__ import annotations

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding
from creditmgmt.policies.checks.reasoning import Reasoner, domain_facts
from creditmgmt.policies.checks.survey import Survey


def check_triggers(survey: Survey) -> list[Finding]:
    """A warning for every trigger whose condition is false for every allowed input."""
    out: list[Finding] = []
    for ts in survey.of_kind(m.TriggerSet):
        facts = domain_facts(survey.doc, ts.inputs)
        for t in ts.triggers:
            if t.expr.tree is None:
                continue
            if Reasoner(t.expr.text).assume(t.expr.tree.body, True, facts) is None:
                out.append(
                    survey.finding(
                        "trigger-never-fires.false",
                        ts.id,
                        t.id,
                        t.loc,
                        trigger=t.id,
                        formula=repr(t.expr.text),
                    )
                )
    return out
