"""Choices from a fixed set: an enum member given as itself or as its value.

Host code passes codes as text (`kind="sme"`, `section="covenants"`); `member` turns them
into the enum the domain works with, and refuses anything else with `InvalidValueError`
naming the field, the value and the choices — never Python's bare `ValueError`.
"""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

from creditmgmt.domain.errors import InvalidValueError

E = TypeVar("E", bound=Enum)


def member(kind: type[E], value: object, field: str) -> E:
    """`value` as a member of `kind`: a member itself, or a member's value.

    Raises:
        InvalidValueError: no member of `kind` has that value (names `field` and the choices).
    """
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except (ValueError, TypeError):
        choices = ", ".join(
            m.value if isinstance(m.value, str) else f"{m.value} ({m.name.lower()})" for m in kind
        )
        raise InvalidValueError(f"{field} must be one of {choices}; got {value!r}") from None


__all__ = ["member"]
