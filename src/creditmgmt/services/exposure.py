"""Exposure figures the desk's decisions read: what a customer and its group have drawn
and reserved, and the inputs of the concentration caps."""

from __future__ import annotations

import attrs

from creditmgmt.domain.customer import Customer
from creditmgmt.domain.facility import Facility, FacilityLevel
from creditmgmt.domain.money import Money
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.context import Capital


@attrs.frozen
class Exposure:
    """Limit, drawn and reserved of one counterparty (a customer or a group), in one currency."""

    limit: Money
    drawn: Money
    reserved: Money

    @property
    def used(self) -> Money:
        return self.drawn + self.reserved


def _live(nodes: list[Facility]) -> list[Facility]:
    return [n for n in nodes if not n.status.is_terminal or not n.drawn.is_zero]


def customer_exposure(uow: UnitOfWork, customer: Customer, currency: str) -> Exposure:
    """The customer's master limits (level customer) summed: the customer's whole exposure,
    since product sub-limits roll up into them."""
    masters = _live(uow.facilities.find(customer_id=customer.id, level=FacilityLevel.CUSTOMER))
    masters = [m for m in masters if m.currency == currency]
    return Exposure(
        Money.sum((m.limit for m in masters), currency),
        Money.sum((m.drawn for m in masters), currency),
        Money.sum((m.reserved for m in masters), currency),
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
        from creditmgmt.domain.errors import CurrencyMismatchError

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
