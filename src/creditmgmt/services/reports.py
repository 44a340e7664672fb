"""Portfolio reports (`CreditDesk.report`, `CreditDesk.export_csv`): plain rows, read from
the book as the daily run left it, page by page (one read-only unit of work per page of
customers, so memory stays bounded).

    desk.report(by, "npl", as_of=day)
    desk.report(by, "exposure", as_of=day, group_by="industry")
    desk.export_csv(by, "exposure", "exposure.csv", as_of=day, lang="zh")

Reports (`REPORTS`): exposure (by customer, group, industry, region, product or category),
utilisation (余额, 使用率 by product), npl (NPL ratio by category), provisions (coverage vs
the 150% floor, provision ratio vs 2.5%), concentration (largest customers and groups vs
their caps; needs the desk's capital figures), shares (industry or region shares of the
book), remote (异地 share vs 20%), overdue (reviews, file refreshes and other tasks past due;
red/yellow reviews overdue), risk_events (open events by severity), collections (the
pipeline by collections action). Amounts are `Decimal`s with a `currency` column; ratios
are fractions. Registration ids are masked unless the principal reads PII.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, NamedTuple

import attrs

from creditmgmt.domain.customer import Customer
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.facility import Facility, FacilityLevel
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.interaction import TaskStatus
from creditmgmt.domain.labels import label
from creditmgmt.domain.loan import Drawdown, LoanStatus
from creditmgmt.domain.risk import RiskEventStatus
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.ports.slices import PortfolioSlice
from creditmgmt.ports.store import Store
from creditmgmt.services.access import Principal, mask
from creditmgmt.services.core import DeskCore

Row = dict[str, Any]

REPORTS: Final = (
    "exposure",
    "utilisation",
    "npl",
    "provisions",
    "concentration",
    "shares",
    "remote",
    "overdue",
    "risk_events",
    "collections",
)
_GROUPINGS: Final = {
    "exposure": ("customer", "group", "industry", "region", "product", "category"),
    "utilisation": ("product", "customer"),
    "shares": ("industry", "region"),
    "risk_events": ("severity", "type"),
}
#: Column headers in English and Chinese.
HEADERS: Final[dict[str, tuple[str, str]]] = {
    "key": ("key", "维度"),
    "customer": ("customer", "客户"),
    "name": ("name", "名称"),
    "registration_id": ("registration id", "统一社会信用代码"),
    "customers": ("customers", "客户数"),
    "loans": ("loans", "借据数"),
    "currency": ("currency", "币种"),
    "limit": ("limit", "授信额度"),
    "drawn": ("drawn (balance)", "余额"),
    "available": ("available", "可用额度"),
    "utilisation": ("utilisation", "使用率"),
    "balance": ("balance", "余额"),
    "share": ("share", "占比"),
    "npl": ("NPL balance", "不良余额"),
    "npl_ratio": ("NPL ratio", "不良率"),
    "provisions": ("provisions", "拨备"),
    "coverage": ("coverage ratio", "拨备覆盖率"),
    "coverage_floor": ("coverage floor", "拨备覆盖率监管要求"),
    "coverage_ok": ("coverage met", "拨备覆盖率达标"),
    "provision_ratio": ("provision ratio", "贷款拨备率"),
    "provision_ratio_floor": ("provision ratio floor", "贷款拨备率监管要求"),
    "provision_ratio_ok": ("provision ratio met", "贷款拨备率达标"),
    "shortfall": ("shortfall", "拨备缺口"),
    "kind": ("kind", "类型"),
    "exposure": ("exposure", "风险暴露"),
    "cap": ("cap", "限额"),
    "headroom": ("headroom", "剩余空间"),
    "breach": ("breach", "超限"),
    "remote": ("remote exposure", "异地授信余额"),
    "total": ("total", "合计"),
    "cap_share": ("cap share", "上限占比"),
    "within_cap": ("within cap", "未超限"),
    "count": ("count", "数量"),
    "overdue": ("overdue", "已逾期"),
    "severity": ("severity", "预警级别"),
    "review_overdue": ("review overdue", "复核逾期"),
    "action": ("action", "催收措施"),
}


class ReportError(CreditMgmtError):
    """An unknown report or grouping, or a report the desk lacks the figures for."""

    default_message = "report cannot be produced"


@attrs.frozen
class _Page:
    customers: list[Customer]
    facilities: list[Facility]
    loans: list[Drawdown]


def _pages(store: Store, size: int = 1000) -> Iterator[_Page]:
    """The book page by page of customers, each page read in its own unit of work."""
    cursor: str | None = None
    while True:
        with store.unit_of_work() as uow:
            start = None if cursor is None else CustomerId(cursor)
            page = next(
                iter(
                    uow.customers.scan(slice=PortfolioSlice.customers(start), batch_size=size + 1)
                ),
                [],
            )
            page = [c for c in page if cursor is None or str(c.id) > cursor][:size]
            if not page:
                return
            ids = [c.id for c in page]
            facilities = uow.facilities.find(customer_ids=ids)
            loans = uow.drawdowns.find(customer_ids=ids, status=LoanStatus.PERFORMING)
        yield _Page(page, facilities, loans)
        cursor = str(page[-1].id)


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return (part / whole).quantize(Decimal("0.0001")) if whole else None


class _Quality(NamedTuple):
    """The loan book by (category, currency) as [count, balance], and per currency the
    provisions held, the balance and the non-performing (substandard, doubtful, loss) balance."""

    by: dict[tuple[str, str], list[Decimal]]
    provisions: dict[str, Decimal]
    totals: dict[str, Decimal]
    npls: dict[str, Decimal]


def _add(into: dict[Any, Decimal], key: Any, amount: Decimal) -> None:
    into[key] = into.get(key, Decimal(0)) + amount


def _category(loan: Drawdown) -> str:
    return loan.risk.category.value if loan.risk is not None else "unclassified"


def _masters(page: _Page) -> list[Facility]:
    return [
        f
        for f in page.facilities
        if f.level is FacilityLevel.CUSTOMER and (not f.status.is_terminal or not f.drawn.is_zero)
    ]


class _Reader:
    def __init__(self, desk: ReportCalls, by: Principal, as_of: date) -> None:
        self.store = desk.store
        self.ctx = desk.context
        self.as_of = as_of
        self.pii = desk.context.access.reads_pii(by)

    # exposure -------------------------------------------------------------------------------
    def exposure(self, group_by: str) -> list[Row]:
        limit: dict[tuple[str, str], Decimal] = {}
        drawn: dict[tuple[str, str], Decimal] = {}
        members: dict[tuple[str, str], set[str]] = {}
        names: dict[str, tuple[str, str | None]] = {}
        for page in _pages(self.store):
            people = {c.id: c for c in page.customers}
            if group_by == "category":
                for loan in page.loans:
                    key = (_category(loan), loan.currency)
                    _add(drawn, key, loan.outstanding_principal.amount)
                    members.setdefault(key, set()).add(str(loan.customer_id))
                continue
            nodes = page.facilities if group_by == "product" else _masters(page)
            for f in nodes:
                if group_by == "product" and f.level is not FacilityLevel.PRODUCT:
                    continue
                if f.status.is_terminal and f.drawn.is_zero:
                    continue
                c = people[f.customer_id] if f.customer_id is not None else None
                if c is None:
                    continue
                k = self._key(group_by, c, f)
                names[str(c.id)] = (c.legal_name, c.registration_id)
                key = (k, f.currency)
                _add(limit, key, f.limit.amount)
                _add(drawn, key, f.drawn.amount)
                members.setdefault(key, set()).add(str(c.id))
        totals: dict[str, Decimal] = {}
        for (_, currency), amount in drawn.items():
            _add(totals, currency, amount)
        rows = []
        for key in sorted(drawn, key=lambda k: (-drawn[k], k)):
            k, currency = key
            row: Row = {"key": k}
            if group_by == "customer":
                name, reg = names[k]
                row["name"] = name
                row["registration_id"] = reg if self.pii else mask(reg)
            row.update(customers=len(members[key]), currency=currency)
            if group_by != "category":
                row["limit"] = limit[key]
            row["drawn"] = drawn[key]
            if group_by != "category":
                row["utilisation"] = _ratio(drawn[key], limit[key])
            row["share"] = _ratio(drawn[key], totals[currency])
            rows.append(row)
        return rows

    def _key(self, group_by: str, c: Customer, f: Facility) -> str:
        if group_by == "customer":
            return str(c.id)
        if group_by == "group":
            return str(c.group_id) if c.group_id is not None else f"(none) {c.id}"
        if group_by == "industry":
            return c.industry_code
        if group_by == "region":
            return c.home_region
        return f.product_type.value if f.product_type is not None else "(none)"

    def utilisation(self, group_by: str) -> list[Row]:
        rows = self.exposure(group_by)
        for row in rows:
            row["available"] = row["limit"] - row["drawn"]
            row.pop("share", None)
        return rows

    # asset quality --------------------------------------------------------------------------
    def _quality(self) -> _Quality:
        by: dict[tuple[str, str], list[Decimal]] = {}
        provisions: dict[str, Decimal] = {}
        for page in _pages(self.store):
            for loan in page.loans:
                slot = by.setdefault((_category(loan), loan.currency), [Decimal(0), Decimal(0)])
                slot[0] += 1
                slot[1] += loan.outstanding_principal.amount
                if loan.risk is not None:
                    _add(provisions, loan.currency, loan.risk.provision.amount)
        totals: dict[str, Decimal] = {}
        npls: dict[str, Decimal] = {}
        for (cat, currency), (_, balance) in by.items():
            _add(totals, currency, balance)
            if cat in ("substandard", "doubtful", "loss"):
                _add(npls, currency, balance)
        return _Quality(by, provisions, totals, npls)

    def npl(self, _grouping: str) -> list[Row]:
        by, _provisions, totals, npls = self._quality()
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

    def provisions(self, _grouping: str) -> list[Row]:
        _by, provisions, totals, npls = self._quality()
        rules = self.ctx.rules.as_of(self.as_of)
        rows = []
        for currency, loans in sorted(totals.items()):
            npl = npls.get(currency, Decimal(0))
            held = provisions.get(currency, Decimal(0))
            floors = {"coverage_floor": Decimal("1.50"), "provision_ratio_floor": Decimal("0.025")}
            adequacy = rules.evaluate(
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

    # concentration and shares -----------------------------------------------------------------
    def concentration(self, _: str, top: int = 10) -> list[Row]:
        capital = self.ctx.capital
        if capital is None:
            raise ReportError(
                "report 'concentration' needs the desk's capital figures (open_desk(capital=...))"
            )
        currency = capital.net_capital.currency
        customers: dict[str, tuple[Decimal, Decimal]] = {}
        groups: dict[str, tuple[Decimal, Decimal]] = {}
        for page in _pages(self.store):
            people = {c.id: c for c in page.customers}
            for f in _masters(page):
                if f.currency != currency or f.customer_id is None:
                    continue
                c = people[f.customer_id]
                used, drawn = f.used.amount, f.drawn.amount
                old = customers.get(str(c.id), (Decimal(0), Decimal(0)))
                customers[str(c.id)] = (old[0] + used, old[1] + drawn)
                if c.group_id is not None:
                    g = groups.get(str(c.group_id), (Decimal(0), Decimal(0)))
                    groups[str(c.group_id)] = (g[0] + used, g[1] + used)
        rules = self.ctx.rules.as_of(self.as_of)
        rows: list[Row] = []
        for kind, table in (("customer", customers), ("group", groups)):
            for key in sorted(table, key=lambda k: (-table[k][0], k))[:top]:
                exposure, loans = table[key]
                out = rules.evaluate(
                    "concentration",
                    {
                        "counterparty_kind": kind,
                        "exposure": exposure,
                        "loans": loans,
                        "net_capital": capital.net_capital.amount,
                        "tier1_net": capital.tier1_net.amount,
                    },
                ).outputs
                rows.append(
                    {
                        "kind": kind,
                        "key": key,
                        "currency": currency,
                        "exposure": exposure,
                        "cap": out["limit"],
                        "headroom": out["headroom"],
                        "breach": out["breach"],
                    }
                )
        return rows

    def shares(self, group_by: str) -> list[Row]:
        return [
            {k: row[k] for k in ("key", "customers", "currency", "drawn", "share")}
            for row in self.exposure(group_by)
        ]

    def remote(self, _: str) -> list[Row]:
        remote: dict[str, Decimal] = {}
        total: dict[str, Decimal] = {}
        for page in _pages(self.store):
            people = {c.id: c for c in page.customers}
            for f in _masters(page):
                if f.customer_id is None:
                    continue
                _add(total, f.currency, f.drawn.amount)
                if people[f.customer_id].is_remote:
                    _add(remote, f.currency, f.drawn.amount)
        cap = Decimal("0.20")
        rows = []
        for currency, amount in sorted(total.items()):
            share = _ratio(remote.get(currency, Decimal(0)), amount)
            rows.append(
                {
                    "currency": currency,
                    "remote": remote.get(currency, Decimal(0)),
                    "total": amount,
                    "share": share,
                    "cap_share": cap,
                    "within_cap": share is None or share <= cap,
                }
            )
        return rows

    # work queues ---------------------------------------------------------------------------
    def overdue(self, _: str) -> list[Row]:
        counts: dict[str, int] = {}
        with self.store.unit_of_work() as uow:
            for batch in uow.tasks.scan(
                status=TaskStatus.OPEN, due_on_or_before=self.as_of, batch_size=2000
            ):
                for t in batch:
                    if t.due < self.as_of:
                        kind = t.title.split(":", 1)[0] if ":" in t.title else "task"
                        counts[kind] = counts.get(kind, 0) + 1
            for status in (RiskEventStatus.OPEN, RiskEventStatus.ACKNOWLEDGED):
                for events in uow.risk_events.scan(
                    status=status, review_due_before=self.as_of, batch_size=2000
                ):
                    for e in events:
                        if e.is_review_overdue(self.as_of):
                            kind = f"{e.severity.value} review"
                            counts[kind] = counts.get(kind, 0) + 1
        return [{"key": k, "overdue": counts[k]} for k in sorted(counts)]

    def risk_events(self, group_by: str) -> list[Row]:
        counts: dict[str, int] = {}
        late: dict[str, int] = {}
        with self.store.unit_of_work() as uow:
            for status in (
                RiskEventStatus.OPEN,
                RiskEventStatus.ACKNOWLEDGED,
                RiskEventStatus.ESCALATED,
            ):
                for batch in uow.risk_events.scan(status=status, batch_size=2000):
                    for e in batch:
                        key = e.severity.value if group_by == "severity" else e.type
                        counts[key] = counts.get(key, 0) + 1
                        if e.is_review_overdue(self.as_of):
                            late[key] = late.get(key, 0) + 1
        order = {"red": 0, "yellow": 1}
        return [
            {"key": k, "count": counts[k], "review_overdue": late.get(k, 0)}
            for k in sorted(counts, key=lambda k: (order.get(k, 2), -counts[k], k))
        ]

    def collections(self, _: str) -> list[Row]:
        evaluate = self.ctx.rules.as_of(self.as_of).evaluator("collections")
        by: dict[tuple[str, str], list[Decimal]] = {}
        for page in _pages(self.store):
            for loan in page.loans:
                action = evaluate({"dpd": loan.dpd(self.as_of)})["action"]
                slot = by.setdefault((action, loan.currency), [Decimal(0), Decimal(0)])
                slot[0] += 1
                slot[1] += loan.outstanding_principal.amount
        order = [
            "none",
            "reminder",
            "rm_call",
            "formal_notice",
            "final_demand",
            "legal",
            "write_off_review",
        ]
        return [
            {"key": a, "currency": c, "loans": int(by[(a, c)][0]), "balance": by[(a, c)][1]}
            for a, c in sorted(by, key=lambda k: (k[1], order.index(k[0])))
        ]


def _check(name: str, group_by: str | None) -> str:
    if name not in REPORTS:
        raise ReportError(f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    allowed = _GROUPINGS.get(name)
    if allowed is None:
        if group_by is not None:
            raise ReportError(f"report {name!r} takes no group_by (got {group_by!r})")
        return ""
    chosen = group_by or allowed[0]
    if chosen not in allowed:
        raise ReportError(
            f"report {name!r} cannot group by {chosen!r}; choose one of {', '.join(allowed)}"
        )
    return chosen


def header(column: str, lang: str = "en") -> str:
    """A column's display header ("drawn" → "余额" in Chinese)."""
    pair = HEADERS.get(column)
    if pair is None:
        return label(column, lang)
    return pair[1] if lang == "zh" else pair[0]


class ReportCalls(DeskCore):
    """Portfolio reports (mixed into `CreditDesk`)."""

    def report(
        self, by: Principal, name: str, *, as_of: date, group_by: str | None = None
    ) -> list[Row]:
        """The rows of report `name` as of a business date (see the module doc).

        Raises:
            PermissionDeniedError: `by` may not read reports.
            ReportError: unknown report or grouping; concentration without capital figures.
        """
        chosen = _check(name, group_by)
        self._permit(by, "report", f"report:{name}")
        method: Callable[[str], list[Row]] = getattr(_Reader(self, by, as_of), name)
        return method(chosen)

    def export_csv(
        self,
        by: Principal,
        name: str,
        path: str | Path,
        *,
        as_of: date,
        group_by: str | None = None,
        lang: str = "en",
    ) -> int:
        """Write report `name` to a UTF-8 CSV file (headers and codes in `lang`, "en" or
        "zh"); registration ids masked unless `by` reads PII. Returns the rows written.

        Raises:
            PermissionDeniedError, ReportError; ConfigurationError: a bad `lang`;
            OSError: the file cannot be written.
        """
        if lang not in ("en", "zh"):
            raise ConfigurationError(f"export_csv lang must be 'en' or 'zh', got {lang!r}")
        chosen = _check(name, group_by)
        self._permit(by, "export_csv", f"report:{name}")
        rows: list[Row] = getattr(_Reader(self, by, as_of), name)(chosen)
        columns = list(dict.fromkeys(k for row in rows for k in row))
        with Path(path).open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([header(c, lang) for c in columns])
            for row in rows:
                writer.writerow([_cell(row.get(c), c, lang) for c in columns])
        return len(rows)


def _cell(value: object, column: str, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else str(value).lower()
    if column in ("key", "kind", "severity", "action") and isinstance(value, str):
        return header(value, lang)
    return str(value)
