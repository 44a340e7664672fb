"""Portfolio reports (`CreditDesk.report`, `CreditDesk.reports`, `CreditDesk.export_csv`):
plain rows, read from the book as the daily run left it, page by page (one read-only unit of
work per page of customers, so memory stays bounded).

    desk.report(by, "npl", as_of=day)
    desk.report(by, "exposure", as_of=day, group_by="industry")
    desk.reports(by, ["npl", ("exposure", "industry")], as_of=day)  # one pass over the book
    desk.export_csv(by, "exposure", "exposure.csv", as_of=day, lang="zh")

The reports that read the book are accumulators (`report_book`): `reports` feeds all of them
from one scan, and reads the loans only if one of them needs them (npl, provisions,
collections, exposure by category).

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
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from functools import partial
from pathlib import Path
from typing import Final

from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.interaction import TaskStatus
from creditmgmt.domain.labels import has_label, label
from creditmgmt.domain.risk import RiskEventStatus
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.ports.store import Store
from creditmgmt.services.access import Principal
from creditmgmt.services.core import DeskCore
from creditmgmt.services.report_book import (
    BookReport,
    Collections,
    Concentration,
    Exposure,
    Npl,
    Provisions,
    Remote,
    Row,
    scan,
)

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


# the work-queue reports: a scan of their own -------------------------------------------------
def _overdue(store: Store, as_of: date) -> list[Row]:
    counts: dict[str, int] = {}
    with store.unit_of_work() as uow:
        for batch in uow.tasks.scan(
            status=TaskStatus.OPEN, due_on_or_before=as_of, batch_size=2000
        ):
            for t in batch:
                if t.due < as_of:
                    kind = t.title.split(":", 1)[0] if ":" in t.title else "task"
                    counts[kind] = counts.get(kind, 0) + 1
        for status in (RiskEventStatus.OPEN, RiskEventStatus.ACKNOWLEDGED):
            for events in uow.risk_events.scan(
                status=status, review_due_before=as_of, batch_size=2000
            ):
                for e in events:
                    if e.is_review_overdue(as_of):
                        kind = f"{e.severity.value} review"
                        counts[kind] = counts.get(kind, 0) + 1
    return [{"key": k, "overdue": counts[k]} for k in sorted(counts)]


def _risk_events(store: Store, as_of: date, group_by: str) -> list[Row]:
    counts: dict[str, int] = {}
    late: dict[str, int] = {}
    with store.unit_of_work() as uow:
        for status in (
            RiskEventStatus.OPEN,
            RiskEventStatus.ACKNOWLEDGED,
            RiskEventStatus.ESCALATED,
        ):
            for batch in uow.risk_events.scan(status=status, batch_size=2000):
                for e in batch:
                    key = e.severity.value if group_by == "severity" else e.type
                    counts[key] = counts.get(key, 0) + 1
                    if e.is_review_overdue(as_of):
                        late[key] = late.get(key, 0) + 1
    order = {"red": 0, "yellow": 1}
    return [
        {"key": k, "count": counts[k], "review_overdue": late.get(k, 0)}
        for k in sorted(counts, key=lambda k: (order.get(k, 2), -counts[k], k))
    ]


def _book_report(
    desk: ReportCalls, by: Principal, as_of: date, name: str, group_by: str
) -> BookReport | Callable[[], list[Row]]:
    """The accumulator of a report that reads the book, or the scan of a work-queue report.

    Raises:
        ReportError: concentration without the desk's capital figures.
    """
    ctx = desk.context
    if name in ("exposure", "utilisation", "shares"):
        return Exposure(group_by, pii=ctx.access.reads_pii(by), shape=name)
    if name == "npl":
        return Npl()
    if name == "provisions":
        return Provisions(ctx.rules.as_of(as_of))
    if name == "concentration":
        if ctx.capital is None:
            raise ReportError(
                "report 'concentration' needs the desk's capital figures (open_desk(capital=...))"
            )
        return Concentration(ctx.capital, ctx.rules.as_of(as_of))
    if name == "remote":
        return Remote()
    if name == "collections":
        return Collections(ctx.rules.as_of(as_of), as_of)
    store = desk.store
    if name == "overdue":
        return partial(_overdue, store, as_of)
    return partial(_risk_events, store, as_of, group_by)


def _produce(
    desk: ReportCalls, by: Principal, as_of: date, chosen: Sequence[tuple[str, str]]
) -> list[list[Row]]:
    """The rows of each (name, grouping), already checked and permitted: every report that
    reads the book from one scan of it, each work-queue report from a scan of its own.

    Raises:
        ReportError: concentration without capital figures (before anything is read).
    """
    made = [_book_report(desk, by, as_of, name, group_by) for name, group_by in chosen]
    scan(desk.store, [m for m in made if not callable(m)])
    return [m() if callable(m) else m.rows() for m in made]


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


def has_header(code: str) -> bool:
    """Whether `header` knows `code` (a column, a report heading or a stored code with a
    label), as opposed to an id or an outside code, which a report shows as stored."""
    return code in HEADERS or has_label(code)


#: A report request: its name (default grouping) or (name, group_by).
ReportRequest = str | tuple[str, str | None]


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
        return _produce(self, by, as_of, [(name, chosen)])[0]

    def reports(
        self, by: Principal, requests: Iterable[ReportRequest], *, as_of: date
    ) -> dict[ReportRequest, list[Row]]:
        """Several reports from one pass over the book: `requests` are names or
        (name, group_by) pairs; the answer maps each request, as given, to the rows
        `report` gives for it. The loans are read only if a report needs them; overdue and
        risk_events scan their work queues separately. Every request is checked, and `by`
        permitted each report, before anything is read.

        Raises:
            PermissionDeniedError: `by` may not read one of the reports (the first refused).
            ReportError: a request that is neither a name nor (name, group_by); an unknown
                report or grouping; concentration without capital figures.
        """
        keys: dict[ReportRequest, tuple[str, str]] = {}
        for request in requests:
            if isinstance(request, str):
                name, group_by = request, None
            elif (
                isinstance(request, tuple)
                and len(request) == 2
                and isinstance(request[0], str)
                and isinstance(request[1], str | None)
            ):
                name, group_by = request
            else:
                raise ReportError(
                    f"a report request is a name or (name, group_by), got {request!r}"
                )
            keys[request] = (name, _check(name, group_by))
        for name in dict.fromkeys(name for name, _ in keys.values()):
            self._permit(by, "report", f"report:{name}")
        rows = _produce(self, by, as_of, list(keys.values()))  # each request its own rows
        return dict(zip(keys, rows, strict=True))

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
        rows = _produce(self, by, as_of, [(name, chosen)])[0]
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
