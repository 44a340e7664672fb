"""`creditmgmt demo`: a walkthrough of the domain model on a small synthetic book.

It onboards a group of customers (two of them remote, 异地), keeps a credit file with a
financial statement and its ratios, runs an application through maker-checker approval, opens
the group limit tree, secures a facility with collateral and a guarantee, draws loans with
schedules, lets five months pass with borrowers who pay, pay late, pay part or stop paying,
allocates every payment, computes days past due, raises a red risk event and freezes the
facility of the borrower who stopped, and reports utilisation, DPD and every refusal the model
made along the way. Everything runs in memory; nothing is written.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import click
from rich.console import Console
from rich.table import Table

from creditmgmt.adapters.system import SequentialIds
from creditmgmt.domain import (
    Amortisation,
    Assessment,
    Collateral,
    CollateralType,
    Confidentiality,
    CreditApplication,
    CreditFile,
    Customer,
    CustomerGroup,
    CustomerKind,
    DomainError,
    Drawdown,
    Facility,
    FacilityLevel,
    FinancialStatement,
    Guarantee,
    GuaranteeType,
    LimitTree,
    Money,
    ProductType,
    Rate,
    RefreshCycle,
    Repayment,
    RepaymentSchedule,
    RiskEvent,
    Section,
    Severity,
    UserId,
    Valuation,
    label,
)

START = date(2026, 1, 5)
MAKER = UserId("usr_rm_li")  # relationship manager who prepares the application
CHECKER = UserId("usr_credit_wang")  # credit officer who reviews and approves
USCC = ("91310000MA1FL4T01A", "91110000100003962Y", "91440300MA5DC12341")
CNY = "CNY"

_TEXT = {
    "customers": ("Customers", "客户"),
    "limits": ("Limits and days past due", "授信额度与逾期"),
    "ratios": ("Financial ratios", "财务比率"),
    "refused": ("Refused, as the invariants require:", "按规则拒绝的操作："),
    "remote": ("remote", "异地"),
    "local": ("local", "本地"),
}


def _t(key: str, lang: str) -> str:
    en, zh = _TEXT[key]
    return zh if lang == "zh" else en


def _cny(amount: str) -> Money:
    return Money.of(amount, CNY)


def run_walkthrough(console: Console, *, lang: str = "en", seed: int = 7) -> dict[str, object]:
    """Run the walkthrough, print it, and return the figures it reported."""
    rnd = random.Random(seed)
    ids = SequentialIds()
    refusals: list[str] = []

    def refused(action: str, attempt: Callable[[], object]) -> None:
        try:
            attempt()
        except DomainError as e:
            refusals.append(f"{type(e).__name__}: {e}")
        else:  # pragma: no cover - the walkthrough is built so that these are refused
            raise AssertionError(f"{action} should have been refused")

    # customers of one group; the institution is in Shanghai (310000) ----------------------
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
            relationship_manager=MAKER,
        )
        c.activate(on=START)
        if c.is_remote:
            c.verify_identity(on=START)  # remote customers: identity verified in person
        c.join_group(group.id)
        group.add_member(c.id)
        members.append(c)

    # the credit file of the first member: an audited statement and its ratios -------------
    credit_file = CreditFile.open(ids, customer_id=members[0].id, refresh_cycle=RefreshCycle.YEARLY)
    statement = FinancialStatement(
        period_end=date(2025, 12, 31),
        currency=CNY,
        current_assets=_cny("42000000"),
        total_assets=_cny("120000000"),
        current_liabilities=_cny("30000000"),
        total_liabilities=_cny("66000000"),
        equity=_cny("54000000"),
        revenue=_cny("150000000"),
        ebitda=_cny("21000000"),
        ebit=_cny("16000000"),
        interest_expense=_cny("4000000"),
        net_profit=_cny("9500000"),
        operating_cash_flow=_cny("14000000"),
        debt_service=_cny("10000000"),
        audited=True,
    )
    credit_file.record(
        key="fs-2025",
        section=Section.FINANCIAL_STATEMENTS,
        source="audited annual report",
        as_of=date(2025, 12, 31),
        confidentiality=Confidentiality.CONFIDENTIAL,
        financial_statement=statement,
    )
    credit_file.verify("fs-2025", by=CHECKER, on=START)

    # an application through maker-checker ---------------------------------------------------
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    app = CreditApplication.draft(
        ids,
        customer_id=members[0].id,
        product_type=ProductType.WORKING_CAPITAL,
        requested=_cny("4000000.00"),
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
    refused(
        "self-approval",
        lambda: app.approve(by=MAKER, at=at, level="branch", ruleset_ref="demo"),
    )
    app.approve(by=CHECKER, at=at, level="regional", amount=_cny("3500000"), ruleset_ref="demo")
    app.contract(by=CHECKER, at=at)

    # the group limit tree ----------------------------------------------------------------------
    root = Facility.open(
        ids,
        level=FacilityLevel.GROUP,
        limit=_cny("12000000"),
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
            limit=_cny(master_limit),
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
    refused(
        "sub-limits above the master",
        lambda: tree.change_limit(first.id, _cny("6000000"), on=START, reason="ask"),
    )

    # security: a mortgage and a guarantee on the first working-capital line -------------------
    mortgage = Collateral.register(
        ids,
        type=CollateralType.REAL_ESTATE,
        owner_name=members[0].legal_name,
        owner_id=members[0].id,
        valuation=Valuation(_cny("4500000"), date(2025, 12, 20), "上海某房地产估价有限公司"),
        haircut=Rate.of("0.30"),
        revaluation_due=date(2026, 12, 20),
    )
    guarantee = Guarantee.register(
        ids,
        type=GuaranteeType.JOINT_AND_SEVERAL,
        guarantor_name="示例控股有限公司",
        amount=_cny("1000000"),
        valid_until=date(2027, 6, 30),
    )
    first.link_collateral(mortgage.id)
    first.link_guarantee(guarantee.id)

    # drawdowns with schedules ------------------------------------------------------------------
    loans: list[Drawdown] = []
    for i, (customer, node) in enumerate(products):
        amount = (node.limit * Decimal(rnd.choice(["0.3", "0.5", "0.8"]))).amount
        schedule = RepaymentSchedule.build(
            principal=Money(amount, CNY),
            annual_rate=Rate.percent("4.35"),
            start=START,
            term_months=12,
            amortisation=Amortisation.EQUAL_PRINCIPAL if i % 2 else Amortisation.ANNUITY,
        )
        loan = Drawdown.book(ids, facility_id=node.id, customer_id=customer.id, schedule=schedule)
        tree.draw(node.id, schedule.principal, on=START, drawdown_id=loan.id)
        loans.append(loan)
    refused(
        "drawing past the headroom",
        lambda: tree.draw(first.id, first.available + _cny("0.01"), on=START),
    )
    refused(
        "drawing US dollars on a yuan limit",
        lambda: tree.draw(first.id, Money.of("100", "USD"), on=START),
    )

    # five months pass; some borrowers pay, some pay late, part, or not at all ---------------
    as_of = START + timedelta(days=150)
    behaviour = ["pays", "pays", "late", "pays", "stops", "partial"]
    for loan, how in zip(loans, behaviour, strict=True):
        for inst in loan.schedule.installments:
            if inst.due_date >= as_of or (how == "stops" and inst.sequence > 1):
                break
            paid = loan.paid[inst.sequence - 1]
            owed = inst.total - (paid.fees + paid.interest + paid.principal)
            pay = owed / 2 if how == "partial" and inst.sequence > 2 else owed
            paid_on = inst.due_date + timedelta(days=12 if how == "late" else 0)
            if paid_on >= as_of:
                break
            allocation = loan.apply(Repayment(pay, paid_on))
            if allocation.principal.is_positive:  # repaid principal restores revolving headroom
                tree.repay(loan.facility_id, allocation.principal, on=paid_on)
            if how == "partial" and inst.sequence > 2:
                break

    # monitoring: DPD, a red warning for the borrower past 30 days, its facility frozen --------
    dpd_by_facility = {loan.facility_id: loan.dpd(as_of) for loan in loans}
    warnings: list[RiskEvent] = []
    for loan in loans:
        dpd = loan.dpd(as_of)
        if dpd > 30:
            event = RiskEvent.raise_(
                ids,
                type="EW-R-DPD",
                severity=Severity.RED,
                customer_id=loan.customer_id,
                facility_id=loan.facility_id,
                detected_at=datetime.combine(as_of, datetime.min.time(), tzinfo=UTC),
                business_date=as_of,
                rule_ref="walkthrough: dpd > 30 is red (DOMAIN.md early warning)",
                reason_code=f"DPD_{dpd}",
            )
            warnings.append(event)
            tree.node(loan.facility_id).freeze(on=as_of, reason=f"red warning {event.id}")
    frozen = next(n for n in tree.nodes if n.status.value == "frozen")
    refused(
        "drawing on a frozen facility",
        lambda: tree.draw(frozen.id, _cny("1.00"), on=as_of),
    )

    # report ------------------------------------------------------------------------------------
    people = Table(title=_t("customers", lang))
    for col in ("customer", "region", "异地/remote", "status"):
        people.add_column(col)
    for c in members:
        people.add_row(
            c.legal_name,
            c.home_region,
            _t("remote" if c.is_remote else "local", lang),
            label(c.status.value, lang),
        )
    console.print(people)

    ratios = Table(title=f"{_t('ratios', lang)} — {members[0].legal_name} {statement.period_end}")
    for col in ("current ratio", "debt/assets", "interest coverage", "DSCR"):
        ratios.add_column(col, justify="right")
    ratios.add_row(
        *(
            f"{value:.2f}" if value is not None else "n/a"
            for value in (
                statement.current_ratio,
                statement.debt_to_assets,
                statement.interest_coverage,
                statement.dscr,
            )
        )
    )
    console.print(ratios)
    exposure = first.drawn
    console.print(
        f"Collateral {mortgage.id}: value {mortgage.valuation.value.format()}, lendable "
        f"{mortgage.lendable_value.format()}, LTV on {first.id} "
        f"{mortgage.ltv(exposure) * 100:.1f}%; guarantee {guarantee.id} "
        f"{guarantee.amount.format()}"
    )

    table = Table(title=f"{_t('limits', lang)} — {as_of}")
    for col in ("facility", "level", "status", "limit", "drawn", "available", "DPD"):
        table.add_column(
            col, justify="right" if col in ("limit", "drawn", "available", "DPD") else "left"
        )
    for node in tree.nodes:
        table.add_row(
            str(node.id),
            label(node.level.value, lang),
            label(node.status.value, lang),
            node.limit.format(),
            node.drawn.format(),
            node.available.format(),
            str(dpd_by_facility.get(node.id, "")),
        )
    console.print(table)
    for event in warnings:
        console.print(
            f"{label(event.severity.value, lang)} {event.id}: {event.type} on {event.facility_id}, "
            f"review due {event.review_due}"
        )
    console.print(_t("refused", lang))
    for r in refusals:
        console.print(f"  - {r}")
    violations = tree.violations()
    console.print(f"Tree invariants: {violations or 'hold'}")
    return {
        "refusals": refusals,
        "violations": violations,
        "max_dpd": max(dpd_by_facility.values()),
        "group_drawn": root.drawn,
        "remote": [c.legal_name for c in members if c.is_remote],
        "ratios": (
            statement.current_ratio,
            statement.debt_to_assets,
            statement.interest_coverage,
            statement.dscr,
        ),
        "warnings": [(str(e.facility_id), e.severity.value) for e in warnings],
        "frozen": [str(n.id) for n in tree.nodes if n.status.value == "frozen"],
        "ltv": mortgage.ltv(exposure),
        "loans_outstanding": Money.sum((ln.outstanding_principal for ln in loans), CNY),
    }


@click.command()
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", help="Report language.")
def demo(lang: str) -> None:
    """Walk through the credit model on a small synthetic book and report."""
    result = run_walkthrough(Console(width=110), lang=lang)
    if result["violations"]:
        raise SystemExit(1)
