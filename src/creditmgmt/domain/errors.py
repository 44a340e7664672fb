"""The exception tree. Every error the library raises on purpose is a `CreditMgmtError`.

`DomainError` subclasses carry a default message and are raised when an invariant of the
model would be broken; the operation that raised left the aggregate unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from enum import StrEnum
from typing import TypeVar

_S = TypeVar("_S", bound=StrEnum)


class CreditMgmtError(Exception):
    """Root of every error raised by creditmgmt on purpose."""

    default_message = "credit management error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message if message is not None else self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.default_message


class DomainError(CreditMgmtError):
    """An operation would break an invariant of the domain model; nothing was changed."""

    default_message = "domain rule violated"


class InvalidValueError(DomainError, ValueError):
    """A value object was given a value it cannot hold (names the field and the value)."""

    default_message = "invalid value"


class InvalidMoneyError(InvalidValueError):
    """An amount is not a finite decimal (floats are refused), or a currency code is unknown."""

    default_message = "invalid money amount or currency"


class CurrencyMismatchError(DomainError):
    """Two amounts in different currencies were combined without an explicit FX rate."""

    default_message = "currencies differ"


class NegativeAmountError(DomainError):
    """An amount that must never be negative would become negative."""

    default_message = "amount would be negative"


class InvalidIdentifierError(InvalidValueError):
    """An identifier (customer id, USCC, ...) is malformed."""

    default_message = "invalid identifier"


class InvalidTransitionError(DomainError):
    """A lifecycle transition that the state machine does not allow (terminal states are final)."""

    default_message = "transition not allowed"


def check_transition(
    subject: str, transitions: Mapping[_S, Set[_S]], current: _S, target: _S
) -> None:
    """Refuse a status change its state machine does not allow.

    Raises:
        InvalidTransitionError: `"{subject}: cannot go from {current} to {target}"`.
    """
    if target not in transitions[current]:
        raise InvalidTransitionError(f"{subject}: cannot go from {current.value} to {target.value}")
