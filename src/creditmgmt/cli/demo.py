"""`creditmgmt demo`: a walkthrough of the domain model on a small synthetic book.

It onboards a group of customers, runs an application through maker-checker approval, opens
the group limit tree, draws and repays loans, lets time pass, and reports utilisation, days
past due and every refusal the model made along the way.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import click
from rich.console import Console
from rich.table import Table

from creditmgmt.adapters.system import SequentialIds
from creditmgmt.domain import (
    Amortisation,
    Assessment,
    CreditApplication,
    Customer,
    CustomerKind,
    DomainError,
    Drawdown,
    Facility,
    FacilityLevel,
    LimitTree,
    Money,
    ProductType,
    Rate,
    Repayment,
    RepaymentSchedule,
    UserId,
    label,
)
from creditmgmt.domain.group import CustomerGroup

START = date(2026, 1, 5)
MAKER = UserId("usr_rm_li")  # relationship manager who prepares the application
CHECKER = UserId("usr_credit_wang")  # credit officer who reviews and approves
USCC = ("91310000MA1FL4T01A", "91110000100003962Y", "91440300MA5DC12341")


def run_walkthrough(console: Console, *, lang: str = "en", seed: int = 7) -> dict[str, object]:
    """Run the walkthrough, print it, and return the figures it reported."""
    rnd = random.Random(seed)
    ids = SequentialIds()
    cny = "CNY"
    group = CustomerGroup.form(ids, name="长三角制造集团", controller="示例控股有限公司")
    members: list[Customer] = []
    for i, (name, region) in enumerate(
        [
            ("上海精密机械有限公司", "310115"),
            ("杭州新材料股份有限公司", "330100"),
            ("苏州物流有限公司", "320500"),
        ]
    ):
        c = Customer.onboard(
            ids,
            kind=CustomerKind.CORPORATE,
            legal_name=name,
            registration_id=USCC[i],
            home_region=region,
            institution_region="310000",
            industry_code="C3411",
        )
        c.activate(on=START)
        c.join_group(group.id)
        group.add_member(c.id)
        members.append(c)

    # an application through maker-checker
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    app = CreditApplication.draft(
        ids,
        customer_id=members[0].id,
        product_type=ProductType.WORKING_CAPITAL,
        requested=Money.of("4000000.00", cny),
        term_months=12,
        purpose="流动资金周转",
        maker=MAKER,
        at=at,
        documents_required=("business_licence", "financial_statements"),
    )
    for doc in app.documents_required:
        app.receive_document(doc)
    app.submit(by=MAKER, at=at)
    app.start_review(by=CHECKER, at=at)
    app.record_assessment(
        Assessment(score=Decimal("655"), pd=Decimal("0.0031"), grade="BBB", ruleset_ref="demo"),
        by=CHECKER,
        at=at,
    )
    app.send_for_approval(by=CHECKER, at=at)
    refusals: list[str] = []
    try:
        app.approve(by=MAKER, at=at, level="branch", ruleset_ref="demo")
    except DomainError as e:
        refusals.append(f"{type(e).__name__}: {e}")
    app.approve(
        by=CHECKER, at=at, level="regional", amount=Money.of("3500000", cny), ruleset_ref="demo"
    )
    app.contract(by=CHECKER, at=at)

    # the group limit tree
    root = Facility.open(
        ids,
        level=FacilityLevel.GROUP,
        limit=Money.of("12000000", cny),
        start=START,
        term_months=12,
        group_id=group.id,
    )
    group.set_limit_facility(root.id)
    tree = LimitTree([root], complete=True)
    products: list[tuple[Customer, Facility]] = []
    for c, master_limit in zip(members, ("5000000", "4000000", "3000000"), strict=True):
        master = Facility.open(
            ids,
            level=FacilityLevel.CUSTOMER,
            parent=root,
            customer_id=c.id,
            limit=Money.of(master_limit, cny),
            start=START,
            term_months=12,
        )
        tree.attach(master)
        for product, share in (
            (ProductType.WORKING_CAPITAL, "0.6"),
            (ProductType.TERM_LOAN, "0.4"),
        ):
            node = Facility.open(
                ids,
                level=FacilityLevel.PRODUCT,
                parent=master,
                product_type=product,
                limit=master.limit * Decimal(share),
                start=START,
                term_months=12,
            )
            tree.attach(node)
            products.append((c, node))
    for node in tree.nodes:
        node.activate(on=START)
    first = products[0][1]
    app.activate(first.id, by=CHECKER, at=at)
    try:
        tree.change_limit(first.id, Money.of("6000000", cny), on=START, reason="ask")
    except DomainError as e:
        refusals.append(f"{type(e).__name__}: {e}")

    # drawdowns with schedules
    loans: list[Drawdown] = []
    for i, (customer, node) in enumerate(products):
        amount = (node.limit * Decimal(rnd.choice(["0.3", "0.5", "0.8"]))).amount
        schedule = RepaymentSchedule.build(
            principal=Money(amount, cny),
            annual_rate=Rate.percent("4.35"),
            start=START,
            term_months=12,
            amortisation=Amortisation.EQUAL_PRINCIPAL if i % 2 else Amortisation.ANNUITY,
        )
        loan = Drawdown.book(ids, facility_id=node.id, customer_id=customer.id, schedule=schedule)
        tree.draw(node.id, schedule.principal, on=START, drawdown_id=loan.id)
        loans.append(loan)
    try:
        tree.draw(first.id, first.available + Money.of("0.01", cny), on=START)
    except DomainError as e:
        refusals.append(f"{type(e).__name__}: {e}")

    # five months pass; some borrowers pay, some pay late or not at all
    as_of = START + timedelta(days=150)
    behaviour = ["pays", "pays", "late", "pays", "stops", "partial"]
    for loan, how in zip(loans, behaviour, strict=True):
        for inst in loan.schedule.installments:
            if inst.due_date >= as_of:
                break
            if how == "stops" and inst.sequence > 1:
                break
            if how == "partial" and inst.sequence > 2:
                loan.apply(Repayment(inst.total / 2, inst.due_date))
                break
            paid_on = inst.due_date + timedelta(days=12 if how == "late" else 0)
            if paid_on < as_of:
                loan.apply(
                    Repayment(inst.total - loan.paid[inst.sequence - 1].principal * 0, paid_on)
                )
                tree.repay(loan.facility_id, inst.principal, on=paid_on)

    table = Table(
        title=f"{'授信额度与逾期' if lang == 'zh' else 'Limits and days past due'} — {as_of}"
    )
    for col in ("facility", "level", "limit", "drawn", "available", "DPD"):
        table.add_column(
            col, justify="right" if col in ("limit", "drawn", "available", "DPD") else "left"
        )
    dpd_by_facility = {loan.facility_id: loan.dpd(as_of) for loan in loans}
    for node in tree.nodes:
        table.add_row(
            str(node.id),
            label(node.level.value, lang),
            node.limit.format(),
            node.drawn.format(),
            node.available.format(),
            str(dpd_by_facility.get(node.id, "")),
        )
    console.print(table)
    console.print("Refused, as the invariants require:")
    for r in refusals:
        console.print(f"  - {r}")
    violations = tree.violations()
    console.print(f"Tree invariants: {violations or 'hold'}")
    return {
        "refusals": refusals,
        "violations": violations,
        "max_dpd": max(dpd_by_facility.values()),
        "group_drawn": root.drawn,
    }


@click.command()
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", help="Report language.")
def demo(lang: str) -> None:
    """Walk through the credit model on a small synthetic book and report."""
    result = run_walkthrough(Console(width=110), lang=lang)
    if result["violations"]:
        raise SystemExit(1)
