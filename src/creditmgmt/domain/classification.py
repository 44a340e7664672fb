"""Five-category loan classification (五级分类), IFRS 9 stages, and the classification history.

Categories are ordered from best to worst; `worse_of` implements "worst applicable floor wins".
A `ClassificationEntry` is one dated decision for one exposure and names the rule-set version
(`ruleset_ref`) that produced it, so any past classification can be replayed.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum, StrEnum

import attrs

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import (
    ClassificationId,
    CustomerId,
    DrawdownId,
    FacilityId,
    IdSource,
    UserId,
)
from creditmgmt.domain.money import Money
from creditmgmt.domain.text import NOTE_MAX, REF_MAX, text


class Category(StrEnum):
    """正常 normal / 关注 special mention / 次级 substandard / 可疑 doubtful / 损失 loss."""

    NORMAL = "normal"
    SPECIAL_MENTION = "special_mention"
    SUBSTANDARD = "substandard"
    DOUBTFUL = "doubtful"
    LOSS = "loss"

    @property
    def rank(self) -> int:
        """0 for normal … 4 for loss."""
        return _RANK[self]

    @property
    def is_npl(self) -> bool:
        """Substandard, doubtful and loss are non-performing (不良)."""
        return self.rank >= 2

    def worse_of(self, other: Category) -> Category:
        return self if self.rank >= other.rank else other

    @classmethod
    def worst(cls, *categories: Category) -> Category:
        """The worst of the given categories (normal when none is given)."""
        result = cls.NORMAL
        for c in categories:
            result = result.worse_of(c)
        return result


_RANK = {c: i for i, c in enumerate(Category)}


class Stage(IntEnum):
    """IFRS 9 impairment stage."""

    PERFORMING = 1
    UNDERPERFORMING = 2
    CREDIT_IMPAIRED = 3


@domain_event
class ClassificationChanged(DomainEvent):
    exposure_id: str
    as_of: date
    previous: Category | None
    category: Category
    ruleset_ref: str


def _non_negative_dpd(_i: object, _a: object, value: int) -> None:
    if value < 0:
        raise InvalidValueError(f"dpd must be >= 0, got {value}")


@attrs.define(kw_only=True)
class ClassificationEntry(Aggregate):
    """One classification decision for one exposure (a facility or a drawdown) as of a date."""

    id: ClassificationId
    customer_id: CustomerId
    facility_id: FacilityId
    drawdown_id: DrawdownId | None = None
    as_of: date
    category: Category
    previous_category: Category | None = None
    stage: Stage = Stage.PERFORMING
    dpd: int = attrs.field(default=0, validator=_non_negative_dpd)
    provision: Money | None = None
    ruleset_ref: str = attrs.field(validator=text(REF_MAX))
    reason: str = attrs.field(default="", validator=text(NOTE_MAX))
    decided_by: UserId | None = None  # None: the system (daily run)

    @classmethod
    def decide(
        cls,
        ids: IdSource,
        *,
        customer_id: CustomerId,
        facility_id: FacilityId,
        as_of: date,
        category: Category,
        ruleset_ref: str,
        previous_category: Category | None = None,
        drawdown_id: DrawdownId | None = None,
        stage: Stage = Stage.PERFORMING,
        dpd: int = 0,
        provision: Money | None = None,
        reason: str = "",
        decided_by: UserId | None = None,
    ) -> ClassificationEntry:
        """Record a classification; a `ClassificationChanged` event when the category moved.

        Raises:
            InvalidValueError: for a negative dpd or a negative provision.
        """
        if provision is not None and provision.is_negative:
            raise InvalidValueError(f"provision must not be negative, got {provision}")
        entry = cls(
            id=ClassificationId.new(ids),
            customer_id=customer_id,
            facility_id=facility_id,
            drawdown_id=drawdown_id,
            as_of=as_of,
            category=category,
            previous_category=previous_category,
            stage=stage,
            dpd=dpd,
            provision=provision,
            ruleset_ref=ruleset_ref,
            reason=reason,
            decided_by=decided_by,
        )
        if previous_category != category:
            exposure = str(drawdown_id) if drawdown_id is not None else str(facility_id)
            entry._record(
                ClassificationChanged(
                    aggregate_id=str(entry.id),
                    exposure_id=exposure,
                    as_of=as_of,
                    previous=previous_category,
                    category=category,
                    ruleset_ref=ruleset_ref,
                )
            )
        return entry
