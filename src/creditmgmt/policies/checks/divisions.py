"""Division guards: a formula or trigger dividing by an input whose domain includes 0.

A division `x / d` by an input is reported unless `d`'s domain (a declared `min` above 0), or
the conditions on the way to the division (`... if d > 0 else ...`, `d != 0 and ...`),
exclude 0. A guard the interval reasoning cannot read (through a `let`) is not seen: declare
`min` or guard inline.
"""

from __future__ import annotations

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding, SourceLocation
from creditmgmt.policies.checks.reasoning import Reasoner, domain_facts
from creditmgmt.policies.checks.survey import Survey
from creditmgmt.policies.formula import Expr


def check_divisions(survey: Survey) -> list[Finding]:
    """An error for every division by an input that may be 0 where it is divided."""
    out: list[Finding] = []
    for block in survey.blocks:
        if isinstance(block, m.Formula):
            for name, expr in block.lets:
                out.extend(_divisions(survey, block, f"let {name}", expr, expr.loc or block.loc))
            for name, expr in block.expressions:
                out.extend(_divisions(survey, block, name, expr, expr.loc or block.loc))
        elif isinstance(block, m.TriggerSet):
            for t in block.triggers:
                out.extend(_divisions(survey, block, t.id, t.expr, t.expr.loc or t.loc))
    return out


def _divisions(
    survey: Survey, block: m.Block, where: str, expr: Expr, loc: SourceLocation
) -> list[Finding]:
    if expr.tree is None:
        return []
    out: list[Finding] = []
    reported: set[str] = set()

    def report(name: str) -> None:
        if name in reported:
            return
        reported.add(name)
        spec = survey.doc.inputs[name]
        low = spec.min if spec.min is not None else ""
        high = spec.max if spec.max is not None else ""
        out.append(
            survey.finding(
                "division-by-zero.input",
                block.id,
                where,
                loc,
                formula=repr(expr.text),
                input=name,
                low=str(low),
                high=str(high),
            )
        )

    facts = domain_facts(survey.doc, block.inputs)
    Reasoner(expr.text).divisions(expr.tree.body, facts, report)
    return out
