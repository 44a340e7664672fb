"""Facilities outside the application path: taking over an existing book's limits
(`open_limit`, admin only), status changes, and the read models of the limit tree."""

from __future__ import annotations

from datetime import date

import attrs

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.facility import (
    Facility,
    FacilityLevel,
    FacilityStatus,
    LimitTree,
    TreeStructureError,
)
from creditmgmt.domain.ids import CustomerId, FacilityId, GroupId
from creditmgmt.domain.money import Money
from creditmgmt.domain.products import ProductType
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.context import Context
from creditmgmt.services.core import Call
from creditmgmt.services.exposure import exposure_of, group_root


def open_group_limit(
    ctx: Context, group_id: GroupId, *, limit: Money, start: date, term_months: int
) -> Facility:
    """A group's limit (统一授信额度), the root of its tree, active from `start`.

    Raises:
        InvalidValueError / CurrencyMismatchError: a bad limit or term.
    """
    root = Facility.open(
        ctx.ids,
        level=FacilityLevel.GROUP,
        limit=limit,
        start=start,
        term_months=term_months,
        group_id=group_id,
    )
    root.activate(on=start)
    return root


def tree_holding(uow: UnitOfWork, facility_id: FacilityId) -> LimitTree:
    """The whole limit tree `facility_id` sits in, from its root (complete).

    Raises:
        NotFoundError: no such facility.
    """
    root_id = uow.facilities.path_to_root(facility_id)[0].id
    return LimitTree(uow.facilities.tree(root_id), complete=True)


def open_limit(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    *,
    limit: Money,
    start: date,
    term_months: int,
    customer_id: CustomerId | None = None,
    group_id: GroupId | None = None,
    parent: FacilityId | None = None,
    product_type: ProductType | str | None = None,
    revolving: bool | None = None,
) -> FacilityId:
    """Open an active limit without an application (migrating an existing book).

    A group id alone opens the group's root limit; a customer id alone its master limit
    (under its group's root when it has one); a product type a sub-limit under `parent` or
    the customer's master limit. The tree checks of `LimitTree.attach` apply.

    Raises:
        NotFoundError, TreeStructureError (the level needs a parent it lacks; a group with a
        limit already), SubLimitExceedsParentError, CurrencyMismatchError, InvalidValueError.
    """
    product = None if product_type is None else ProductType(product_type)
    if customer_id is None and group_id is None and parent is None:
        raise InvalidValueError("open_limit needs a customer_id, a group_id or a parent")
    if customer_id is None and parent is None and product is None:
        assert group_id is not None
        group = uow.groups.get(group_id)
        if group.limit_facility_id is not None:
            raise TreeStructureError(f"group {group_id} has limit {group.limit_facility_id}")
        node = open_group_limit(ctx, group_id, limit=limit, start=start, term_months=term_months)
        group.set_limit_facility(node.id)
        uow.facilities.add(node)
        call.touch(group, node)
        return node.id
    level = FacilityLevel.PRODUCT if product is not None else FacilityLevel.CUSTOMER
    parent_id = parent
    if parent_id is None and customer_id is not None:
        customer = uow.customers.get(customer_id)
        if level is FacilityLevel.PRODUCT:
            masters = [
                m
                for m in uow.facilities.find(customer_id=customer_id, level=FacilityLevel.CUSTOMER)
                if not m.status.is_terminal
            ]
            if not masters:
                raise TreeStructureError(
                    f"customer {customer_id} has no master limit to put a sub-limit under"
                )
            parent_id = masters[0].id
        else:
            root = group_root(uow, customer)
            parent_id = None if root is None else root.id
    tree: LimitTree | None = None
    if parent_id is not None:
        tree = tree_holding(uow, parent_id)
    node = Facility.open(
        ctx.ids,
        level=level,
        limit=limit,
        start=start,
        term_months=term_months,
        parent=None if tree is None or parent_id is None else tree.node(parent_id),
        customer_id=customer_id,
        product_type=product,
        revolving=revolving,
    )
    if tree is not None:
        tree.attach(node)
    node.activate(on=start)
    uow.facilities.add(node)
    call.touch(node)
    return node.id


def change_status(
    uow: UnitOfWork, call: Call, ctx: Context, facility_id: FacilityId, *, action: str, reason: str
) -> None:
    """freeze / unfreeze / suspend / resume / close a facility.

    Raises:
        NotFoundError, InvalidTransitionError (e.g. closing with money drawn).
    """
    facility = uow.facilities.get(facility_id)
    on = ctx.clock.today()
    getattr(facility, action)(on=on, reason=reason)
    call.touch(facility)
    call.note(reason=reason)


@attrs.frozen
class FacilityView:
    """A facility as a read model: its figures and status."""

    id: FacilityId
    level: FacilityLevel
    status: FacilityStatus
    parent_id: FacilityId | None
    customer_id: CustomerId | None
    group_id: GroupId | None
    product_type: ProductType | None
    limit: Money
    drawn: Money
    reserved: Money
    available: Money
    start_date: date
    maturity_date: date
    revolving: bool

    @classmethod
    def of(cls, f: Facility) -> FacilityView:
        return cls(
            id=f.id,
            level=f.level,
            status=f.status,
            parent_id=f.parent_id,
            customer_id=f.customer_id,
            group_id=f.group_id,
            product_type=f.product_type,
            limit=f.limit,
            drawn=f.drawn,
            reserved=f.reserved,
            available=f.available,
            start_date=f.start_date,
            maturity_date=f.maturity_date,
            revolving=f.revolving,
        )


@attrs.frozen
class CustomerExposureView:
    """Drawn, reserved and available per node of a customer's trees, up to its group:
    `nodes` lists every node of the customer (masters and sub-limits) and its group root."""

    customer_id: CustomerId
    nodes: tuple[FacilityView, ...]
    drawn: Money | None
    reserved: Money | None
    available: Money | None


def customer_exposure(uow: UnitOfWork, customer_id: CustomerId) -> CustomerExposureView:
    """Raises `NotFoundError` for an unknown customer."""
    customer = uow.customers.get(customer_id)
    own = uow.facilities.find(customer_id=customer_id)
    root = group_root(uow, customer)
    nodes = ([] if root is None else [root]) + sorted(own, key=lambda f: (f.level.value, f.id))
    masters = [f for f in own if f.level is FacilityLevel.CUSTOMER]
    total = exposure_of(masters, masters[0].currency) if masters else None
    return CustomerExposureView(
        customer_id=customer_id,
        nodes=tuple(FacilityView.of(n) for n in nodes),
        drawn=None if total is None else total.drawn,
        reserved=None if total is None else total.reserved,
        available=None if total is None else total.available,
    )
