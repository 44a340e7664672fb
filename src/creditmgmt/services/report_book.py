"""The portfolio reports that read the book (`creditmgmt.services.reports`), each an
accumulator fed page by page, so one scan of the book feeds any number of them with memory
bounded by a page of customers.

    book = [Exposure("industry", pii=False), Npl()]
    scan(store, book)           # loans are read only if one of them needs them
    book[0].rows(), book[1].rows()

An accumulator (`BookReport`) says whether it needs the performing loans (`loans`), takes
each page (`take`) and then gives its rows (`rows`). Exposure, utilisation, shares,
concentration and remote read customers and facilities only (exposure by category excepted);
npl, provisions and collections read the loans.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

import attrs

from creditmgmt.domain.customer import Customer
from creditmgmt.domain.facility import Facility, FacilityLevel
from creditmgmt.domain.loan import Drawdown, LoanStatus
from creditmgmt.domain.money import Money
from creditmgmt.policies.ruleset import RuleSet
from creditmgmt.ports.store import Store
from creditmgmt.services.access import mask
from creditmgmt.services.context import Capital
from creditmgmt.services.core import customers_after
from creditmgmt.services.exposure import concentration_inputs

Row = dict[str, Any]


@attrs.frozen
class Page:
    """One page of the book: customers, their facilities and (if asked for) their
    performing loans."""

    customers: list[Customer]
    facilities: list[Facility]
    loans: list[Drawdown]


def pages(store: Store, *, loans: bool, size: int = 1000) -> Iterator[Page]:
    """The book page by page of customers, each page read in its own unit of work; the
    performing loans only if `loans` (otherwise every page's `loans` is empty)."""
    cursor: str | None = None
    while True:
        with store.unit_of_work() as uow:
            page = customers_after(uow, cursor, size)
            if not page:
                return
            ids = [c.id for c in page]
            facilities = uow.facilities.find(customer_ids=ids)
            performing = (
                uow.drawdowns.find(customer_ids=ids, status=LoanStatus.PERFORMING) if loans else []
            )
        yield Page(page, facilities, performing)
        cursor = str(page[-1].id)


class BookReport(Protocol):
    """A report fed the book page by page."""

    @property
    def loans(self) -> bool:
        """Whether `take` needs the pages' performing loans."""
        ...

    def take(self, page: Page) -> None:
        """Add one page of the book."""
        ...

    def rows(self) -> list[Row]:
        """The report's rows, once every page has been taken."""
        ...


def scan(store: Store, reports: Sequence[BookReport], *, size: int = 1000) -> None:
    """Feed every page of the book to every report, in one pass; the loans are read only
    if one of the reports needs them, and nothing is read if there are no reports."""
    if not reports:
        return
    for page in pages(store, loans=any(r.loans for r in reports), size=size):
        for report in reports:
            report.take(page)


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001")) if whole else None


def _add(into: dict[Any, Decimal], key: Any, amount: Decimal) -> None:
    into[key] = into.get(key, Decimal(0)) + amount


def _category(loan: Drawdown) -> str:
    return loan.risk.category.value if loan.risk is not None else "unclassified"


def _masters(page: Page) -> list[Facility]:
    return [
        f
        for f in page.facilities
        if f.level is FacilityLevel.CUSTOMER and (not f.status.is_terminal or not f.drawn.is_zero)
    ]


# exposure, utilisation, shares ----------------------------------------------------------------
class Exposure:
    """Limit, drawn balance and share by customer, group, industry, region, product or
    (from the loans) risk category. `shape` "utilisation" adds the available amount and
    drops the share; "shares" keeps key, customers, currency, drawn and share."""

    def __init__(self, group_by: str, *, pii: bool, shape: str = "exposure") -> None:
        self.group_by = group_by
        self.pii = pii
        self.shape = shape
        self.loans = group_by == "category"
        self._limit: dict[tuple[str, str], Decimal] = {}
        self._drawn: dict[tuple[str, str], Decimal] = {}
        self._members: dict[tuple[str, str], set[str]] = {}
        self._names: dict[str, tuple[str, str | None]] = {}

    def take(self, page: Page) -> None:
        group_by, drawn, members = self.group_by, self._drawn, self._members
        if group_by == "category":
            for loan in page.loans:
                key = (_category(loan), loan.currency)
                _add(drawn, key, loan.outstanding_principal.amount)
                members.setdefault(key, set()).add(str(loan.customer_id))
            return
        people = {c.id: c for c in page.customers}
        nodes = page.facilities if group_by == "product" else _masters(page)
        for f in nodes:
            if group_by == "product" and f.level is not FacilityLevel.PRODUCT:
                continue
            if f.status.is_terminal and f.drawn.is_zero:
                continue
            c = people[f.customer_id] if f.customer_id is not None else None
            if c is None:
                continue
            self._names[str(c.id)] = (c.legal_name, c.registration_id)
            key = (self._key(c, f), f.currency)
            _add(self._limit, key, f.limit.amount)
            _add(drawn, key, f.drawn.amount)
            members.setdefault(key, set()).add(str(c.id))

    def _key(self, c: Customer, f: Facility) -> str:
        if self.group_by == "customer":
            return str(c.id)
        if self.group_by == "group":
            return str(c.group_id) if c.group_id is not None else f"(none) {c.id}"
        if self.group_by == "industry":
            return c.industry_code
        if self.group_by == "region":
            return c.home_region
        return f.product_type.value if f.product_type is not None else "(none)"

    def rows(self) -> list[Row]:
        group_by, limit, drawn = self.group_by, self._limit, self._drawn
        totals: dict[str, Decimal] = {}
        for (_, currency), amount in drawn.items():
            _add(totals, currency, amount)
        rows = []
        for key in sorted(drawn, key=lambda k: (-drawn[k], k)):
            k, currency = key
            row: Row = {"key": k}
            if group_by == "customer":
                name, reg = self._names[k]
                row["name"] = name
                row["registration_id"] = reg if self.pii else mask(reg)
            row.update(customers=len(self._members[key]), currency=currency)
            if group_by != "category":
                row["limit"] = limit[key]
            row["drawn"] = drawn[key]
            if group_by != "category":
                row["utilisation"] = _ratio(drawn[key], limit[key])
            row["share"] = _ratio(drawn[key], totals[currency])
            rows.append(row)
        if self.shape == "utilisation":
            for row in rows:
                row["available"] = row["limit"] - row["drawn"]
                row.pop("share", None)
        elif self.shape == "shares":
            columns = ("key", "customers", "currency", "drawn", "share")
            rows = [{k: row[k] for k in columns} for row in rows]
        return rows


# asset quality --------------------------------------------------------------------------------
class _Quality:
    """The loan book by (category, currency) as [count, balance], and per currency the
    provisions held."""

    loans = True

    def __init__(self) -> None:
        self.by: dict[tuple[str, str], list[Decimal]] = {}
        self.provisions: dict[str, Decimal] = {}

    def take(self, page: Page) -> None:
        for loan in page.loans:
            slot = self.by.setdefault((_category(loan), loan.currency), [Decimal(0), Decimal(0)])
            slot[0] += 1
            slot[1] += loan.outstanding_principal.amount
            if loan.risk is not None:
                _add(self.provisions, loan.currency, loan.risk.provision.amount)

    def _totals(self) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
        """Per currency the balance and the non-performing (substandard, doubtful, loss)
        balance."""
        totals: dict[str, Decimal] = {}
        npls: dict[str, Decimal] = {}
        for (cat, currency), (_, balance) in self.by.items():
            _add(totals, currency, balance)
            if cat in ("substandard", "doubtful", "loss"):
                _add(npls, currency, balance)
        return totals, npls


class Npl(_Quality):
    """Loans and balance by risk category, then the NPL ratio, per currency."""

    def rows(self) -> list[Row]:
        by = self.by
        totals, npls = self._totals()
        order = ["normal", "special_mention", "substandard", "doubtful", "loss", "unclassified"]
        rows: list[Row] = []
        for cat, currency in sorted(by, key=lambda k: (k[1], order.index(k[0]))):
            count, balance = by[(cat, currency)]
            rows.append(
                {
                    "key": cat,
                    "currency": currency,
                    "loans": int(count),
                    "balance": balance,
                    "share": _ratio(balance, totals[currency]),
                }
            )
        for currency, total in sorted(totals.items()):
            npl = npls.get(currency, Decimal(0))
            rows.append(
                {
                    "key": "npl_ratio",
                    "currency": currency,
                    "loans": None,
                    "balance": npl,
                    "share": _ratio(npl, total),
                }
            )
        return rows


class Provisions(_Quality):
    """Provision coverage vs the 150% floor and provision ratio vs 2.5%, per currency."""

    def __init__(self, rules: RuleSet) -> None:
        super().__init__()
        self.rules = rules

    def rows(self) -> list[Row]:
        totals, npls = self._totals()
        rows = []
        for currency, loans in sorted(totals.items()):
            npl = npls.get(currency, Decimal(0))
            held = self.provisions.get(currency, Decimal(0))
            floors = {"coverage_floor": Decimal("1.50"), "provision_ratio_floor": Decimal("0.025")}
            adequacy = self.rules.evaluate(
                "provision_adequacy",
                {"provisions": held, "npl_balance": npl, "loan_balance": loans, **floors},
            ).outputs
            rows.append(
                {
                    "currency": currency,
                    "balance": loans,
                    "npl": npl,
                    "provisions": held,
                    "coverage": _ratio(held, npl),
                    "coverage_floor": floors["coverage_floor"],
                    "coverage_ok": adequacy["coverage_ok"],
                    "provision_ratio": _ratio(held, loans),
                    "provision_ratio_floor": floors["provision_ratio_floor"],
                    "provision_ratio_ok": adequacy["provision_ratio_ok"],
                    "shortfall": adequacy["shortfall"],
                }
            )
        return rows


# concentration and remote ---------------------------------------------------------------------
class Concentration:
    """The `top` largest customers and groups (in the capital's currency) vs their caps."""

    loans = False

    def __init__(self, capital: Capital, rules: RuleSet, top: int = 10) -> None:
        self.capital = capital
        self.rules = rules
        self.top = top
        self.currency = capital.net_capital.currency
        self._customers: dict[str, tuple[Decimal, Decimal]] = {}
        self._groups: dict[str, tuple[Decimal, Decimal]] = {}

    def take(self, page: Page) -> None:
        people = {c.id: c for c in page.customers}
        customers, groups = self._customers, self._groups
        for f in _masters(page):
            if f.currency != self.currency or f.customer_id is None:
                continue
            c = people[f.customer_id]
            used, drawn = f.used.amount, f.drawn.amount
            old = customers.get(str(c.id), (Decimal(0), Decimal(0)))
            customers[str(c.id)] = (old[0] + used, old[1] + drawn)
            if c.group_id is not None:
                g = groups.get(str(c.group_id), (Decimal(0), Decimal(0)))
                groups[str(c.group_id)] = (g[0] + used, g[1] + used)

    def rows(self) -> list[Row]:
        capital = self.capital
        rows: list[Row] = []
        for kind, table in (("customer", self._customers), ("group", self._groups)):
            for key in sorted(table, key=lambda k: (-table[k][0], k))[: self.top]:
                exposure, loans = table[key]
                inputs = concentration_inputs(
                    kind,
                    Money.of(exposure, self.currency),
                    Money.of(loans, self.currency),
                    capital,
                )
                out = self.rules.evaluate("concentration", inputs).outputs
                rows.append(
                    {
                        "kind": kind,
                        "key": key,
                        "currency": self.currency,
                        "exposure": exposure,
                        "cap": out["limit"],
                        "headroom": out["headroom"],
                        "breach": out["breach"],
                    }
                )
        return rows


class Remote:
    """The 异地 (remote customers') share of the drawn book vs 20%, per currency."""

    loans = False

    def __init__(self) -> None:
        self._remote: dict[str, Decimal] = {}
        self._total: dict[str, Decimal] = {}

    def take(self, page: Page) -> None:
        people = {c.id: c for c in page.customers}
        for f in _masters(page):
            if f.customer_id is None:
                continue
            _add(self._total, f.currency, f.drawn.amount)
            if people[f.customer_id].is_remote:
                _add(self._remote, f.currency, f.drawn.amount)

    def rows(self) -> list[Row]:
        cap = Decimal("0.20")
        rows = []
        for currency, amount in sorted(self._total.items()):
            remote = self._remote.get(currency, Decimal(0))
            share = _ratio(remote, amount)
            rows.append(
                {
                    "currency": currency,
                    "remote": remote,
                    "total": amount,
                    "share": share,
                    "cap_share": cap,
                    "within_cap": share is None or share <= cap,
                }
            )
        return rows


# collections ----------------------------------------------------------------------------------
class Collections:
    """Performing loans and their balance by collections action (from days past due)."""

    loans = True
    _ORDER = (
        "none",
        "reminder",
        "rm_call",
        "formal_notice",
        "final_demand",
        "legal",
        "write_off_review",
    )

    def __init__(self, rules: RuleSet, as_of: date) -> None:
        self.evaluate = rules.evaluator("collections")
        self.as_of = as_of
        self._by: dict[tuple[str, str], list[Decimal]] = {}

    def take(self, page: Page) -> None:
        for loan in page.loans:
            action = self.evaluate({"dpd": loan.dpd(self.as_of)})["action"]
            slot = self._by.setdefault((action, loan.currency), [Decimal(0), Decimal(0)])
            slot[0] += 1
            slot[1] += loan.outstanding_principal.amount

    def rows(self) -> list[Row]:
        by = self._by
        return [
            {"key": a, "currency": c, "loans": int(by[(a, c)][0]), "balance": by[(a, c)][1]}
            for a, c in sorted(by, key=lambda k: (k[1], self._ORDER.index(k[0])))
        ]
