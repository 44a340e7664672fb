"""Identifiers of aggregates: validated, ordered, language-neutral strings.

Entities never call `uuid` themselves: `CustomerId.new(ids)` takes an `IdSource` (a port,
implemented by adapters and by deterministic sources in tests).
"""

from __future__ import annotations

import re
from typing import ClassVar, Protocol, Self, runtime_checkable

import attrs

from creditmgmt.domain.errors import InvalidIdentifierError

_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")


@runtime_checkable
class IdSource(Protocol):
    """Produces fresh unique tokens (letters, digits, `_-.:`; at most 56 characters)."""

    def next_id(self) -> str: ...


def _check_id(instance: EntityId, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not _ID_PATTERN.fullmatch(value):
        raise InvalidIdentifierError(
            f"{type(instance).__name__} {value!r} is not a valid identifier "
            "(1-64 characters: letters, digits, '_', '-', '.', ':'; starting alphanumeric)"
        )


@attrs.frozen(order=True, repr=False, cache_hash=True)
class EntityId:
    """Base of all identifiers; compare and sort by their string value."""

    prefix: ClassVar[str] = "id"

    value: str = attrs.field(validator=_check_id)

    @classmethod
    def new(cls, ids: IdSource) -> Self:
        """A fresh identifier `<prefix>_<token>` from the given id source."""
        return cls(f"{cls.prefix}_{ids.next_id()}")

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class CustomerId(EntityId):
    prefix = "cus"


class GroupId(EntityId):
    prefix = "grp"


class CreditFileId(EntityId):
    prefix = "cfl"


class FacilityId(EntityId):
    prefix = "fac"


class ApplicationId(EntityId):
    prefix = "app"


class RiskEventId(EntityId):
    prefix = "rsk"


class InteractionId(EntityId):
    prefix = "int"


class TaskId(EntityId):
    prefix = "tsk"


class CollateralId(EntityId):
    prefix = "col"


class GuaranteeId(EntityId):
    prefix = "gua"


class MovementId(EntityId):
    prefix = "mov"


class DrawdownId(EntityId):
    """A drawn loan under a facility (借据)."""

    prefix = "drw"


class ClassificationId(EntityId):
    prefix = "cls"


class UserId(EntityId):
    """A person acting in the institution: relationship manager, maker, approver."""

    prefix = "usr"
