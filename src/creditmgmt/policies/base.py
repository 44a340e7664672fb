"""The values every stage of the rule-set pipeline shares, importing none of them.

`SourceLocation` (where something is written), `Finding` (what a check found, with its
severity: error | warning | info) and `TRIGGER_SEVERITIES` (what a trigger may declare).
Errors, cells, formulas, the parsed model, the checks and the evaluator all read these; this
module reads none of them (only the message catalogue, `messages`, which reads nothing), so
no import circle can pass through it.
"""

from __future__ import annotations

import attrs

from creditmgmt.policies.messages import Text

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
    """One problem found by `RuleSet.check()`: severity error | warning | info.

    The message is kept as data — a catalogue key and its values (`body`, then any `notes`)
    — and rendered when shown: `message` in English, `message_in("zh")` in Chinese (see
    `messages`)."""

    severity: str
    code: str
    body: Text
    block: str | None = None
    rule: str | None = None
    location: SourceLocation | None = None
    #: parts that follow the body (`(and 3 more gap regions)`)
    notes: tuple[Text, ...] = ()

    @property
    def message(self) -> str:
        """The message in English."""
        return self.message_in("en")

    def message_in(self, lang: str) -> str:
        """The message in `lang` (`en` or `zh`)."""
        return "".join(t.render(lang) for t in (self.body, *self.notes))

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f"[{self.block}{'/' + self.rule if self.rule else ''}] " if self.block else ""
        return f"{where}{self.severity} {self.code}: {what}{self.message}"
