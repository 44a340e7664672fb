"""Risk events and early warnings (风险事件 / 预警).

open → acknowledged → resolved | escalated; escalated → resolved. resolved is terminal. A red
event must be reviewed within 5 business days (Mon–Fri) of its business date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum
from types import EllipsisType

import attrs

from creditmgmt.domain.errors import InvalidTransitionError, InvalidValueError, check_transition
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import CustomerId, FacilityId, IdSource, RiskEventId, UserId
from creditmgmt.domain.text import NOTE_MAX, REF_MAX, check_text, text


class Severity(StrEnum):
    YELLOW = "yellow"
    RED = "red"


class RiskEventStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"


_R = RiskEventStatus
_TRANSITIONS: dict[RiskEventStatus, frozenset[RiskEventStatus]] = {
    _R.OPEN: frozenset({_R.ACKNOWLEDGED}),
    _R.ACKNOWLEDGED: frozenset({_R.RESOLVED, _R.ESCALATED}),
    _R.ESCALATED: frozenset({_R.RESOLVED}),
    _R.RESOLVED: frozenset(),
}

RED_REVIEW_BUSINESS_DAYS = 5


def add_business_days(start: date, days: int) -> date:
    """`start` plus `days` business days (Monday to Friday; holidays are the host's calendar)."""
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


@attrs.frozen(kw_only=True)
class HandlingNote:
    at: datetime
    by: UserId
    note: str = attrs.field(validator=text(NOTE_MAX))


@domain_event
class RiskEventRaised(DomainEvent):
    customer_id: str
    facility_id: str | None
    type: str
    severity: Severity
    rule_ref: str


@domain_event
class RiskEventStatusChanged(DomainEvent):
    previous: RiskEventStatus
    status: RiskEventStatus
    by: str
    at: datetime


@attrs.define(kw_only=True)
class RiskEvent(Aggregate):
    """A warning signal about a customer (and possibly one facility). Raise with `raise_`."""

    id: RiskEventId
    type: str = attrs.field(validator=text(REF_MAX))  # the trigger id, e.g. "EW-R-DPD"
    severity: Severity
    customer_id: CustomerId
    facility_id: FacilityId | None = None
    detected_at: datetime
    business_date: date
    # ruleset_ref + rule id, e.g. "cn-2023@1.0.0#ab12cd34ef56/EW-R-DPD"
    rule_ref: str = attrs.field(validator=text(REF_MAX))
    reason_code: str = attrs.field(validator=text(REF_MAX))
    status: RiskEventStatus = RiskEventStatus.OPEN
    review_due: date | None = None
    notes: tuple[HandlingNote, ...] = ()

    @classmethod
    def raise_(
        cls,
        ids: IdSource,
        *,
        type: str,
        severity: Severity,
        customer_id: CustomerId,
        detected_at: datetime,
        business_date: date,
        rule_ref: str,
        reason_code: str,
        facility_id: FacilityId | None = None,
        review_due: date | EllipsisType | None = ...,
    ) -> RiskEvent:
        """A new open event. `review_due` is the date a review is due by (None: no review);
        left out, red events get one 5 weekdays after the business date and others none —
        the desk passes the date its rule set's response and business calendar give.

        Raises:
            InvalidValueError: a naive `detected_at` or an empty type.
        """
        if detected_at.tzinfo is None:
            raise InvalidValueError("detected_at must be timezone-aware")
        if not type:
            raise InvalidValueError("a risk event needs a type")
        event = cls(
            id=RiskEventId.new(ids),
            type=type,
            severity=severity,
            customer_id=customer_id,
            facility_id=facility_id,
            detected_at=detected_at,
            business_date=business_date,
            rule_ref=rule_ref,
            reason_code=reason_code,
            review_due=(
                add_business_days(business_date, RED_REVIEW_BUSINESS_DAYS)
                if severity is Severity.RED
                else None
            )
            if review_due is ...
            else review_due,
        )
        event._record(
            RiskEventRaised(
                aggregate_id=str(event.id),
                customer_id=str(customer_id),
                facility_id=None if facility_id is None else str(facility_id),
                type=type,
                severity=severity,
                rule_ref=rule_ref,
            )
        )
        return event

    def _move(self, target: RiskEventStatus, by: UserId, at: datetime, note: str) -> None:
        check_text(note, "note", max_length=NOTE_MAX)
        check_transition(f"risk event {self.id}", _TRANSITIONS, self.status, target)
        previous, self.status = self.status, target
        if note:
            self.notes = (*self.notes, HandlingNote(at=at, by=by, note=note))
        self._record(
            RiskEventStatusChanged(
                aggregate_id=str(self.id), previous=previous, status=target, by=str(by), at=at
            )
        )

    def acknowledge(self, *, by: UserId, at: datetime, note: str = "") -> None:
        """open → acknowledged.

        Raises:
            InvalidTransitionError: not open.
        """
        self._move(_R.ACKNOWLEDGED, by, at, note)

    def escalate(self, *, by: UserId, at: datetime, note: str) -> None:
        """acknowledged → escalated (to special assets, the credit committee ...).

        Raises:
            InvalidTransitionError: not acknowledged.
        """
        self._move(_R.ESCALATED, by, at, note)

    def resolve(self, *, by: UserId, at: datetime, note: str) -> None:
        """acknowledged or escalated → resolved (terminal).

        Raises:
            InvalidTransitionError: open or resolved.
        """
        self._move(_R.RESOLVED, by, at, note)

    def add_note(self, *, by: UserId, at: datetime, note: str) -> None:
        """Add a handling note without changing the status.

        Raises:
            InvalidTransitionError: the event is resolved.
        """
        if self.status is _R.RESOLVED:
            raise InvalidTransitionError(f"risk event {self.id} is resolved")
        self.notes = (*self.notes, HandlingNote(at=at, by=by, note=note))

    def is_review_overdue(self, as_of: date) -> bool:
        if self.review_due is None or self.status is _R.RESOLVED:
            return False
        return as_of > self.review_due
