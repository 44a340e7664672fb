"""A book for the daily run's tests: a desk on the 15 January 2025 clock, and customers with
a master limit, a product sub-limit and loans drawn on it, stored straight (no desk calls)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.services.limits import a_limited_customer

from creditmgmt.adapters.clocks_and_ids import FixedClock, SequentialIds
from creditmgmt.bootstrap import open_desk
from creditmgmt.domain.classification import Category
from creditmgmt.domain.customer import CustomerKind
from creditmgmt.domain.ids import CustomerId, DrawdownId, FacilityId
from creditmgmt.domain.loan import Drawdown, Repayment
from creditmgmt.domain.products import ProductType
from creditmgmt.services.desk import CreditDesk
from creditmgmt.testing.builders import a_loan, a_schedule, make_uscc

NATIONAL_ID = "11010519491231002X"
START = date(2025, 1, 15)  # loans drawn here; first instalment due 2025-02-15
FIRST_DUE = date(2025, 2, 15)


def monitoring_desk(url: str = "memory://") -> CreditDesk:
    """A cn-2023 desk on `url` (the memory store) with its clock at 15 January 2025 09:00."""
    clock = FixedClock(datetime(2025, 1, 15, 9, 0, tzinfo=UTC))
    return open_desk(url, rules="cn-2023", clock=clock, institution_region="310000")


def a_customer_with_loans(
    desk: CreditDesk,
    ids: SequentialIds,
    *,
    serial: int,
    amounts: tuple[str, ...] = ("120000.00",),
    kind: CustomerKind = CustomerKind.SME,
    product: ProductType = ProductType.WORKING_CAPITAL,
    term_months: int = 24,
    loan_months: int = 12,
    starts: tuple[date, ...] = (),
) -> tuple[CustomerId, list[DrawdownId], list[FacilityId]]:
    """A customer with a master limit, a product sub-limit and one loan per amount."""
    extra: dict[str, Any] = {"kind": kind, "registration_id": make_uscc(serial)}
    if kind is CustomerKind.INDIVIDUAL:
        extra["registration_id"] = NATIONAL_ID
    customer, master, node = a_limited_customer(
        ids, product=product, start=START, term_months=term_months, **extra
    )
    loans = [
        a_loan(
            ids,
            facility_id=node.id,
            customer_id=customer.id,
            schedule=a_schedule(f"{a} CNY", start=start, term_months=loan_months),
        )
        for a, start in zip(amounts, starts or (START,) * len(amounts), strict=True)
    ]
    with desk.store.unit_of_work() as uow:
        uow.customers.add(customer)
        uow.facilities.add(master)
        uow.facilities.add(node)
        for loan in loans:
            uow.drawdowns.add(loan)
        uow.commit()
    return customer.id, [x.id for x in loans], [master.id, node.id]


def loan_of(desk: CreditDesk, loan_id: DrawdownId) -> Drawdown:
    with desk.store.unit_of_work() as uow:
        return uow.drawdowns.get(loan_id)


def category_of(desk: CreditDesk, loan_id: DrawdownId) -> Category:
    risk = loan_of(desk, loan_id).risk
    assert risk is not None
    return risk.category


def pay_all_due(desk: CreditDesk, loan_id: DrawdownId, on: date) -> None:
    with desk.store.unit_of_work() as uow:
        loan = uow.drawdowns.get(loan_id)
        owed = loan.arrears(on + timedelta(days=1))
        if not owed.is_zero:
            loan.apply(Repayment(amount=owed, received_on=on))
        uow.commit()
