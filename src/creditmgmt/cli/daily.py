"""`creditmgmt run-daily` and `creditmgmt report`: the daily monitoring run and the
portfolio reports on a store.

    creditmgmt run-daily --store sqlite:///book.db --rules cn-2023 --as-of 2026-01-05
    creditmgmt run-daily --store postgresql+psycopg://app@db/credit --rules cn-2023 \\
        --as-of 2026-01-05 --partition 0/4
    creditmgmt report npl --store sqlite:///book.db --as-of 2026-01-05 --lang zh
    creditmgmt report exposure --store ... --as-of ... --group-by industry --csv exposure.csv

Exit codes: 0 success; 1 the run finished but skipped records; 2 the command cannot run (bad
option, store or rule set).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Literal, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.cli.console import console as new_console
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.labels import format_money, label
from creditmgmt.domain.money import Money, quantize
from creditmgmt.services.access import SYSTEM, Principal, Role
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.monitoring import BatchDone, DailyRunSummary
from creditmgmt.services.reports import REPORTS, has_header, header

LANG = click.option(
    "--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True, help="Labels."
)
STORE = click.option("--store", "store_url", required=True, help="Store URL (sqlite:///…).")
AS_OF = click.option(
    "--as-of", "as_of", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Business date."
)

_TEXT = {
    "en": {
        "run": "Daily run {as_of} (partition {i}/{n}, {ref})",
        "measure": "measure",
        "value": "value",
        "category": "category",
        "loans": "loans",
        "balance": "balance",
        "skipped": "skipped",
        "progress": "daily run",
    },
    "zh": {
        "run": "日终监测 {as_of}（分区 {i}/{n}，{ref}）",
        "measure": "项目",
        "value": "数值",
        "category": "五级分类",
        "loans": "借据数",
        "balance": "余额",
        "skipped": "跳过",
        "progress": "日终监测",
    },
}
_MEASURES = {
    "facilities": ("facilities", "额度节点"),
    "loans": ("loans", "借据"),
    "provisions": ("provisions", "拨备"),
    "new_risk_events": ("new risk events", "新增预警"),
    "collections_actions": ("collections actions", "催收任务"),
    "reviews_due": ("reviews due", "到期复核"),
    "reminders": ("reminders", "还款提醒"),
    "changed": ("facilities changed", "状态变化额度"),
    "batches": ("batches", "批次"),
}


def fail(message: str, code: int = 2) -> NoReturn:
    new_console(stderr=True).print(f"[bold red]error:[/] {escape(message)}")
    raise click.exceptions.Exit(code)


def money(amount: Decimal, currency: str) -> str:
    """`¥1,234,567.89 CNY`: the one display rule of `domain.labels.format_money` (a symbol
    several currencies share carries the ISO code), rounded to the currency."""
    return format_money(Money.of(quantize(amount, currency), currency))


def open_cli_desk(store_url: str, rules: str, as_of: date) -> CreditDesk:
    """A desk on the store whose clock stands at the end of the business date (18:00 UTC)."""
    from creditmgmt.bootstrap import open_desk

    try:
        return open_desk(
            store_url,
            rules=rules,
            clock=FixedClock(datetime.combine(as_of, time(18, 0), tzinfo=UTC)),
            institution_region="310000",
        )
    except CreditMgmtError as e:
        fail(str(e))


def _partition(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        fail(f"--partition must be i/n (e.g. 0/4), got {text!r}")
    if not 0 <= i < n:
        fail(f"--partition {text}: need 0 <= i < n")
    return (i, n)


def progress_bar(console: Console, *, transient: bool = False) -> Progress:
    """The command line's progress bar: description, bar, done of total, time elapsed."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=transient,
    )


def run_with_progress(
    desk: CreditDesk,
    as_of: date,
    console: Console,
    *,
    partition: tuple[int, int] | None = None,
    lang: str = "en",
    batch_size: int = 500,
    transient: bool = False,
    incremental: bool = False,
) -> DailyRunSummary:
    """`desk.run_daily` with a rich progress bar over the customers."""
    with desk.store.unit_of_work() as uow:
        customers = uow.customers.count()
    batches = max(1, -(-customers // batch_size))
    with progress_bar(console, transient=transient) as bar:
        task = bar.add_task(f"{_TEXT[lang]['progress']} {as_of}", total=batches)

        def step(done: BatchDone) -> None:
            bar.update(task, completed=min(done.batch, batches))

        summary = desk.run_daily(
            as_of,
            partition=partition,
            batch_size=batch_size,
            progress=step,
            incremental=incremental,
        )
        bar.update(task, completed=batches)
    return summary


def summary_table(summary: DailyRunSummary, lang: str = "en") -> Table:
    """The run's figures and its loans by category."""
    text = _TEXT[lang]
    i, n = summary.partition
    table = Table(
        title=text["run"].format(as_of=summary.as_of, i=i, n=n, ref=summary.ruleset_ref),
        show_lines=False,
    )
    table.add_column(text["measure"], overflow="fold")
    table.add_column(text["value"], justify="right", overflow="fold")
    pick = 1 if lang == "zh" else 0
    for field, names in _MEASURES.items():
        value: Any = getattr(summary, field)
        if field == "provisions":
            shown = ", ".join(money(a, c) for c, a in sorted(value.items())) or "0"
        else:
            shown = f"{value:,}"
        table.add_row(names[pick], shown)
    for category, total in summary.by_category.items():
        balance = ", ".join(money(a, c) for c, a in sorted(total.balance.items()))
        table.add_row(
            f"{text['category']}: {label(category.value, lang)}", f"{total.count:,} · {balance}"
        )
    if summary.errors:
        table.add_row(text["skipped"], str(len(summary.errors)))
    return table


def report_table(rows: Sequence[Mapping[str, Any]], title: str, lang: str = "en") -> Table:
    """Report rows as a table: amounts formatted for their currency, ratios as percentages.
    A report of one wide row (provisions, remote share) is shown as measure / value. A console
    too narrow for a column folds its cells onto more lines, never cuts them: a report must not
    show an amount or a name with digits or characters missing."""
    table = Table(title=title)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if len(rows) == 1 and len(columns) > 5:
        text = _TEXT[lang]
        table.add_column(text["measure"], overflow="fold")
        table.add_column(text["value"], justify="right", overflow="fold")
        for c in columns:
            table.add_row(header(c, lang), cell(rows[0], c, lang))
        return table
    for c in columns:
        justify: Literal["left", "right"] = "left" if c in ("key", "kind", "name") else "right"
        table.add_column(header(c, lang), justify=justify, overflow="fold")
    for row in rows:
        table.add_row(*(cell(row, c, lang) for c in columns))
    return table


_RATIOS = frozenset(
    {
        "utilisation",
        "share",
        "coverage",
        "coverage_floor",
        "provision_ratio",
        "provision_ratio_floor",
        "cap_share",
    }
)
_AMOUNTS = frozenset(
    {
        "limit",
        "drawn",
        "available",
        "balance",
        "npl",
        "provisions",
        "shortfall",
        "exposure",
        "cap",
        "headroom",
        "remote",
        "total",
    }
)


def cell(row: Mapping[str, Any], column: str, lang: str) -> str:
    value = row.get(column)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if column in _RATIOS and isinstance(value, Decimal):
        return f"{value * 100:.2f}%"
    if column in _AMOUNTS and isinstance(value, Decimal) and "currency" in row:
        return money(value, str(row["currency"]))
    if column in ("key", "kind") and isinstance(value, str) and has_header(value):
        return header(value, lang)  # a known code; ids and codes of others stay as stored
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@click.command("run-daily")
@STORE
@click.option("--rules", required=True, help="Built-in rule set name or rule-set file.")
@AS_OF
@click.option("--partition", default=None, help="Run partition i of n (i/n).")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1))
@click.option(
    "--incremental",
    is_flag=True,
    help="Assess only customers whose records moved or whose date came due since the last run.",
)
@LANG
def run_daily(
    store_url: str,
    rules: str,
    as_of: datetime,
    partition: str | None,
    batch_size: int,
    incremental: bool,
    lang: str,
) -> None:
    """Run the daily monitoring for a business date (resumes an interrupted run; a finished
    day is answered from its log and writes nothing)."""
    console = new_console()
    part = _partition(partition)
    with open_cli_desk(store_url, rules, as_of.date()) as desk:
        try:
            summary = run_with_progress(
                desk,
                as_of.date(),
                console,
                partition=part,
                lang=lang,
                batch_size=batch_size,
                incremental=incremental,
            )
        except CreditMgmtError as e:
            fail(str(e))
    console.print(summary_table(summary, lang))
    for error in summary.errors:
        console.print(f"[yellow]{escape(error.subject)}[/]: {escape(error.error)}")
    if summary.errors:
        raise click.exceptions.Exit(1)


_READER = Principal("usr_cli_reports", roles={Role.RISK_OFFICER})


@click.command("report")
@click.argument("name", type=click.Choice(REPORTS))
@STORE
@AS_OF
@click.option("--rules", default="cn-2023", show_default=True, help="Rule set name or file.")
@click.option("--group-by", default=None, help="Grouping (exposure: customer, group, …).")
@click.option("--csv", "csv_path", default=None, type=click.Path(dir_okay=False))
@click.option("--show-pii", is_flag=True, help="Unmasked registration ids (acts as admin).")
@LANG
def report(
    name: str,
    store_url: str,
    as_of: datetime,
    rules: str,
    group_by: str | None,
    csv_path: str | None,
    show_pii: bool,
    lang: str,
) -> None:
    """Print a portfolio report (or write it as CSV)."""
    by = SYSTEM if show_pii else _READER
    console = new_console()
    with open_cli_desk(store_url, rules, as_of.date()) as desk:
        try:
            if csv_path is not None:
                n = desk.export_csv(
                    by, name, csv_path, as_of=as_of.date(), group_by=group_by, lang=lang
                )
                console.print(f"{n} rows → {csv_path}")
                return
            rows = desk.report(by, name, as_of=as_of.date(), group_by=group_by)
        except CreditMgmtError as e:
            fail(str(e))
    console.print(report_table(rows, f"{name} · {as_of.date()}", lang))


COMMANDS: tuple[click.Command, ...] = (run_daily, report)
