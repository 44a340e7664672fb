"""Errors of the rule-set language. All are `PolicyError`, under `CreditMgmtError`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from creditmgmt.domain.errors import CreditMgmtError

if TYPE_CHECKING:
    from creditmgmt.policies.model import Finding


@attrs.frozen
class SourceLocation:
    """Where something is written: file (or source name), 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class PolicyError(CreditMgmtError):
    default_message = "rule set error"


class PolicyLoadError(PolicyError):
    """A document cannot be read: the message starts with file:line:column and says what was
    expected."""

    default_message = "rule set cannot be loaded"

    def __init__(self, message: str, location: SourceLocation | None = None) -> None:
        super().__init__(f"{location}: {message}" if location else message)
        self.location = location


class PolicyCheckError(PolicyError):
    """An `approved` document has error findings; `findings` lists them."""

    def __init__(self, message: str, findings: list[Finding]) -> None:
        super().__init__(message)
        self.findings = findings


class PolicyInputError(PolicyError):
    """Missing, extra or mistyped input; names the input and the block."""

    default_message = "bad input to a rule-set block"


class PolicyEvaluationError(PolicyError):
    """A block could not decide (no match or several under UNIQUE, division by zero ...)."""

    default_message = "rule-set evaluation failed"
