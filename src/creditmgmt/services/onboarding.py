"""Onboarding (客户准入): customers, their profile, exit, and groups (集团客户) with their limit."""

from __future__ import annotations

from datetime import date

import attrs

from creditmgmt.domain.choices import member
from creditmgmt.domain.credit_file import CreditFile, RefreshCycle
from creditmgmt.domain.customer import Customer, CustomerKind, CustomerStatus, Segment
from creditmgmt.domain.errors import InvalidTransitionError
from creditmgmt.domain.facility import Facility, FacilityLevel, LimitTree
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import CustomerId, GroupId, UserId
from creditmgmt.domain.money import Money
from creditmgmt.ports.errors import IntegrityError
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal, mask
from creditmgmt.services.core import Call, DeskCore
from creditmgmt.services.errors import DuplicateCustomerError, GroupLimitError
from creditmgmt.services.facilities import open_group_limit


@attrs.frozen
class CustomerView:
    """A customer as a principal may see it: the registration id is masked (last 4 shown)
    unless the principal's roles read personal data (`AccessPolicy.pii_readers`)."""

    id: CustomerId
    kind: CustomerKind
    legal_name: str
    registration_id: str | None
    home_region: str
    industry_code: str
    segment: Segment
    status: CustomerStatus
    is_remote: bool
    group_id: GroupId | None
    relationship_manager: UserId | None
    relationship_since: date | None
    masked: bool

    @classmethod
    def of(cls, customer: Customer, *, reads_pii: bool) -> CustomerView:
        return cls(
            id=customer.id,
            kind=customer.kind,
            legal_name=customer.legal_name,
            registration_id=customer.registration_id
            if reads_pii
            else mask(customer.registration_id),
            home_region=customer.home_region,
            industry_code=customer.industry_code,
            segment=customer.segment,
            status=customer.status,
            is_remote=customer.is_remote,
            group_id=customer.group_id,
            relationship_manager=customer.relationship_manager,
            relationship_since=customer.relationship_since,
            masked=not reads_pii,
        )


class OnboardingCalls(DeskCore):
    """Desk calls of onboarding and groups."""

    def customer(self, by: Principal, customer_id: CustomerId) -> CustomerView:
        """One customer, PII masked unless `by` may read it.

        Raises:
            PermissionDeniedError, NotFoundError.
        """
        reads_pii = self._ctx.access.reads_pii(by)
        return self._read(
            "customer",
            by,
            lambda uow: CustomerView.of(uow.customers.get(customer_id), reads_pii=reads_pii),
            subject=f"customer:{customer_id}",
        )

    def onboard_customer(
        self,
        by: Principal,
        *,
        kind: CustomerKind | str,
        legal_name: str,
        registration_id: str | None,
        home_region: str,
        industry_code: str,
        segment: Segment | str = Segment.GENERAL,
        relationship_manager: UserId | str | None = None,
        funds_used_region: str | None = None,
    ) -> CustomerId:
        """Onboard a customer: a new customer (prospect) and its empty credit file, which
        is refreshed yearly.

        Raises:
            PermissionDeniedError: `by` may not onboard customers.
            InvalidIdentifierError: an invalid USCC / national id (names the customer).
            InvalidValueError: a bad name, region, industry code, kind or segment.
            DuplicateCustomerError: the registration id is on the books already, or was
                onboarded by another desk at the same moment.
        """

        def work(uow: UnitOfWork, call: Call) -> CustomerId:
            today = self._ctx.clock.today()
            customer = Customer.onboard(
                self._ctx.ids,
                kind=member(CustomerKind, kind, "kind"),
                legal_name=legal_name,
                registration_id=registration_id,
                home_region=home_region,
                institution_region=self._ctx.institution_region,
                industry_code=industry_code,
                funds_used_region=funds_used_region,
                segment=member(Segment, segment, "segment"),
                relationship_manager=None
                if relationship_manager is None
                else UserId(str(relationship_manager)),
                relationship_since=today,
            )
            if customer.registration_id is not None:
                existing = uow.customers.by_registration_id(customer.registration_id)
                if existing is not None:
                    raise DuplicateCustomerError(
                        f"registration id {mask(customer.registration_id)} is already customer "
                        f"{existing.id} ({existing.legal_name})"
                    )
            credit_file = CreditFile.open(
                self._ctx.ids, customer_id=customer.id, refresh_cycle=RefreshCycle.YEARLY
            )
            uow.customers.add(customer)
            uow.credit_files.add(credit_file)
            call.touch(customer, credit_file)
            call.note(kind=customer.kind.value, remote=customer.is_remote)
            return customer.id

        try:
            return self._write("onboard_customer", by, work)
        except IntegrityError as e:
            # another desk onboarded the same registration id at the same moment
            raise DuplicateCustomerError(
                f"registration id {mask(registration_id)} was onboarded concurrently"
            ) from e

    def form_group(
        self,
        by: Principal,
        *,
        name: str,
        members: list[CustomerId],
        limit: Money,
        start: date,
        term_months: int,
        controller: str = "",
    ) -> GroupId:
        """Form a customer group (统一授信) with its group-limit facility as the root of its
        tree.

        Each member's existing master limits are moved under the group root, which must hold
        them all (sum of member limits ≤ group limit).

        Raises:
            PermissionDeniedError: `by` may not form groups.
            NotFoundError: a member does not exist.
            GroupLimitError: a member already belongs to a group, no members, or member limits
                above the group limit (names both totals).
            InvalidValueError / CurrencyMismatchError: a bad limit or term.
        """

        def work(uow: UnitOfWork, call: Call) -> GroupId:
            if not members:
                raise GroupLimitError(f"group {name!r}: a group needs at least one member")
            group = CustomerGroup.form(self._ctx.ids, name=name, controller=controller)
            root = open_group_limit(
                self._ctx, group.id, limit=limit, start=start, term_months=term_months
            )
            masters: list[list[Facility]] = []
            for member_id in dict.fromkeys(members):
                customer = uow.customers.get(member_id)
                if customer.group_id is not None:
                    raise GroupLimitError(
                        f"customer {customer.id} already belongs to group {customer.group_id}"
                    )
                group.add_member(customer.id)
                customer.join_group(group.id)
                call.touch(customer)
                for master in uow.facilities.find(
                    customer_id=customer.id, level=FacilityLevel.CUSTOMER
                ):
                    if master.status.is_terminal:
                        continue
                    if master.parent_id is not None:
                        raise GroupLimitError(
                            f"facility {master.id} already sits under {master.parent_id}"
                        )
                    masters.append(uow.facilities.tree(master.id))
            masters_total = Money.sum((m[0].limit for m in masters), limit.currency)
            if masters_total > limit:
                raise GroupLimitError(
                    f"group {name!r}: member limits total {masters_total}, more than the group "
                    f"limit {limit}"
                )
            tree = LimitTree([root], complete=True)
            for subtree in masters:
                tree.adopt(subtree, under=root.id)
                call.touch(*subtree)
            group.set_limit_facility(root.id)
            uow.groups.add(group)
            uow.facilities.add(root)
            call.touch(group, root)
            return group.id

        return self._write("form_group", by, work)

    def update_customer(
        self,
        by: Principal,
        customer_id: CustomerId,
        *,
        segment: Segment | str | None = None,
        relationship_manager: UserId | str | None = None,
        funds_used_region: str | None = None,
        activate: bool = False,
        identity_verified: bool = False,
    ) -> None:
        """Change a customer's profile: segment, relationship manager, where funds are used,
        activation, identity verification (异地客户身份核实).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidValueError, InvalidTransitionError.
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            customer = uow.customers.get(customer_id)
            today = self._ctx.clock.today()
            if segment is not None:
                customer.change_segment(member(Segment, segment, "segment"))
            if relationship_manager is not None:
                customer.assign_manager(UserId(str(relationship_manager)))
            if funds_used_region is not None:
                customer.move_funds_use(funds_used_region)
            if identity_verified:
                customer.verify_identity(on=today)
            if activate and customer.status is not CustomerStatus.ACTIVE:
                customer.activate(on=today)
            call.touch(customer)

        self._write("update_customer", by, work, subject=f"customer:{customer_id}")

    def exit_customer(self, by: Principal, customer_id: CustomerId, *, reason: str) -> None:
        """A customer leaves (退出): refused while any facility still has money drawn; its
        credit file is archived.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError (drawn facilities
            named, or a final status).
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            customer = uow.customers.get(customer_id)
            open_ = [f for f in uow.facilities.find(customer_id=customer_id) if not f.drawn.is_zero]
            if open_:
                raise InvalidTransitionError(
                    f"customer {customer_id} cannot exit: "
                    + ", ".join(f"{f.id} has {f.drawn} drawn" for f in open_)
                )
            today = self._ctx.clock.today()
            customer.exit(on=today, reason=reason)
            credit_file = uow.credit_files.for_customer(customer_id)
            if credit_file is not None and credit_file.archived_on is None:
                credit_file.archive(on=today)
                call.touch(credit_file)
            call.touch(customer)
            call.note(reason=reason)

        self._write("exit_customer", by, work, subject=f"customer:{customer_id}")


__all__ = ["CustomerView", "OnboardingCalls"]
