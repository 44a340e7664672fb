"""`creditmgmt demo`: the credit desk on a synthetic book, end to end.

It opens a SQLite store in a temporary directory (or the `--store` given), loads the
deterministic synthetic book of `creditmgmt.testing.book` (2,000 customers by default: groups
under group limits, remote customers, credit files, loans paying on time, late, in arrears or
restructured), takes a few new applications through the desk (onboarding, credit file,
bureau report, assessment, maker-checker approval, activation, a drawdown), runs the daily
monitoring over the last 30 business days with a progress bar (the first run assesses the
whole book, the next ones incrementally: only customers whose records moved or for whom a
date came due), and prints the portfolio
report: NPL ratio, provision coverage, exposures, top risk events and the collections
pipeline. The book's repayments are known up to its last day, so the earlier days of the
window see them as already made.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from creditmgmt.adapters.bureau import FakeBureau
from creditmgmt.adapters.clocks_and_ids import FixedClock, SequentialIds
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.cli.console import console
from creditmgmt.cli.daily import progress_bar, report_table, summary_table
from creditmgmt.domain.labels import format_money
from creditmgmt.domain.money import Money
from creditmgmt.services.access import SYSTEM, Principal, Role
from creditmgmt.services.context import Capital
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.monitoring import DailyRunSummary
from creditmgmt.testing.book import BookSpec, load
from creditmgmt.testing.builders import a_statement, make_uscc

#: The last business day of the demo's window (the book's "today").
END = date(2026, 1, 5)
_RM = Principal("usr_demo_rm", roles={Role.RELATIONSHIP_MANAGER})
_ANALYST = Principal("usr_demo_analyst", roles={Role.CREDIT_ANALYST})
_APPROVER = Principal("usr_demo_approver", roles={Role.APPROVER}, authority="head_office")
_RISK = Principal("usr_demo_risk", roles={Role.RISK_OFFICER})

_NEW = (
    ("上海示例精密制造有限公司", "C3484", "310000", "4000000.00", "0.004"),
    ("浦东新材料科技有限公司", "C2651", "310115", "2500000.00", "0.012"),
    ("上海徐汇跨境物流有限公司", "G5422", "310104", "1500000.00", "0.03"),
)


def business_days(end: date, count: int) -> list[date]:
    """The `count` business days (Monday–Friday) up to and including `end`, oldest first."""
    days: list[date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days[::-1]


def _applications(desk: CreditDesk, clock: FixedClock, on: date) -> list[dict[str, Any]]:
    """A few new customers taken from onboarding to a first drawdown through the desk."""
    clock.set(datetime.combine(on, time(10, 0), tzinfo=UTC))
    done = []
    for n, (name, industry, region, amount, pd) in enumerate(_NEW):
        customer = desk.onboard_customer(
            _RM,
            kind="sme",
            legal_name=name,
            registration_id=make_uscc(900_000_000 + n, region=region[:2] + "0000"),
            home_region=region,
            industry_code=industry,
        )
        for year in (2023, 2024):
            desk.add_statement(
                _ANALYST,
                customer,
                a_statement(period_end=date(year, 12, 31), revenue=str(40_000_000 + 5_000_000 * n)),
            )
        desk.pull_bureau_report(_ANALYST, customer)
        application = desk.submit_application(
            _RM,
            customer_id=customer,
            product_type="working_capital",
            requested=Money.of(amount, "CNY"),
            term_months=12,
            purpose="working capital",
        )
        for document in ("business_licence", "financial_statements"):
            desk.receive_document(_RM, application, document)
        assessment = desk.assess(_ANALYST, application, pd=pd)
        desk.approve(_APPROVER, application)
        facility = desk.activate(_RM, application)
        drawn = Money.of(amount, "CNY") * Decimal("0.6")
        desk.draw(_RM, facility, drawn, key=f"demo-draw-{n}")
        done.append(
            {
                "customer": str(customer),
                "name": name,
                "grade": assessment.final_grade,
                "facility": str(facility),
                "drawn": drawn,
            }
        )
    return done


def _open_at(store_url: str, day: date) -> CreditDesk:
    """A desk on the demo's store at 18:00 of `day` (what a Dask task opens: picklable)."""
    from creditmgmt.bootstrap import open_desk

    clock = FixedClock(datetime.combine(day, time(18, 0), tzinfo=UTC))
    return open_desk(store_url, rules="cn-2023", clock=clock, institution_region="310000")


def _daily_runs(
    console: Console,
    desk: CreditDesk,
    clock: FixedClock,
    store_url: str,
    window: list[date],
    workers: int,
) -> list[DailyRunSummary]:
    """One run per business day: on `workers` Dask worker processes, one partition each,
    when there are several workers and `distributed` is installed; else in this process."""
    cluster: Any = None
    client: Any = None
    if workers > 1:
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            console.print("(distributed is not installed: running in one process)")
        else:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)  # type: ignore[no-untyped-call]
    summaries: list[DailyRunSummary] = []
    try:
        with progress_bar(console) as bar:
            task = bar.add_task("daily runs", total=len(window))
            for day in window:
                if client is not None:
                    from creditmgmt.services.monitoring.distributed import run_daily_on_dask

                    opener = partial(_open_at, store_url, day)
                    summaries.append(
                        run_daily_on_dask(client, opener, day, partitions=workers, incremental=True)
                    )
                else:
                    clock.set(datetime.combine(day, time(18, 0), tzinfo=UTC))
                    summaries.append(desk.run_daily(day, by=SYSTEM, incremental=True))
                bar.update(task, advance=1, description=f"daily run {day}")
    finally:
        if client is not None:
            client.close()
            cluster.close()
    return summaries


def run_demo(
    console: Console,
    *,
    customers: int = 2_000,
    store_url: str | None = None,
    days: int = 30,
    lang: str = "en",
    workers: int = 1,
) -> dict[str, Any]:
    """Run the demo and print it; returns its figures (for tests). `workers` > 1 runs each
    day's partitions on that many Dask worker processes (`creditmgmt[dask]`)."""
    if store_url is None:
        folder = Path(tempfile.mkdtemp(prefix="creditmgmt-demo-"))
        store_url = f"sqlite:///{folder / 'book.db'}"
    console.print(f"store: [bold]{store_url}[/]")
    window = business_days(END, days)
    clock = FixedClock(datetime.combine(window[0], time(9, 0), tzinfo=UTC))
    from creditmgmt.bootstrap import open_desk

    with open_desk(
        store_url,
        rules="cn-2023",
        clock=clock,
        institution_region="310000",
        ids=SequentialIds(),
        bureau=FakeBureau(),
        capital=Capital(
            net_capital=Money.of("60000000000.00", "CNY"),
            tier1_net=Money.of("48000000000.00", "CNY"),
        ),
    ) as desk:
        store = desk.store
        if not isinstance(store, RecordStore):  # pragma: no cover - open_desk gives one
            raise click.UsageError(f"the demo loads its book into a record store, not {store!r}")
        with console.status(f"loading a synthetic book of {customers:,} customers …"):
            spec = BookSpec(customers=customers, seed=7, as_of=END)
            stats = load(store, spec, chunks_per_commit=5)
        console.print(
            f"book: {stats.customers:,} customers, {stats.groups:,} groups, "
            f"{stats.facilities:,} facilities, {stats.loans:,} loans"
        )
        new = _applications(desk, clock, window[0])
        for item in new:
            console.print(
                f"new customer {item['name']} ({item['grade']}): facility {item['facility']}, "
                f"drawn {format_money(item['drawn'])}"
            )
        summaries = _daily_runs(console, desk, clock, store_url, window, workers)
        last = summaries[-1]
        console.print(summary_table(last, lang))
        book = desk.reports(  # one pass over the book for all six
            _RISK,
            [
                "npl",
                "provisions",
                ("exposure", "industry"),
                "concentration",
                ("risk_events", "type"),
                "collections",
            ],
            as_of=END,
        )
        reports = {
            "npl": book["npl"],
            "provisions": book["provisions"],
            "exposure": book[("exposure", "industry")][:10],
            "concentration": book["concentration"][:5],
            "risk_events": book[("risk_events", "type")][:8],
            "collections": book["collections"],
        }
        titles = {
            "npl": "NPL ratio",
            "provisions": "Provision coverage",
            "exposure": "Exposure by industry (top 10)",
            "concentration": "Largest exposures vs caps",
            "risk_events": "Open risk events by trigger",
            "collections": "Collections pipeline",
        }
        for name, rows in reports.items():
            console.print(report_table(rows, titles[name], lang))
        return {
            "store": store_url,
            "customers": stats.customers,
            "new": new,
            "days": [s.as_of for s in summaries],
            "summaries": summaries,
            "reports": reports,
            "audit_ok": desk.verify_audit().ok,
        }


@click.command()
@click.option("--customers", default=2_000, show_default=True, type=click.IntRange(10))
@click.option("--store", "store_url", default=None, help="Store URL (default: a temp SQLite file).")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 260))
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Dask worker processes for the daily runs (one partition each; 1: no Dask).",
)
def demo(customers: int, store_url: str | None, days: int, lang: str, workers: int) -> None:
    """A synthetic book through the credit desk: applications, daily runs, portfolio report."""
    run_demo(
        console(),
        customers=customers,
        store_url=store_url,
        days=days,
        lang=lang,
        workers=workers,
    )
