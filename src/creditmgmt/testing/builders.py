"""Readable builders for tests and examples: sensible defaults, deterministic ids.

ids = SequentialIds()
tree = a_facility_tree(ids, group_limit="10000000.00", masters=("4000000", "3000000"))
tree.limits.draw(tree.products[0].id, M("100000.00 CNY"), on=date(2026, 3, 1))
master = a_facility(ids, limit="2,000,000.00 CNY")   # one customer's own limit, active
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs
from stdnum.cn import uscc

from creditmgmt.adapters.clocks_and_ids import SequentialIds as SequentialIds
from creditmgmt.domain.application import CreditApplication
from creditmgmt.domain.credit_file import CreditFile, FinancialStatement, RefreshCycle
from creditmgmt.domain.customer import Customer, CustomerKind
from creditmgmt.domain.facility import Facility, FacilityLevel, LimitTree
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import CustomerId, FacilityId, IdSource, UserId
from creditmgmt.domain.loan import Drawdown
from creditmgmt.domain.money import Money, Rate
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.schedule import Amortisation, RepaymentSchedule

#: Valid unified social credit codes for examples (check digits computed with python-stdnum).
USCC_EXAMPLES = ("91310000MA1FL4T01A", "91110000100003962Y", "91440300MA5DC12341")


def make_uscc(serial: int, *, region: str = "310000") -> str:
    """A valid unified social credit code, distinct for each serial number (0 ≤ serial < 10⁹)."""
    body = f"91{region}{serial:09d}"
    return body + uscc.calc_check_digit(body)


DEFAULT_DAY = date(2026, 1, 5)
DEFAULT_AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
MAKER = UserId("usr_maker")
CHECKER = UserId("usr_checker")
RM = UserId("usr_rm")
EXAMPLE_CUSTOMER = CustomerId("cus_example")
EXAMPLE_FACILITY = FacilityId("fac_example")


def M(text: str) -> Money:
    """`M("1,000.00 CNY")` → Money.

    Raises:
        InvalidMoneyError: the text is not an amount followed by a currency code.
    """
    return Money.parse(text)


def a_customer(ids: IdSource | None = None, **overrides: object) -> Customer:
    """An onboarded (prospect) Shanghai SME customer served by a Shanghai institution."""
    fields: dict[str, object] = {
        "kind": CustomerKind.SME,
        "legal_name": "上海示例贸易有限公司",
        "registration_id": USCC_EXAMPLES[0],
        "home_region": "310000",
        "institution_region": "310000",
        "industry_code": "F5191",
        "relationship_manager": RM,
    }
    fields.update(overrides)
    return Customer.onboard(ids or SequentialIds(), **fields)  # type: ignore[arg-type]


def a_facility(
    ids: IdSource | None = None,
    *,
    limit: str = "5000000.00 CNY",
    customer_id: CustomerId = EXAMPLE_CUSTOMER,
    start: date = DEFAULT_DAY,
    term_months: int = 12,
    activate: bool = True,
) -> Facility:
    """A customer master limit (the root of a customer without a group), active from `start`.

    Attach product sub-limits with `a_facility_tree`, or `Facility.open(..., parent=...)` and
    `LimitTree.attach`.

    Raises:
        InvalidMoneyError: `limit` is not "amount CCY".
    """
    facility = Facility.open(
        ids or SequentialIds(),
        level=FacilityLevel.CUSTOMER,
        customer_id=customer_id,
        limit=M(limit),
        start=start,
        term_months=term_months,
    )
    if activate:
        facility.activate(on=start)
    return facility


def a_group(ids: IdSource | None = None, *, name: str = "示例集团") -> CustomerGroup:
    """A customer group (集团) with no members yet."""
    return CustomerGroup.form(ids or SequentialIds(), name=name, controller="示例控股")


@attrs.define
class TreeBuild:
    """What `a_facility_tree` built: the nodes by level and a complete `LimitTree`."""

    group: CustomerGroup
    customers: list[Customer]
    root: Facility
    masters: list[Facility]
    products: list[Facility]
    limits: LimitTree

    @property
    def nodes(self) -> list[Facility]:
        return [self.root, *self.masters, *self.products]


def a_facility_tree(
    ids: IdSource | None = None,
    *,
    currency: str = "CNY",
    group_limit: str = "10000000.00",
    masters: Sequence[str] = ("4000000.00", "3000000.00"),
    products: Sequence[tuple[ProductType, str]] = (
        (ProductType.WORKING_CAPITAL, "2000000.00"),
        (ProductType.TERM_LOAN, "1000000.00"),
    ),
    start: date = DEFAULT_DAY,
    term_months: int = 12,
    product_term_months: int | None = None,
    activate: bool = True,
) -> TreeBuild:
    """A group limit over one master limit per customer, each with the same product sub-limits.

    Product sub-limits run for `product_term_months` (default: the tree's term); a longer term
    makes sub-limits outlive their master, which the limit tree must then enforce.
    """
    ids = ids or SequentialIds()
    group = a_group(ids)
    root = Facility.open(
        ids,
        level=FacilityLevel.GROUP,
        limit=Money.of(group_limit, currency),
        start=start,
        term_months=term_months,
        group_id=group.id,
    )
    group.set_limit_facility(root.id)
    tree = LimitTree([root], complete=True)
    customers: list[Customer] = []
    master_nodes: list[Facility] = []
    product_nodes: list[Facility] = []
    for i, master_limit in enumerate(masters):
        customer = a_customer(
            ids,
            legal_name=f"成员企业{i + 1}号",
            registration_id=make_uscc(zlib.crc32(ids.next_id().encode()) % 1_000_000_000),
        )
        customer.join_group(group.id)
        group.add_member(customer.id)
        customers.append(customer)
        master = Facility.open(
            ids,
            level=FacilityLevel.CUSTOMER,
            parent=root,
            customer_id=customer.id,
            limit=Money.of(master_limit, currency),
            start=start,
            term_months=term_months,
        )
        tree.attach(master)
        master_nodes.append(master)
        for product, sub_limit in products:
            node = Facility.open(
                ids,
                level=FacilityLevel.PRODUCT,
                parent=master,
                product_type=product,
                limit=Money.of(sub_limit, currency),
                start=start,
                term_months=product_term_months or term_months,
            )
            tree.attach(node)
            product_nodes.append(node)
    if activate:
        for node in tree.nodes:
            node.activate(on=start)
    return TreeBuild(group, customers, root, master_nodes, product_nodes, tree)


def a_schedule(
    amount: str = "120000.00 CNY",
    *,
    rate: str = "0.0435",
    fee: str | None = None,
    **terms: Any,
) -> RepaymentSchedule:
    """A schedule of `amount` (with its currency) at the annual `rate`; `fee` is a fee per
    instalment. `terms` are `RepaymentSchedule.build`'s other keywords (`frequency`,
    `day_count`, `end_of_month`, `roll` for a business calendar's rule...), with its defaults;
    `start`, `term_months` and `amortisation` default to `DEFAULT_DAY`, 12 and equal principal.

    Raises:
        TypeError: a keyword `build` does not take; what `build` raises for bad terms.
    """
    return RepaymentSchedule.build(
        principal=M(amount),
        annual_rate=Rate.of(rate),
        fee_per_installment=None if fee is None else M(fee),
        **(_SCHEDULE_TERMS | terms),
    )


_SCHEDULE_TERMS: dict[str, Any] = {
    "start": DEFAULT_DAY,
    "term_months": 12,
    "amortisation": Amortisation.EQUAL_PRINCIPAL,
}


def a_loan(
    ids: IdSource | None = None,
    *,
    facility_id: FacilityId = EXAMPLE_FACILITY,
    customer_id: CustomerId = EXAMPLE_CUSTOMER,
    schedule: RepaymentSchedule | None = None,
) -> Drawdown:
    return Drawdown.book(
        ids or SequentialIds(),
        facility_id=facility_id,
        customer_id=customer_id,
        schedule=schedule or a_schedule(),
    )


def an_application(
    ids: IdSource | None = None,
    *,
    customer_id: CustomerId = EXAMPLE_CUSTOMER,
    requested: str = "2000000.00 CNY",
    product_type: ProductType = ProductType.WORKING_CAPITAL,
    documents_required: tuple[str, ...] = ("business_licence", "financial_statements"),
) -> CreditApplication:
    return CreditApplication.draft(
        ids or SequentialIds(),
        customer_id=customer_id,
        product_type=product_type,
        requested=M(requested),
        term_months=12,
        purpose="流动资金周转",
        maker=MAKER,
        at=DEFAULT_AT,
        documents_required=documents_required,
    )


def a_statement(
    *,
    period_end: date = date(2025, 12, 31),
    currency: str = "CNY",
    revenue: str = "50000000",
    **overrides: str,
) -> FinancialStatement:
    """A plausible annual statement; override any figure by name with a decimal string."""
    figures = {
        "current_assets": "20000000",
        "total_assets": "60000000",
        "current_liabilities": "12000000",
        "total_liabilities": "33000000",
        "equity": "27000000",
        "revenue": revenue,
        "ebitda": "8000000",
        "ebit": "6000000",
        "interest_expense": "1500000",
        "net_profit": "3500000",
        "operating_cash_flow": "7000000",
        "debt_service": "4000000",
    }
    figures.update(overrides)
    money = {k: Money.of(v, currency) for k, v in figures.items()}
    return FinancialStatement(period_end=period_end, currency=currency, **money)  # type: ignore[arg-type]


def a_credit_file(
    ids: IdSource | None = None, *, customer_id: CustomerId = EXAMPLE_CUSTOMER
) -> CreditFile:
    return CreditFile.open(
        ids or SequentialIds(), customer_id=customer_id, refresh_cycle=RefreshCycle.YEARLY
    )
