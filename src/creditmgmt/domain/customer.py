"""Customers (客户): legal persons and individuals, their region, segment and status.

Remote customers (异地客户): the institution serves an area given by its administrative
division code (GB/T 2260, six digits). The significant prefix of that code is the code without
trailing "00" pairs ("310000" Shanghai → "31", "330100" Hangzhou → "3301"). A customer is
*remote* when its registration region — or, when given, the region where the funds are used —
does not start with that prefix.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from enum import StrEnum

import attrs
from dateutil.relativedelta import relativedelta
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from creditmgmt.domain.errors import (
    InvalidIdentifierError,
    InvalidTransitionError,
    InvalidValueError,
    check_transition,
)
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import CustomerId, GroupId, IdSource, UserId
from creditmgmt.domain.loan_risk import MonitoringMark
from creditmgmt.domain.pii import mask, masked_repr
from creditmgmt.domain.text import CODE_MAX, NAME_MAX, NOTE_MAX, REF_MAX, check_text, text

_REGION = re.compile(r"^\d{6}$")
_INDUSTRY = re.compile(r"^[A-T](\d{2,4})?$")


class CustomerKind(StrEnum):
    CORPORATE = "corporate"
    SME = "sme"
    INDIVIDUAL = "individual"


class CustomerStatus(StrEnum):
    PROSPECT = "prospect"
    ACTIVE = "active"
    WATCHLIST = "watchlist"
    EXITED = "exited"


class Segment(StrEnum):
    """Tiered management (分层管理): VIP, general, potential, at risk of leaving."""

    VIP = "vip"
    GENERAL = "general"
    POTENTIAL = "potential"
    AT_RISK = "at_risk"


_TRANSITIONS: dict[CustomerStatus, frozenset[CustomerStatus]] = {
    CustomerStatus.PROSPECT: frozenset({CustomerStatus.ACTIVE, CustomerStatus.EXITED}),
    CustomerStatus.ACTIVE: frozenset({CustomerStatus.WATCHLIST, CustomerStatus.EXITED}),
    CustomerStatus.WATCHLIST: frozenset({CustomerStatus.ACTIVE, CustomerStatus.EXITED}),
    CustomerStatus.EXITED: frozenset(),
}


def region_prefix(code: str) -> str:
    """Significant prefix of a six-digit division code ("310000" → "31", "330100" → "3301").

    Raises:
        InvalidValueError: not a six-digit division code.
    """
    check_region(code, "region")
    prefix = code
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return prefix


def check_region(code: object, field: str) -> str:
    """Return `code` when it is a six-digit administrative division code.

    Raises:
        InvalidValueError: naming the field and the value otherwise.
    """
    if not isinstance(code, str) or not _REGION.fullmatch(code):
        raise InvalidValueError(
            f"{field} {code!r} is not a six-digit division code (e.g. '310000')"
        )
    return code


def normalise_uscc(code: str, *, subject: str = "customer") -> str:
    """Validate a unified social credit code (统一社会信用代码) and return its compact form.

    Raises:
        InvalidIdentifierError: naming the subject and the code, masked to its last four
            characters (`creditmgmt.domain.pii.mask`), when it is not valid.
    """
    return _validated(uscc.validate, code, subject, "unified social credit code")


def normalise_national_id(code: str, *, subject: str = "customer") -> str:
    """Validate a resident identity card number (居民身份证号码) and return its compact form.

    Raises:
        InvalidIdentifierError: naming the subject and the number, masked to its last four
            characters (`creditmgmt.domain.pii.mask`), when it is not valid.
    """
    return _validated(ric.validate, code, subject, "resident identity number")


def _validated(validate: Callable[[str], object], code: str, subject: str, what: str) -> str:
    """`validate(code)` (a python-stdnum validator) in compact form, or the masked refusal."""
    try:
        return str(validate(code))
    except ValidationError as e:
        raise InvalidIdentifierError(
            f"{subject}: {masked_repr(code)} is not a valid {what} ({e})"
        ) from None


def _legal_name(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError("legal_name must be a non-empty string")
    return check_text(value.strip(), "Customer.legal_name", max_length=NAME_MAX)


# Events --------------------------------------------------------------------------------------
@domain_event
class CustomerOnboarded(DomainEvent):
    kind: CustomerKind
    legal_name: str
    is_remote: bool


@domain_event
class CustomerStatusChanged(DomainEvent):
    previous: CustomerStatus
    status: CustomerStatus
    on: date
    reason: str


@domain_event
class CustomerGroupMembershipChanged(DomainEvent):
    previous_group: str | None
    group: str | None


@domain_event
class SegmentChanged(DomainEvent):
    previous: Segment
    segment: Segment


@domain_event
class RelationshipManagerChanged(DomainEvent):
    previous: str | None
    manager: str | None


@domain_event
class CustomerRated(DomainEvent):
    grade: str
    on: date
    previous_grade: str | None


@attrs.frozen(kw_only=True)
class GradeHeld:
    """A grade the customer held from `on` until its next rating."""

    grade: str = attrs.field(validator=text(CODE_MAX))
    on: date


@attrs.frozen(kw_only=True)
class CustomerRating:
    """The customer's internal rating as last approved (内部评级) — the anchor of periodic
    reviews (定期审查): the next one is due `review_frequency(grade)` months after
    `rated_on` — and the grades held in the year before it, newest first (`earlier`), for
    the rating-move early warning."""

    grade: str = attrs.field(validator=text(CODE_MAX))
    rated_on: date
    earlier: tuple[GradeHeld, ...] = ()

    def review_due(self, months: int) -> date:
        """The date the next periodic review falls due, `months` after the rating."""
        return self.rated_on + relativedelta(months=months)

    def grades_since(self, start: date) -> list[str]:
        """The grades held at any time from `start` on, the current one first."""
        return [self.grade, *(g.grade for g in _held_after(self.earlier, self.rated_on, start))]


def _held_after(history: Iterable[GradeHeld], until: date, start: date) -> list[GradeHeld]:
    """The grades of `history` (newest first, the newest held until `until`, each earlier one
    until the next rating) that were still held after `start`."""
    held: list[GradeHeld] = []
    for past in history:
        if until <= start:
            break
        held.append(past)
        until = past.on
    return held


@attrs.define(kw_only=True)
class Customer(Aggregate):
    """A credit customer. Build with `Customer.onboard(...)`. Its repr shows the registration
    id masked to its last four characters (`creditmgmt.domain.pii.mask`).

    Raises (from its operations):
        InvalidIdentifierError: malformed registration or national id.
        InvalidValueError: malformed name, region or industry code.
        InvalidTransitionError: a status change the lifecycle does not allow.
    """

    id: CustomerId
    kind: CustomerKind
    legal_name: str = attrs.field(validator=text(NAME_MAX))
    registration_id: str | None = attrs.field(
        validator=text(REF_MAX, optional=True), repr=lambda v: repr(mask(v))
    )
    home_region: str = attrs.field(validator=text(CODE_MAX))
    institution_region: str = attrs.field(validator=text(CODE_MAX))
    funds_used_region: str | None = attrs.field(
        default=None, validator=text(CODE_MAX, optional=True)
    )
    industry_code: str = attrs.field(validator=text(CODE_MAX))
    segment: Segment = Segment.GENERAL
    relationship_manager: UserId | None = None
    status: CustomerStatus = CustomerStatus.PROSPECT
    group_id: GroupId | None = None
    relationship_since: date | None = None
    identity_verified_on: date | None = None
    #: the daily run's last conclusion about the customer as a whole (see `domain.loan_risk`)
    monitoring: MonitoringMark | None = None
    #: the internal rating last approved (None: never rated)
    rating: CustomerRating | None = None

    def rate(self, grade: str, *, on: date) -> None:
        """Keep an approved rating (an approval's assessment, or a periodic review's
        re-rating) as the customer's current one; the grades of the year before stay.

        Raises:
            InvalidValueError: a malformed grade, or `on` before the current rating's date.
        """
        previous = self.rating
        earlier: list[GradeHeld] = []
        if previous is not None:
            if on < previous.rated_on:
                raise InvalidValueError(
                    f"customer {self.id}: rating on {on} is before the current rating of "
                    f"{previous.rated_on}"
                )
            current = GradeHeld(grade=previous.grade, on=previous.rated_on)
            earlier = _held_after((current, *previous.earlier), on, on - relativedelta(years=1))
        self.rating = CustomerRating(grade=grade, rated_on=on, earlier=tuple(earlier))
        self._record(
            CustomerRated(
                aggregate_id=str(self.id),
                grade=grade,
                on=on,
                previous_grade=None if previous is None else previous.grade,
            )
        )

    def note_monitoring(self, mark: MonitoringMark) -> None:
        """Keep the daily run's conclusion about the customer (derived state: no event)."""
        self.monitoring = mark

    @classmethod
    def onboard(
        cls,
        ids: IdSource,
        *,
        kind: CustomerKind,
        legal_name: str,
        registration_id: str | None,
        home_region: str,
        institution_region: str,
        industry_code: str,
        funds_used_region: str | None = None,
        segment: Segment = Segment.GENERAL,
        relationship_manager: UserId | None = None,
        relationship_since: date | None = None,
    ) -> Customer:
        """A new prospect. Corporate and SME customers need a valid USCC; individuals may give a
        resident identity number.

        Raises:
            InvalidIdentifierError: missing or invalid registration id (names the customer).
            InvalidValueError: empty name, bad region or industry code.
        """
        name = _legal_name(legal_name)
        check_region(home_region, "home_region")
        check_region(institution_region, "institution_region")
        if funds_used_region is not None:
            check_region(funds_used_region, "funds_used_region")
        if not isinstance(industry_code, str) or not _INDUSTRY.fullmatch(industry_code):
            raise InvalidValueError(
                f"industry_code {industry_code!r} is not a GB/T 4754 code (e.g. 'C3011')"
            )
        if kind is CustomerKind.INDIVIDUAL:
            reg = (
                normalise_national_id(registration_id, subject=name)
                if registration_id is not None
                else None
            )
        else:
            if not registration_id:
                raise InvalidIdentifierError(
                    f"{name}: a {kind.value} customer needs a unified social credit code"
                )
            reg = normalise_uscc(registration_id, subject=name)
        customer = cls(
            id=CustomerId.new(ids),
            kind=kind,
            legal_name=name,
            registration_id=reg,
            home_region=home_region,
            institution_region=institution_region,
            funds_used_region=funds_used_region,
            industry_code=industry_code,
            segment=segment,
            relationship_manager=relationship_manager,
            relationship_since=relationship_since,
        )
        customer._record(
            CustomerOnboarded(
                aggregate_id=str(customer.id),
                kind=kind,
                legal_name=name,
                is_remote=customer.is_remote,
            )
        )
        return customer

    # derived ------------------------------------------------------------------------------
    @property
    def is_remote(self) -> bool:
        """异地: registered, or funds used, outside the institution's area (see module doc)."""
        area = region_prefix(self.institution_region)
        regions = [self.home_region]
        if self.funds_used_region is not None:
            regions.append(self.funds_used_region)
        return any(not r.startswith(area) for r in regions)

    @property
    def is_legal_person(self) -> bool:
        return self.kind is not CustomerKind.INDIVIDUAL

    def relationship_years(self, as_of: date) -> int:
        """Whole years since the relationship started (0 when unknown or in the future)."""
        if self.relationship_since is None or as_of <= self.relationship_since:
            return 0
        return relativedelta(as_of, self.relationship_since).years

    # lifecycle ----------------------------------------------------------------------------
    def _move(self, target: CustomerStatus, on: date, reason: str) -> None:
        check_text(reason, "reason", max_length=NOTE_MAX)
        check_transition(f"customer {self.id}", _TRANSITIONS, self.status, target)
        previous, self.status = self.status, target
        self._record(
            CustomerStatusChanged(
                aggregate_id=str(self.id), previous=previous, status=target, on=on, reason=reason
            )
        )

    def activate(self, *, on: date, reason: str = "") -> None:
        """prospect → active (also watchlist → active when the concern is cleared).

        Raises:
            InvalidTransitionError: active already, or exited.
        """
        if self.relationship_since is None and self.status is CustomerStatus.PROSPECT:
            self._move(CustomerStatus.ACTIVE, on, reason)
            self.relationship_since = on
            return
        self._move(CustomerStatus.ACTIVE, on, reason)

    def watchlist(self, *, on: date, reason: str) -> None:
        """active → watchlist (重点关注).

        Raises:
            InvalidTransitionError: not active.
        """
        self._move(CustomerStatus.WATCHLIST, on, reason)

    def exit(self, *, on: date, reason: str) -> None:
        """Any non-terminal status → exited (terminal).

        Raises:
            InvalidTransitionError: exited already.
        """
        self._move(CustomerStatus.EXITED, on, reason)

    def _ensure_open(self, action: str) -> None:
        if self.status is CustomerStatus.EXITED:
            raise InvalidTransitionError(f"customer {self.id} has exited: cannot {action}")

    def join_group(self, group_id: GroupId) -> None:
        """Record membership of a group (集团); a customer belongs to at most one group.

        Raises:
            InvalidTransitionError: already in another group, or exited.
        """
        self._ensure_open("join a group")
        if self.group_id == group_id:
            return
        if self.group_id is not None:
            raise InvalidTransitionError(
                f"customer {self.id} already belongs to group {self.group_id}; leave it first"
            )
        self.group_id = group_id
        self._record(
            CustomerGroupMembershipChanged(
                aggregate_id=str(self.id), previous_group=None, group=str(group_id)
            )
        )

    def leave_group(self) -> None:
        if self.group_id is None:
            return
        previous, self.group_id = self.group_id, None
        self._record(
            CustomerGroupMembershipChanged(
                aggregate_id=str(self.id), previous_group=str(previous), group=None
            )
        )

    def change_segment(self, segment: Segment) -> None:
        """Move the customer to another tier (分层).

        Raises:
            InvalidTransitionError: the customer has exited.
        """
        self._ensure_open("change segment")
        if segment is self.segment:
            return
        previous, self.segment = self.segment, segment
        self._record(SegmentChanged(aggregate_id=str(self.id), previous=previous, segment=segment))

    def assign_manager(self, manager: UserId | None) -> None:
        """Assign (or with None, unassign) the relationship manager.

        Raises:
            InvalidTransitionError: the customer has exited.
        """
        self._ensure_open("assign a relationship manager")
        if manager == self.relationship_manager:
            return
        previous, self.relationship_manager = self.relationship_manager, manager
        self._record(
            RelationshipManagerChanged(
                aggregate_id=str(self.id),
                previous=None if previous is None else str(previous),
                manager=None if manager is None else str(manager),
            )
        )

    def verify_identity(self, *, on: date) -> None:
        """Record the (remote-customer) identity verification (身份核实) date.

        Raises:
            InvalidTransitionError: the customer has exited.
        """
        self._ensure_open("verify identity")
        self.identity_verified_on = on

    def move_funds_use(self, region: str | None) -> None:
        """Record where the funds are used (None: where the customer is registered).

        Raises:
            InvalidValueError: not a six-digit division code.
            InvalidTransitionError: the customer has exited.
        """
        self._ensure_open("change the region of use of funds")
        if region is not None:
            check_region(region, "funds_used_region")
        self.funds_used_region = region
