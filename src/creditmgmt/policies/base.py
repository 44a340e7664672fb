"""The values every stage of the rule-set pipeline shares, importing none of them.

`SourceLocation` (where something is written), `Finding` (what a check found, with its
severity: error | warning | info) and `TRIGGER_SEVERITIES` (what a trigger may declare).
Errors, cells, formulas, the parsed model, the checks and the evaluator all read these; this
module reads none of them, so no import circle can pass through it.
"""

from __future__ import annotations

import attrs

#: The severities a trigger may declare, from the mildest to the worst.
TRIGGER_SEVERITIES = ("info", "yellow", "red")


@attrs.frozen
class SourceLocation:
    """Where something is written: file (or source name), 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@attrs.frozen
class Finding:
    """One problem found by `RuleSet.check()`: severity error | warning | info."""

    severity: str
    code: str
    message: str
    block: str | None = None
    rule: str | None = None
    location: SourceLocation | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f"[{self.block}{'/' + self.rule if self.rule else ''}] " if self.block else ""
        return f"{where}{self.severity} {self.code}: {what}{self.message}"
