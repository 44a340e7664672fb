"""Static checks of a rule-set document: `check_document(doc) -> list[Finding]`.

Nothing here evaluates a rule on data. The checks reason about the written cells, bands,
steps and expressions, and report every problem as a `Finding` with a severity, a stable code
(see `FINDING_CODES` and `FINDING_SEVERITIES`, both read from the message catalogue
`policies.messages`), the block and row it concerns and the source
location of that row (or of the block when the problem belongs to no single row).

One room per kind of problem, each a function `(survey) -> list[Finding]` (`ROOMS` lists them
in the order they run, with the codes each reports):

- `divisions`: division guards — a division by an input that may be 0;
- `types_and_inputs`: declared inputs, cells, outputs and expressions of the wrong type,
  undeclared inputs and enum values, inputs listed but never read, inputs no block uses;
- `scales`: master-scale grades (count, order, contiguity) and threshold-ladder step order;
- `shadowing`: duplicate rows, then rows and bins that can never decide;
- `coverage`: gaps and overlaps of tables, scorecards, matrices, scales and ladders;
- `triggers`: triggers that can never fire.

They share a `Survey` of the document (`survey`): a table is cut along its inputs and walked
once (`geometry`), however many rooms read it. Gaps and overlaps are found geometrically: each
input of a table is cut at every boundary a cell names (numbers and dates become elementary
intervals, enum inputs their declared values, booleans true/false, nullable inputs one more
"missing" value), and the product of those pieces is walked. The walk splits one input at a
time and, at each step, only at the boundaries of the rows still in play, so a row that
survives alone is not cut further and a region no row reaches is reported whole. A structured
3,000-row table checks in tens of milliseconds; a table whose rows overlap everywhere stops at
WALK_BUDGET regions with a `check-incomplete` finding instead of running on.

Regions are reported in the policy's own terms, e.g. ``dpd in [91..120), grade = "BB"``:
integer and date inputs as half-open ranges of whole values (``[91..120)``, ``= 91``),
decimals with their written bounds (``(0.05..0.10]``), enums as ``= "A"`` or
``in {"A", "B"}``, nullable inputs as ``missing``. An input left out of a region may take any
value.

Triggers and formulas are read by interval reasoning (`reasoning`): comparisons of one input
with constants, combined with and/or/not/if-else, narrow what each input may be (from its
declared min/max, whole numbers for int, declared values for enums). A trigger is reported
when no input can make it true; a division `x / d` by an input is reported unless `d`'s
domain, or the conditions on the way to the division (`... if d > 0 else ...`,
`d != 0 and ...`), exclude 0. Conditions the reasoning cannot read (a `let`, a lookup)
count as "may be true", so a trigger is never reported dead wrongly, while a guard written
that way is not seen (declare `min` or guard inline).

Severities: an `error` is a defect that makes some input fail or decide ambiguously, or that
breaks a rule of the language (an `approved` document with an error does not load); a
`warning` is dead or suspicious policy that still evaluates; `info` is advice.
"""

from __future__ import annotations

from collections.abc import Callable

from creditmgmt.policies import model as m
from creditmgmt.policies.base import Finding, SourceLocation
from creditmgmt.policies.checks.coverage import check_coverage
from creditmgmt.policies.checks.divisions import check_divisions
from creditmgmt.policies.checks.geometry import MAX_MERGED_BOXES, MAX_REGION_FINDINGS
from creditmgmt.policies.checks.scales import MIN_NON_DEFAULT_GRADES, check_scales
from creditmgmt.policies.checks.shadowing import check_duplicates, check_shadowing
from creditmgmt.policies.checks.survey import Survey
from creditmgmt.policies.checks.triggers import check_triggers
from creditmgmt.policies.checks.types_and_inputs import check_types_and_inputs
from creditmgmt.policies.messages import CODES, Text, Value, code_of

__all__ = [
    "FINDING_CODES",
    "FINDING_SEVERITIES",
    "MAX_MERGED_BOXES",
    "MAX_REGION_FINDINGS",
    "MIN_NON_DEFAULT_GRADES",
    "ROOMS",
    "WALK_BUDGET",
    "check_document",
]

#: Every finding code with a one-line explanation (documentation and CLI help show these).
#: The codes, their severities and the words of every message are kept in one catalogue,
#: `policies.messages`: a check makes a finding from a message key (`gap.no-rule`), whose
#: prefix is its code.
FINDING_CODES: dict[str, str] = {code: c.meaning for code, c in CODES.items()}

#: The severity of each code: error (blocks `approved`), warning or info.
FINDING_SEVERITIES: dict[str, str] = {code: c.severity for code, c in CODES.items()}

#: Walk budget (nodes) per table; beyond it a `check-incomplete` finding is given. Read when
#: `check_document` runs.
WALK_BUDGET = 150_000


def _finding(
    key: str,
    block: str | None = None,
    rule: str | None = None,
    location: SourceLocation | None = None,
    /,
    **values: Value,
) -> Finding:
    """The finding of message `key` (its code is the key's prefix, with that code's
    severity) with `values`; the rooms make theirs through the survey."""
    code = code_of(key)
    return Finding(FINDING_SEVERITIES[code], code, Text.of(key, **values), block, rule, location)


#: The rooms of the checks in the order they run, each with the codes it reports. (Findings
#: are sorted by position; at one position they keep this order.)
def check_formula_errors(survey: Survey) -> list[Finding]:
    """`formula-error`: each formula a lenient load could not compile (see
    `loader.read_document`), at its file:line:column, with the compiler's message. The other
    rooms' findings about such a block are left out: its stand-in expressions say nothing
    about the policy."""
    return [
        survey.finding(e.text.key, block, None, e.location, **e.text.values)
        if e.text is not None and code_of(e.text.key) == "formula-error"
        else survey.finding("formula-error.other", block, None, e.location, detail=str(e))
        for block, errors in survey.doc.formula_errors.items()
        for e in errors
    ]


ROOMS: tuple[tuple[Callable[[Survey], list[Finding]], tuple[str, ...]], ...] = (
    (check_formula_errors, ("formula-error",)),
    (check_divisions, ("division-by-zero",)),
    (
        check_types_and_inputs,
        (
            "bad-domain",
            "type-error",
            "unknown-input",
            "unknown-value",
            "unconstrained-input",
            "unused-input",
        ),
    ),
    (
        check_scales,
        (
            "scale-too-few-grades",
            "duplicate-grade",
            "scale-not-monotone",
            "scale-not-contiguous",
            "ladder-not-ordered",
            "overlap",
        ),
    ),
    (check_duplicates, ("duplicate-row", "conflicting-duplicate")),
    (
        check_coverage,
        ("gap", "overlap", "check-incomplete", "unreachable-step", "empty-cell"),
    ),
    (check_shadowing, ("shadowed-row", "bin-overlap")),
    (check_triggers, ("trigger-never-fires",)),
)


def check_document(doc: m.RuleSetDocument) -> list[Finding]:
    """Every finding of the static checks, in document order (by line).

    Never raises for a document the loader accepted; a hand-built document that names
    undeclared inputs gets `unknown-input` findings instead of an exception.
    """
    survey = Survey(doc, _finding, WALK_BUDGET)
    broken = doc.formula_errors
    findings = [
        f
        for room, _codes in ROOMS
        for f in room(survey)
        if f.code == "formula-error" or f.block not in broken
    ]
    order = {id(f): i for i, f in enumerate(findings)}

    def position(f: Finding) -> tuple[int, str, int, int, int]:
        loc = f.location
        if loc is None:
            return (2, "", 0, 0, order[id(f)])
        # the document first, then imported CSV tables, each by line
        return (0 if loc.file == doc.source else 1, loc.file, loc.line, loc.column, order[id(f)])

    return sorted(findings, key=position)
