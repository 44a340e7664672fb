"""A credit facility (授信额度): one node of a limit tree, with its status, errors and events.

A `Facility` is a `group` limit (集团统一授信) at the root, a customer master limit under it, or a
product sub-limit under that (a customer without a group has its master limit as root). Each
node keeps its limit, the drawn and reserved amounts rolled up from its subtree, and what was
drawn and reserved on it directly (`own_drawn`, `own_reserved`). Its status moves along
`_TRANSITIONS`; closed, cancelled and expired are terminal. Money moves through
`creditmgmt.domain.facility.limit_tree.LimitTree`, which keeps the tree's invariants.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import attrs
from dateutil.relativedelta import relativedelta

from creditmgmt.domain.errors import (
    CurrencyMismatchError,
    DomainError,
    InvalidTransitionError,
    InvalidValueError,
    NegativeAmountError,
    check_transition,
)
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import (
    CollateralId,
    CustomerId,
    FacilityId,
    GroupId,
    GuaranteeId,
    IdSource,
)
from creditmgmt.domain.money import Money, check_positive
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.text import NOTE_MAX, REF_MAX, check_text, text


# Errors --------------------------------------------------------------------------------------
class FacilityNotActiveError(DomainError):
    """A movement on a node (or under an ancestor) that is not active."""

    default_message = "facility not active"


class TreeStructureError(DomainError):
    """The nodes given do not form a valid tree, or a node the operation needs is missing."""

    default_message = "invalid limit tree"


class FacilityLevel(StrEnum):
    GROUP = "group"
    CUSTOMER = "customer"
    PRODUCT = "product"


class FacilityStatus(StrEnum):
    APPROVED = "approved"
    ACTIVE = "active"
    FROZEN = "frozen"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({FacilityStatus.EXPIRED, FacilityStatus.CLOSED, FacilityStatus.CANCELLED})
_PARENT_LEVEL = {
    FacilityLevel.CUSTOMER: FacilityLevel.GROUP,
    FacilityLevel.PRODUCT: FacilityLevel.CUSTOMER,
}

_TRANSITIONS: dict[FacilityStatus, frozenset[FacilityStatus]] = {
    FacilityStatus.APPROVED: frozenset({FacilityStatus.ACTIVE, FacilityStatus.CANCELLED}),
    FacilityStatus.ACTIVE: frozenset(
        {
            FacilityStatus.FROZEN,
            FacilityStatus.SUSPENDED,
            FacilityStatus.EXPIRED,
            FacilityStatus.CLOSED,
            FacilityStatus.CANCELLED,
        }
    ),
    FacilityStatus.FROZEN: frozenset(
        {
            FacilityStatus.ACTIVE,
            FacilityStatus.EXPIRED,
            FacilityStatus.CLOSED,
            FacilityStatus.CANCELLED,
        }
    ),
    FacilityStatus.SUSPENDED: frozenset(
        {
            FacilityStatus.ACTIVE,
            FacilityStatus.FROZEN,
            FacilityStatus.EXPIRED,
            FacilityStatus.CLOSED,
            FacilityStatus.CANCELLED,
        }
    ),
    FacilityStatus.EXPIRED: frozenset(),
    FacilityStatus.CLOSED: frozenset(),
    FacilityStatus.CANCELLED: frozenset(),
}


# Events --------------------------------------------------------------------------------------
@domain_event
class FacilityOpened(DomainEvent):
    level: FacilityLevel
    parent_id: str | None
    limit: Money


@domain_event
class FacilityActivated(DomainEvent):
    on: date
    limit: Money


@domain_event
class FacilityStatusChanged(DomainEvent):
    previous: FacilityStatus
    status: FacilityStatus
    on: date
    reason: str


@domain_event
class LimitChanged(DomainEvent):
    previous: Money
    limit: Money
    on: date
    reason: str


@domain_event
class FacilityRenewed(DomainEvent):
    previous: date
    maturity: date
    on: date


@domain_event
class DrawdownMade(DomainEvent):
    amount: Money
    on: date
    drawdown_id: str | None


@domain_event
class PrincipalRepaid(DomainEvent):
    amount: Money
    on: date


@domain_event
class AmountReserved(DomainEvent):
    amount: Money
    on: date


@domain_event
class AmountReleased(DomainEvent):
    amount: Money
    on: date


def _non_negative(instance: object, attribute: attrs.Attribute[Money], value: Money) -> None:
    if value.is_negative:
        raise NegativeAmountError(f"{attribute.name} must not be negative, got {value}")


@attrs.define(kw_only=True)
class Facility(Aggregate):
    """One node of a limit tree. Open with `Facility.open(...)`; move money with `LimitTree`."""

    id: FacilityId
    level: FacilityLevel
    parent_id: FacilityId | None = None
    customer_id: CustomerId | None = None
    group_id: GroupId | None = None
    product_type: ProductType | None = None
    revolving: bool = True
    limit: Money = attrs.field(validator=_non_negative)
    start_date: date
    maturity_date: date
    status: FacilityStatus = FacilityStatus.APPROVED
    drawn: Money = attrs.field(validator=_non_negative)
    reserved: Money = attrs.field(validator=_non_negative)
    cumulative_drawn: Money = attrs.field(validator=_non_negative)
    own_drawn: Money = attrs.field(validator=_non_negative)
    own_reserved: Money = attrs.field(validator=_non_negative)
    allow_overbooked_sublimits: bool = False
    collateral_ids: tuple[CollateralId, ...] = ()
    guarantee_ids: tuple[GuaranteeId, ...] = ()
    credit_insurance: str = attrs.field(default="", validator=text(NOTE_MAX))
    ruleset_ref: str | None = attrs.field(default=None, validator=text(REF_MAX, optional=True))

    def __attrs_post_init__(self) -> None:
        for name in ("drawn", "reserved", "cumulative_drawn", "own_drawn", "own_reserved"):
            amount: Money = getattr(self, name)
            if amount.currency != self.limit.currency:
                raise CurrencyMismatchError(
                    f"facility {self.id}: {name} {amount} is not in the limit's currency "
                    f"{self.limit.currency}"
                )
        if self.maturity_date <= self.start_date:
            raise InvalidValueError(
                f"facility {self.id}: maturity {self.maturity_date} must be after start "
                f"{self.start_date}"
            )

    @classmethod
    def open(
        cls,
        ids: IdSource,
        *,
        level: FacilityLevel,
        limit: Money,
        start: date,
        term_months: int,
        parent: Facility | None = None,
        customer_id: CustomerId | None = None,
        group_id: GroupId | None = None,
        product_type: ProductType | None = None,
        revolving: bool | None = None,
        allow_overbooked_sublimits: bool = False,
        ruleset_ref: str | None = None,
    ) -> Facility:
        """A new node in status `approved`. Attach it under its parent with `LimitTree.attach`.

        Maturity is `start + term_months` months (month-end safe: Jan 31 + 1 month = Feb 28/29).

        Raises:
            TreeStructureError: a level without the parent / customer / group it needs.
            InvalidValueError: a non-positive term or a negative limit.
            CurrencyMismatchError: a limit in another currency than the parent's.
        """
        check_positive("term_months", term_months)
        if limit.is_negative:
            raise NegativeAmountError(f"limit must not be negative, got {limit}")
        expected_parent = _PARENT_LEVEL.get(level)
        if level is FacilityLevel.GROUP:
            if parent is not None or group_id is None:
                raise TreeStructureError("a group limit is a root and needs a group_id")
        elif level is FacilityLevel.PRODUCT and (parent is None or product_type is None):
            raise TreeStructureError("a product sub-limit needs a parent and a product_type")
        if parent is not None:
            if parent.level is not expected_parent:
                raise TreeStructureError(
                    f"a {level.value} node cannot sit under {parent.level.value} node {parent.id}"
                )
            if parent.currency != limit.currency:
                raise CurrencyMismatchError(
                    f"limit {limit} differs from the currency of parent {parent.id} "
                    f"({parent.currency})"
                )
            group_id = group_id or parent.group_id
            customer_id = customer_id or parent.customer_id
        if level is not FacilityLevel.GROUP and customer_id is None:
            raise TreeStructureError(f"a {level.value} node needs a customer_id")
        zero = Money.zero(limit.currency)
        node = cls(
            id=FacilityId.new(ids),
            level=level,
            parent_id=None if parent is None else parent.id,
            customer_id=customer_id,
            group_id=group_id,
            product_type=product_type,
            revolving=product_type.revolving_by_default
            if revolving is None and product_type is not None
            else (True if revolving is None else revolving),
            limit=limit,
            start_date=start,
            maturity_date=start + relativedelta(months=term_months),
            drawn=zero,
            reserved=zero,
            cumulative_drawn=zero,
            own_drawn=zero,
            own_reserved=zero,
            allow_overbooked_sublimits=allow_overbooked_sublimits,
            ruleset_ref=ruleset_ref,
        )
        node._record(
            FacilityOpened(
                aggregate_id=str(node.id),
                level=level,
                parent_id=None if parent is None else str(parent.id),
                limit=limit,
            )
        )
        return node

    # derived --------------------------------------------------------------------------------
    @property
    def currency(self) -> str:
        return self.limit.currency

    @property
    def used(self) -> Money:
        """What counts against the limit: drawn (cumulative when non-revolving) + reserved."""
        return (self.drawn if self.revolving else self.cumulative_drawn) + self.reserved

    @property
    def available(self) -> Money:
        """Headroom on this node alone (never negative)."""
        headroom = self.limit - self.used
        return Money.zero(self.currency) if headroom.is_negative else headroom

    @property
    def utilisation(self) -> Money:
        """余额: drawn + reserved."""
        return self.drawn + self.reserved

    @property
    def enforces_children_within_limit(self) -> bool:
        if self.level is FacilityLevel.GROUP:
            return True
        return self.level is FacilityLevel.CUSTOMER and not self.allow_overbooked_sublimits

    def is_within_term(self, on: date) -> bool:
        return self.start_date <= on <= self.maturity_date

    # lifecycle --------------------------------------------------------------------------------
    def _move(self, target: FacilityStatus, on: date, reason: str) -> None:
        check_text(reason, "reason", max_length=NOTE_MAX)
        check_transition(f"facility {self.id}", _TRANSITIONS, self.status, target)
        previous, self.status = self.status, target
        if target is FacilityStatus.ACTIVE and previous is FacilityStatus.APPROVED:
            self._record(FacilityActivated(aggregate_id=str(self.id), on=on, limit=self.limit))
        else:
            self._record(
                FacilityStatusChanged(
                    aggregate_id=str(self.id),
                    previous=previous,
                    status=target,
                    on=on,
                    reason=reason,
                )
            )

    def _back_to_active(self, held: FacilityStatus, on: date, reason: str) -> None:
        """`held` (frozen or suspended) → active; refused from any other status."""
        if self.status is not held:
            raise InvalidTransitionError(
                f"facility {self.id} is {self.status.value}, not {held.value}"
            )
        self._move(FacilityStatus.ACTIVE, on, reason)

    def _end(self, target: FacilityStatus, on: date, reason: str, advice: str) -> None:
        """→ `target` (closed or cancelled) once nothing is drawn or reserved; the refusal
        ends with `advice`."""
        if not self.utilisation.is_zero and not self.status.is_terminal:
            raise InvalidTransitionError(
                f"facility {self.id} still has {self.drawn} drawn and {self.reserved} reserved"
                + advice
            )
        self._move(target, on, reason)

    def activate(self, *, on: date) -> None:
        """approved → active (contract signed, conditions precedent met).

        Raises:
            InvalidTransitionError: not `approved` (use `unfreeze` / `resume` to return to
                active), or `on` is after the maturity date.
        """
        if self.status is not FacilityStatus.APPROVED:
            raise InvalidTransitionError(
                f"facility {self.id} is {self.status.value}; only an approved facility is "
                "activated (unfreeze or resume it instead)"
            )
        if on > self.maturity_date:
            raise InvalidTransitionError(
                f"facility {self.id} matured on {self.maturity_date}; cannot activate on {on}"
            )
        self._move(FacilityStatus.ACTIVE, on, "activated")

    def freeze(self, *, on: date, reason: str) -> None:
        """active/suspended → frozen: no drawdowns here or below (e.g. collections from 31 DPD).

        Raises:
            InvalidTransitionError: not active or suspended.
        """
        self._move(FacilityStatus.FROZEN, on, reason)

    def unfreeze(self, *, on: date, reason: str) -> None:
        """frozen → active.

        Raises:
            InvalidTransitionError: not frozen.
        """
        self._back_to_active(FacilityStatus.FROZEN, on, reason)

    def suspend(self, *, on: date, reason: str) -> None:
        """active → suspended by a risk event.

        Raises:
            InvalidTransitionError: not active.
        """
        self._move(FacilityStatus.SUSPENDED, on, reason)

    def resume(self, *, on: date, reason: str) -> None:
        """suspended → active when the risk event is resolved.

        Raises:
            InvalidTransitionError: not suspended.
        """
        self._back_to_active(FacilityStatus.SUSPENDED, on, reason)

    def expire(self, *, on: date) -> None:
        """Past maturity: no new drawdowns; outstanding amounts run off.

        Raises:
            InvalidTransitionError: before maturity, or not active, frozen or suspended.
        """
        if on < self.maturity_date:
            raise InvalidTransitionError(
                f"facility {self.id} matures on {self.maturity_date}; cannot expire on {on}"
            )
        self._move(FacilityStatus.EXPIRED, on, "matured")

    def close(self, *, on: date, reason: str) -> None:
        """Close a node with nothing drawn or reserved (active, frozen or suspended → closed).

        Raises:
            InvalidTransitionError: when something is still drawn or reserved, or terminal.
        """
        self._end(FacilityStatus.CLOSED, on, reason, "")

    def cancel(self, *, on: date, reason: str) -> None:
        """Withdraw the limit (取消额度): approved, active, frozen or suspended → cancelled.

        Cancelled is terminal and accepts no movement, not even a repayment, so nothing may be
        drawn or reserved when it is cancelled.

        Raises:
            InvalidTransitionError: something is still drawn or reserved, or already terminal.
        """
        self._end(
            FacilityStatus.CANCELLED,
            on,
            reason,
            "; freeze it and let it run off, or close it once repaid",
        )

    def link_collateral(self, collateral_id: CollateralId) -> None:
        if collateral_id not in self.collateral_ids:
            self.collateral_ids = (*self.collateral_ids, collateral_id)

    def unlink_collateral(self, collateral_id: CollateralId) -> None:
        self.collateral_ids = tuple(c for c in self.collateral_ids if c != collateral_id)

    def link_guarantee(self, guarantee_id: GuaranteeId) -> None:
        if guarantee_id not in self.guarantee_ids:
            self.guarantee_ids = (*self.guarantee_ids, guarantee_id)

    def unlink_guarantee(self, guarantee_id: GuaranteeId) -> None:
        self.guarantee_ids = tuple(g for g in self.guarantee_ids if g != guarantee_id)

    def note_credit_insurance(self, note: str) -> None:
        self.credit_insurance = note

    def renew(self, *, maturity: date, on: date) -> None:
        """Extend the term (续期) to a later maturity.

        Raises:
            FacilityNotActiveError: the facility is closed, cancelled or expired.
            InvalidValueError: `maturity` is not after the current maturity and `on`.
        """
        if self.status.is_terminal or self.status is FacilityStatus.EXPIRED:
            raise FacilityNotActiveError(f"facility {self.id} is {self.status.value}")
        if maturity <= self.maturity_date or maturity <= on:
            raise InvalidValueError(
                f"facility {self.id}: new maturity {maturity} must be after the current "
                f"{self.maturity_date} and {on}"
            )
        previous, self.maturity_date = self.maturity_date, maturity
        self._record(
            FacilityRenewed(aggregate_id=str(self.id), previous=previous, maturity=maturity, on=on)
        )
