"""The stored book as rule inputs, for back-tests: `CreditDesk.portfolio(by, as_of)`.

    report = diff_impact(current, proposed, desk.portfolio(by, as_of), key="loan_id",
                         amount="exposure", blocks=["classification", "provisioning_cn2002"])

One row per performing loan, built from the store the way the daily run builds its inputs
(`monitoring.assess`): the loan's DPD on `as_of` (`Drawdown.dpd`), its outstanding principal,
the restructuring facts and the customer's bureau NPL share (`classification_inputs`), and
the category, stage and ECL inputs the run derives under the rule set in force (`category`
after the NPL hold and borrower contagion, `sicr`, `impaired`, `stage`, `pd_12m`, ...).
Each block takes the fields it reads and ignores the rest, so one row feeds
`classification`, `ifrs9_stage`, `ecl`, the provisioning blocks and `collections`.

Rows stream: customers are read page by page (`batch_size`), each page in its own read-only
unit of work, and no row is kept. A customer the run could not assess still gives its
loans' facts (DPD, balance, classification inputs), without `category` — the provisioning
blocks then report those loans as not decided, by loan id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.loan import LoanStatus
from creditmgmt.domain.products import ProductType
from creditmgmt.policies import RuleSet
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.ports.slices import PortfolioSlice
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import SYSTEM, Principal
from creditmgmt.services.core import DeskCore
from creditmgmt.services.monitoring.assess import (
    Evaluators,
    RunSettings,
    assess_customer,
    classification_inputs,
)

#: the columns of a portfolio row, in order
COLUMNS = (
    "loan_id",
    "customer_id",
    "facility_id",
    "product_type",
    "currency",
    "dpd",
    "restructured",
    "restructured_failed",
    "bureau_npl_share",
    "balance",
    "exposure",
    "category",
    "sicr",
    "impaired",
    "stage",
    "pd_12m",
    "pd_lifetime",
    "lgd",
    "ead",
)


class PortfolioCalls(DeskCore):
    """The book as rule inputs (mixed into `CreditDesk`)."""

    def portfolio(
        self,
        by: Principal = SYSTEM,
        as_of: date | None = None,
        *,
        rules: RuleSet | None = None,
        settings: RunSettings | None = None,
        batch_size: int = 200,
    ) -> Iterator[dict[str, Any]]:
        """Stream one row of rule inputs per performing loan on `as_of` (default: today by
        the desk's clock), built as the daily run builds them (see the module doc); the
        derived fields (`category` ...) under `rules` (default: the rule set in force).

        Raises:
            PermissionDeniedError: `by` may not read the portfolio (call "portfolio"; every
                role by default, as the reports).
            ConfigurationError: `batch_size` below 1.
            RuleSetNotFoundError: no `rules` given and none is in force on `as_of`.
        """
        if batch_size < 1:
            raise ConfigurationError(f"portfolio batch_size must be >= 1, got {batch_size}")
        day = as_of or self._ctx.clock.now().date()
        self._permit(by, "portfolio", f"portfolio:{day}")
        ev = Evaluators(rules or self._ctx.rules.as_of(day), settings or RunSettings())
        return _rows(self, ev, day, batch_size)


def _rows(desk: DeskCore, ev: Evaluators, as_of: date, batch_size: int) -> Iterator[dict[str, Any]]:
    cursor: CustomerId | None = None
    while True:
        with desk.store.unit_of_work() as uow:
            page = next(
                iter(
                    uow.customers.scan(
                        slice=PortfolioSlice.customers(cursor), batch_size=batch_size + 1
                    )
                ),
                [],
            )
            page = [c for c in page if cursor is None or str(c.id) > str(cursor)][:batch_size]
            if not page:
                return
            rows = _page_rows(uow, ev, page, as_of)
        cursor = page[-1].id
        yield from rows


def _page_rows(
    uow: UnitOfWork, ev: Evaluators, customers: list[Any], as_of: date
) -> list[dict[str, Any]]:
    ids = [c.id for c in customers]
    facilities: dict[Any, list[Any]] = {i: [] for i in ids}
    for f in uow.facilities.find(customer_ids=ids):
        facilities.setdefault(f.customer_id, []).append(f)
    loans: dict[Any, list[Any]] = {i: [] for i in ids}
    for loan in uow.drawdowns.find(customer_ids=ids, status=LoanStatus.PERFORMING):
        loans.setdefault(loan.customer_id, []).append(loan)
    events: dict[Any, list[Any]] = {i: [] for i in ids}
    for event in uow.risk_events.find(customer_ids=ids):
        events.setdefault(event.customer_id, []).append(event)
    files = {f.customer_id: f for f in uow.credit_files.for_customers(ids)}
    settings = ev.settings
    rows: list[dict[str, Any]] = []
    for customer in customers:
        file = files.get(customer.id)
        report = file.latest_bureau_report() if file is not None else None
        share = report.npl_share_all_banks if report is not None else Decimal(0)
        try:
            outcome = assess_customer(
                ev,
                customer,
                facilities[customer.id],
                loans[customer.id],
                events[customer.id],
                file,
                as_of,
            )
            decided = {o.loan.id: o for o in outcome.loans}
        except CreditMgmtError:
            decided = {}
        by_facility = {f.id: f for f in facilities[customer.id]}
        for loan in loans[customer.id]:
            facility = by_facility.get(loan.facility_id)
            dpd = loan.dpd(as_of)
            balance = loan.outstanding_principal.amount
            row: dict[str, Any] = {
                "loan_id": str(loan.id),
                "customer_id": str(customer.id),
                "facility_id": str(loan.facility_id),
                "product_type": facility.product_type.value if facility is not None else None,
                "currency": loan.currency,
                "dpd": dpd,
                "balance": balance,
                "exposure": balance,
            }
            if facility is not None and facility.product_type is not ProductType.CARD:
                try:
                    inputs, _start, _over = classification_inputs(ev, loan, dpd, as_of, share)
                    row.update(inputs)
                except CreditMgmtError:
                    pass  # the classification block reports the loan's missing inputs
            done = decided.get(loan.id)
            if done is not None:
                category = done.risk.category
                row.update(
                    category=category.value,
                    sicr=category.rank >= 1,
                    impaired=category.is_npl,
                    stage=int(done.risk.stage),
                    pd_12m=settings.pd_12m,
                    pd_lifetime=settings.pd_lifetime,
                    lgd=settings.lgd,
                    ead=balance,
                )
            rows.append(row)
    return rows
