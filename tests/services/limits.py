"""A customer with a master limit and one product sub-limit under it, both active: the
smallest book a loan can be drawn from (the monitoring and portfolio tests build on it)."""

from __future__ import annotations

from datetime import date
from typing import Any

from creditmgmt.adapters.clocks_and_ids import SequentialIds
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.facility import Facility, FacilityLevel
from creditmgmt.domain.money import Money
from creditmgmt.domain.products import ProductType
from creditmgmt.testing.builders import a_customer


def a_limited_customer(
    ids: SequentialIds,
    *,
    product: ProductType,
    start: date,
    term_months: int,
    **customer: Any,
) -> tuple[Customer, Facility, Facility]:
    """The customer (built from `customer` fields), its CNY 5m master limit and a CNY 4m
    sub-limit for `product`, both opened and activated on `start`."""
    holder = a_customer(ids, **customer)
    master = Facility.open(
        ids,
        level=FacilityLevel.CUSTOMER,
        customer_id=holder.id,
        limit=Money.of("5000000.00", "CNY"),
        start=start,
        term_months=term_months,
    )
    node = Facility.open(
        ids,
        level=FacilityLevel.PRODUCT,
        parent=master,
        product_type=product,
        limit=Money.of("4000000.00", "CNY"),
        start=start,
        term_months=term_months,
    )
    for f in (master, node):
        f.activate(on=start)
    return holder, master, node
