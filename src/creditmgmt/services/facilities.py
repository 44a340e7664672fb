"""Facilities outside the application path: taking over an existing book's limits
(`open_limit`, admin only), status changes, and the read models of the limit tree — the desk
calls of `FacilityCalls`, and the limit-tree helpers other use cases share."""

from __future__ import annotations

from datetime import date

import attrs

from creditmgmt.domain.choices import member
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
from creditmgmt.services.access import Principal
from creditmgmt.services.context import Context
from creditmgmt.services.core import Call, DeskCore
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


class FacilityCalls(DeskCore):
    """Desk calls on facilities: taking over a limit, status changes and the read models."""

    def open_limit(
        self,
        by: Principal,
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
        """Take over an existing limit without an application (admin; migrating an existing
        book): an active limit from `start`.

        A group id alone opens the group's root limit; a customer id alone its master limit
        (under its group's root when it has one); a product type a sub-limit under `parent` or
        the customer's master limit. The tree checks of `LimitTree.attach` apply.

        Raises:
            PermissionDeniedError, NotFoundError, TreeStructureError (the level needs a parent
            it lacks; a group with a limit already), SubLimitExceedsParentError,
            CurrencyMismatchError, InvalidValueError.
        """

        def work(uow: UnitOfWork, call: Call) -> FacilityId:
            product = (
                None if product_type is None else member(ProductType, product_type, "product_type")
            )
            if customer_id is None and group_id is None and parent is None:
                raise InvalidValueError("open_limit needs a customer_id, a group_id or a parent")
            if customer_id is None and parent is None and product is None:
                assert group_id is not None
                group = uow.groups.get(group_id)
                if group.limit_facility_id is not None:
                    raise TreeStructureError(
                        f"group {group_id} has limit {group.limit_facility_id}"
                    )
                node = open_group_limit(
                    self._ctx, group_id, limit=limit, start=start, term_months=term_months
                )
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
                        for m in uow.facilities.find(
                            customer_id=customer_id, level=FacilityLevel.CUSTOMER
                        )
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
                self._ctx.ids,
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

        return self._write("open_limit", by, work, subject="")

    def _status(self, action: str, by: Principal, facility_id: FacilityId, reason: str) -> None:
        """The status change `action` (freeze, unfreeze, suspend, resume, close) of a facility
        today, its reason noted in the audit record. Raises PermissionDeniedError,
        NotFoundError, InvalidTransitionError."""

        def work(uow: UnitOfWork, call: Call) -> None:
            facility = uow.facilities.get(facility_id)
            on = self._ctx.clock.today()
            getattr(facility, action)(on=on, reason=reason)
            call.touch(facility)
            call.note(reason=reason)

        self._write(action, by, work, subject=f"facility:{facility_id}")

    def freeze(self, by: Principal, facility_id: FacilityId, *, reason: str) -> None:
        """Freeze (no drawdowns). Raises PermissionDeniedError, NotFoundError,
        InvalidTransitionError."""
        self._status("freeze", by, facility_id, reason)

    def unfreeze(self, by: Principal, facility_id: FacilityId, *, reason: str) -> None:
        """Lift a freeze. Raises PermissionDeniedError, NotFoundError, InvalidTransitionError."""
        self._status("unfreeze", by, facility_id, reason)

    def suspend(self, by: Principal, facility_id: FacilityId, *, reason: str) -> None:
        """Suspend on a risk event. Raises PermissionDeniedError, NotFoundError,
        InvalidTransitionError."""
        self._status("suspend", by, facility_id, reason)

    def resume(self, by: Principal, facility_id: FacilityId, *, reason: str) -> None:
        """Resume a suspended facility. Raises PermissionDeniedError, NotFoundError,
        InvalidTransitionError."""
        self._status("resume", by, facility_id, reason)

    def close(
        self,
        by: Principal | None = None,
        facility_id: FacilityId | None = None,
        *,
        reason: str = "",
    ) -> None:
        """`close(by, facility_id, reason=...)` closes a facility with nothing drawn or
        reserved; `close()` with no arguments closes the desk (releases the store).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError (money still drawn),
            TypeError (a facility without `by` or the other way round).
        """
        if by is None and facility_id is None:
            super().close()
            return
        if by is None or facility_id is None:
            raise TypeError("close(by, facility_id, reason=...) needs both by and facility_id")
        self._status("close", by, facility_id, reason)

    # read models -----------------------------------------------------------------------------
    def facility(self, by: Principal, facility_id: FacilityId) -> FacilityView:
        """One facility. Raises PermissionDeniedError, NotFoundError."""
        return self._read(
            "facility",
            by,
            lambda uow: FacilityView.of(uow.facilities.get(facility_id)),
            subject=f"facility:{facility_id}",
        )

    def tree(self, by: Principal, root_id: FacilityId) -> list[FacilityView]:
        """Every node under `root_id` (included), parents first, read in one snapshot.

        Raises:
            PermissionDeniedError, NotFoundError.
        """
        return self._read(
            "tree",
            by,
            lambda uow: [FacilityView.of(f) for f in uow.facilities.tree(root_id)],
            subject=f"facility:{root_id}",
        )

    def customer_exposure(self, by: Principal, customer_id: CustomerId) -> CustomerExposureView:
        """Drawn, reserved and available per node up to the group: every node of the customer
        (masters and sub-limits) and its group root, and the customer's totals (of its master
        limits). Raises PermissionDeniedError, NotFoundError (an unknown customer)."""

        def read(uow: UnitOfWork) -> CustomerExposureView:
            customer = uow.customers.get(customer_id)
            own = uow.facilities.find(customer_id=customer_id)
            root = group_root(uow, customer)
            nodes = ([] if root is None else [root]) + sorted(
                own, key=lambda f: (f.level.value, f.id)
            )
            masters = [f for f in own if f.level is FacilityLevel.CUSTOMER]
            total = exposure_of(masters, masters[0].currency) if masters else None
            return CustomerExposureView(
                customer_id=customer_id,
                nodes=tuple(FacilityView.of(n) for n in nodes),
                drawn=None if total is None else total.drawn,
                reserved=None if total is None else total.reserved,
                available=None if total is None else total.available,
            )

        return self._read("customer_exposure", by, read, subject=f"customer:{customer_id}")
