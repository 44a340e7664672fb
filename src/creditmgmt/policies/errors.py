"""Errors of the rule-set language. All are `PolicyError`, under `CreditMgmtError`."""

from __future__ import annotations

from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.policies.base import Finding, SourceLocation
from creditmgmt.policies.messages import Text

__all__ = [
    "PolicyCheckError",
    "PolicyError",
    "PolicyEvaluationError",
    "PolicyInputError",
    "PolicyLoadError",
    "SourceLocation",
]


class PolicyError(CreditMgmtError):
    default_message = "rule set error"

    #: what went wrong as a catalogue message (`messages.Text`) where the raiser gave one, so
    #: a finding made from the error can say it in another language
    text: Text | None = None


class PolicyLoadError(PolicyError):
    """A document cannot be read: the message starts with file:line:column and says what was
    expected."""

    default_message = "rule set cannot be loaded"

    def __init__(self, message: str | Text, location: SourceLocation | None = None) -> None:
        if isinstance(message, Text):
            self.text = message
        super().__init__(f"{location}: {message}" if location else str(message))
        self.location = location


class PolicyCheckError(PolicyError):
    """An `approved` document has error findings; `findings` lists them."""

    def __init__(self, message: str, findings: list[Finding]) -> None:
        super().__init__(message)
        self.findings = findings


class PolicyInputError(PolicyError):
    """Missing, extra or mistyped input; names the input and the block."""

    default_message = "bad input to a rule-set block"

    def __init__(self, message: str | None = None, *, reason: Text | None = None) -> None:
        super().__init__(message)
        self.text = reason


class PolicyEvaluationError(PolicyError):
    """A block could not decide (no match or several under UNIQUE, division by zero ...)."""

    default_message = "rule-set evaluation failed"
