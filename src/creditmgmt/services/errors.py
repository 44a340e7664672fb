"""Refusals of the credit desk: each names the ids and amounts at fault; nothing was written.

Domain refusals (`LimitExceededError`, `SelfApprovalError`, `InvalidTransitionError`, ...)
come from `creditmgmt.domain` unchanged; these are the ones only the desk can see.
"""

from __future__ import annotations

from creditmgmt.domain.errors import CreditMgmtError, DomainError


class DeskError(CreditMgmtError):
    """Base of the refusals the desk adds to the domain's."""

    default_message = "the credit desk refused the call"


class PermissionDeniedError(DeskError, PermissionError):
    """The principal's roles do not allow the call (or the confidentiality level); only an
    audit record of the refusal was written."""

    default_message = "permission denied"


class AuthorityError(DeskError):
    """The approver's authority level is below the level the rule set requires."""

    default_message = "approval above the approver's authority"


class DuplicateCustomerError(DeskError):
    """A customer with the same registration id is already on the books."""

    default_message = "customer already onboarded"


class ConcentrationCapError(DeskError):
    """The call would take an exposure past a concentration cap of the rule set."""

    default_message = "concentration cap exceeded"


class GroupLimitError(DeskError):
    """Member sub-limits would exceed the group limit, or a member belongs to another group."""

    default_message = "group limit rule broken"


class IdempotencyKeyError(DeskError):
    """An idempotency key was reused with different arguments (names key and both)."""

    default_message = "idempotency key reused with other arguments"


class AssessmentError(DomainError):
    """An application cannot be assessed yet: missing statements, file entries or inputs
    (named), or the rule set lacks a block the assessment needs."""

    default_message = "application cannot be assessed"


class NotEligibleError(DeskError):
    """An approval of an application whose assessment has knock-outs (named)."""

    default_message = "application not eligible"
