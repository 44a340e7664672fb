"""Exposure figures the desk's decisions read: what a customer and its group have drawn
and reserved, and the inputs of the concentration caps."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from creditmgmt.domain.customer import Customer
from creditmgmt.domain.errors import CurrencyMismatchError
from creditmgmt.domain.facility import Facility, FacilityLevel
from creditmgmt.domain.money import Money
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.context import Capital


@attrs.frozen
class Exposure:
    """Limit, drawn, reserved and available of one counterparty (a customer or a group), in
    one currency; `available` sums each limit's own headroom (never below zero)."""

    limit: Money
    drawn: Money
    reserved: Money
    available: Money

    @property
    def used(self) -> Money:
        return self.drawn + self.reserved


def exposure_of(masters: Iterable[Facility], currency: str) -> Exposure:
    """The master limits in `currency` summed, leaving out ended ones that hold nothing."""
    live = [
        m
        for m in masters
        if m.currency == currency and (not m.status.is_terminal or not m.drawn.is_zero)
    ]
    return Exposure(
        Money.sum((m.limit for m in live), currency),
        Money.sum((m.drawn for m in live), currency),
        Money.sum((m.reserved for m in live), currency),
        Money.sum((m.available for m in live), currency),
    )


def customer_exposure(uow: UnitOfWork, customer: Customer, currency: str) -> Exposure:
    """The customer's master limits (level customer) summed: the customer's whole exposure,
    since product sub-limits roll up into them."""
    return exposure_of(
        uow.facilities.find(customer_id=customer.id, level=FacilityLevel.CUSTOMER), currency
    )


def group_root(uow: UnitOfWork, customer: Customer) -> Facility | None:
    """The group-limit facility of the customer's group, if it has one."""
    if customer.group_id is None:
        return None
    group = uow.groups.get(customer.group_id)
    facility_id = group.limit_facility_id
    return None if facility_id is None else uow.facilities.get(facility_id)


def concentration_inputs(
    kind: str, exposure: Money, loans: Money, capital: Capital
) -> dict[str, object]:
    """The inputs of the `concentration` block (capital converted to the exposure's
    currency is the caller's job: `CurrencyMismatchError` otherwise)."""
    if capital.net_capital.currency != exposure.currency:
        raise CurrencyMismatchError(
            f"exposure {exposure} and capital {capital.net_capital} differ in currency"
        )
    return {
        "counterparty_kind": kind,
        "exposure": exposure.amount,
        "loans": loans.amount,
        "net_capital": capital.net_capital.amount,
        "tier1_net": capital.tier1_net.amount,
    }
