"""`creditmgmt policy diff OLD NEW`: the impact of a new version over a book."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from creditmgmt.cli.policy.common import LANG, console, fail, load_rules, policy, show_value
from creditmgmt.cli.policy.text import t as _t
from creditmgmt.domain import DomainError, Money, format_amount, format_money
from creditmgmt.policies import PolicyError, RuleSet
from creditmgmt.policies.impact import ImpactReport, RowChange, display


def read_rows(path: str, key: str) -> Iterator[dict[str, Any]]:
    """Rows of a book CSV, one dict per line: empty cells are left out (the input is not
    given), `null` is None. Streams: the file is read line by line.

    Raises:
        click.UsageError: the file cannot be read or has no `key` column (file:line).
    """
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or ()]
            if key not in header:
                raise click.UsageError(
                    f"{path}:1: no column {key!r} (columns: {', '.join(header)})"
                )
            for raw in reader:
                if None in raw:
                    raise click.UsageError(f"{path}:{reader.line_num}: more cells than columns")
                yield {
                    k.strip(): (None if v.strip() == "null" else v.strip())
                    for k, v in raw.items()
                    if v is not None and v.strip() != ""
                }
    except (OSError, UnicodeDecodeError) as e:
        raise click.UsageError(f"{path}: cannot read: {e}") from None


def _money(value: Any, currency: str | None = None) -> str:
    """An amount for people, by `labels.format_money`: `¥1,234,567.89 CNY` with a currency
    whose symbol is shared, `$1,234.00` otherwise, `1,234,567.89` without a currency."""
    if isinstance(value, str) and value:
        text: str = value
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            return text
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return format_money(value, currency) if Decimal(value).is_finite() else str(value)
    return "" if value is None else str(value)


Section = tuple[str, list[str], list[list[str]], int]  # title, columns, rows, rows left out


def _impact_tables(
    report: ImpactReport, lang: str, limit: int, currency: str | None = None
) -> list[Section]:
    """(title, columns, rows, rows not shown) of each section of an impact report, values as
    display text, every table capped at `limit` rows. Categorical outputs get transitions
    (and a total per output); numeric outputs a summary (up/down/same, totals, total and
    mean change) and their largest changes. `currency` applies to the exposures; a numeric
    output's values and changes are numbers (a rate or a score is not money)."""
    t = _t

    def shown(v: Any) -> str:
        if isinstance(v, Decimal):
            return format_amount(v)
        return show_value(v, lang) if lang == "zh" and isinstance(v, str) else display(v)

    def num(v: Decimal | None) -> str:
        """A numeric output's value or change: a number, never in `currency` (a rate or a
        score is not money; `--currency` applies to the exposures)."""
        return "" if v is None else format_amount(v)

    def capped(rows: list[list[str]]) -> tuple[list[list[str]], int]:
        return rows[:limit], max(0, len(rows) - limit)

    summary = [
        [
            o.block,
            o.output,
            str(o.evaluated),
            str(o.unchanged),
            str(o.changed),
            str(o.errors),
            _money(o.changed_amount, currency),
            num(o.numeric.total_delta) if o.numeric else "",
        ]
        for o in report.outputs
    ]
    transitions: list[list[str]] = []
    for o in report.outputs:
        if not o.transitions:
            continue
        for tr in o.transitions:
            row = [tr.block, tr.output, shown(tr.old), shown(tr.new), str(tr.count)]
            transitions.append([*row, _money(tr.amount, currency)])
        count = sum(tr.count for tr in o.transitions)
        amount = sum((tr.amount for tr in o.transitions), Decimal(0))
        transitions.append(
            [o.block, o.output, t(lang, "total"), "", str(count), _money(amount, currency)]
        )
    numeric = [
        [
            o.block,
            o.output,
            str(n.up),
            str(n.down),
            str(n.same),
            num(n.old_total),
            num(n.new_total),
            num(n.total_delta),
            num(_mean(n.mean_delta)),
        ]
        for o in report.outputs
        if (n := o.numeric) is not None
    ]

    def change(c: RowChange) -> list[str]:
        return [display(c.key), c.block, c.output, shown(c.old), shown(c.new), num(c.delta)]

    largest = [
        change(c) for o in report.outputs if o.numeric is not None for c in o.numeric.largest
    ]
    changes = [[*change(c), _money(c.amount, currency)] for c in report.changes]
    errors = [[display(e.key), e.block, e.version, e.error, e.message] for e in report.errors]
    cols = {
        "summary": ["block", "output_col", "evaluated", "unchanged", "changed_col", "errors_col"],
        "pair": ["block", "output_col", "old", "new", "count", "amount"],
        "numeric": ["block", "output_col", "up", "down", "same"],
    }
    sections: list[tuple[str, list[str], list[list[str]]]] = [
        (
            "summary_title",
            [*(t(lang, k) for k in cols["summary"]), t(lang, "amount"), t(lang, "delta")],
            summary,
        ),
        ("transitions", [t(lang, k) for k in cols["pair"]], transitions),
        (
            "numeric_title",
            [
                *(t(lang, k) for k in cols["numeric"]),
                t(lang, "old_total"),
                t(lang, "new_total"),
                t(lang, "delta"),
                t(lang, "mean_delta"),
            ],
            numeric,
        ),
        (
            "largest_title",
            [report.key, *(t(lang, k) for k in ("block", "output_col", "old", "new", "delta"))],
            largest,
        ),
        (
            "changes",
            [
                report.key,
                *(t(lang, k) for k in ("block", "output_col", "old", "new", "delta", "amount")),
            ],
            changes,
        ),
        (
            "errors_title",
            [report.key, *(t(lang, k) for k in ("block", "version", "error_col", "message"))],
            errors,
        ),
    ]
    return [(t(lang, title), columns, *capped(rows)) for title, columns, rows in sections]


def _mean(value: Decimal) -> Decimal:
    """A mean change for reading: six places at most, trailing zeros dropped (0.044, not
    0.04400000; 35,200.00, not 35,200.000000)."""
    if not value.is_finite():
        return value
    return value.quantize(Decimal("0.000001")).normalize()


_HTML_STYLE = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;
margin:2rem;color:#1f2933}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}
th,td{border:1px solid #cbd2d9;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
p.meta{color:#52606d}
"""


def impact_html(report: ImpactReport, lang: str = "en", currency: str | None = None) -> str:
    """A self-contained HTML page of an impact report: inline CSS, every value escaped, all
    changed records and errors listed; amounts in `currency` (`¥1,234.56`) when given."""
    from html import escape as h

    title = _t(lang, "impact", new=report.new_ref, old=report.old_ref)
    meta = _t(
        lang,
        "book",
        rows=report.rows,
        changed=len(report.changed_keys),
        errors=len({e.key for e in report.errors}),
    )
    numeric = {
        _t(lang, k)
        for k in (
            "evaluated",
            "unchanged",
            "changed_col",
            "errors_col",
            "count",
            "amount",
            "up",
            "down",
            "same",
            "old_total",
            "new_total",
            "delta",
            "mean_delta",
        )
    }
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{h(title)}</title><style>{_HTML_STYLE}</style></head><body>",
        f"<h1>{h(title)}</h1>",
        f'<p class="meta">{h(meta)}</p>',
    ]
    if report.changes_not_kept:
        parts.append(f'<p class="meta">{h(_t(lang, "not_kept", n=report.changes_not_kept))}</p>')
    everything = (
        len(report.changes)
        + len(report.errors)
        + sum(len(o.transitions) + 1 for o in report.outputs)
    )
    for heading, columns, rows, _hidden in _impact_tables(report, lang, everything, currency):
        parts.append(f"<h2>{h(heading)}</h2>")
        if not rows:
            parts.append(f"<p>{h(_t(lang, 'none'))}</p>")
            continue
        parts.append("<table><thead><tr>" + "".join(f"<th>{h(c)}</th>" for c in columns))
        parts.append("</tr></thead><tbody>")
        for row in rows:
            cells = "".join(
                f'<td class="num">{h(v)}</td>' if col in numeric else f"<td>{h(v)}</td>"
                for col, v in zip(columns, row, strict=True)
            )
            parts.append(f"<tr>{cells}</tr>")
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _store_rows(
    store_url: str, as_of: date, rules: RuleSet, batch_size: int
) -> Iterator[dict[str, Any]]:
    """The stored book as rule inputs (`CreditDesk.portfolio`), derived fields under `rules`."""
    from creditmgmt.adapters.clocks_and_ids import FixedClock
    from creditmgmt.bootstrap import open_desk
    from creditmgmt.domain.errors import CreditMgmtError

    try:  # the desk's clock at the end of the business date, as `creditmgmt run-daily`
        clock = FixedClock(datetime.combine(as_of, time(18, 0), tzinfo=UTC))
        desk = open_desk(store_url, rules=rules, clock=clock, institution_region="310000")
    except CreditMgmtError as e:
        fail(f"--store: {e}")
    with desk:
        try:
            yield from desk.portfolio(as_of=as_of, rules=rules, batch_size=batch_size)
        except CreditMgmtError as e:  # a stored record that cannot be read, named
            fail(f"--store: {e}")


@policy.command()
@click.argument("old_file", metavar="OLD", type=click.Path(exists=True, dir_okay=False))
@click.argument("new_file", metavar="NEW", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--portfolio",
    "--rows",
    "rows_csv",
    type=click.Path(exists=True, dir_okay=False),
    help="The book: a CSV with a key column and the blocks' inputs.",
)
@click.option("--store", "store_url", help="Or the stored book: a store URL (sqlite:///…).")
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="With --store: the business date the loans' DPD and balances are taken on.",
)
@click.option("--key", help="Column naming a record.  [default: customer_id; loan_id with --store]")
@click.option(
    "--amount", help="Column with the record's exposure.  [default: exposure with --store]"
)
@click.option("--block", "blocks", multiple=True, help="Compare only this block (repeatable).")
@click.option(
    "--csv",
    "csv_out",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the changed records as CSV.",
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, writable=True),
    help="Write a self-contained HTML report.",
)
@click.option("--limit", default=50, show_default=True, help="Rows of each table on screen.")
@click.option(
    "--top", default=10, show_default=True, help="Largest changes kept per numeric output."
)
@click.option("--currency", help="ISO code of the amounts, for display (CNY → ¥1,234,567.89 CNY).")
@LANG
def diff(
    old_file: str,
    new_file: str,
    rows_csv: str | None,
    store_url: str | None,
    as_of: datetime | None,
    key: str | None,
    amount: str | None,
    blocks: tuple[str, ...],
    csv_out: str | None,
    html_out: str | None,
    limit: int,
    top: int,
    currency: str | None,
    lang: str,
) -> None:
    """Impact of NEW over OLD on a book — a CSV (`--portfolio`) or the stored book
    (`--store URL --as-of DATE`): who changes category, grade, limit, approval level.

    Categorical outputs show transitions (old → new, count, exposure, a total per output);
    numeric outputs (provisions, limits, scores) a summary — how many went up, down or
    stayed, the totals before and after, the total and mean change — and their `--top`
    largest changes. `--limit` caps every table; `--csv`/`--html` hold everything.

    Empty CSV cells are inputs not given; `null` is None. With `--store`, one row per
    performing loan built as the daily run builds its inputs (DPD on the date, outstanding
    principal, restructuring, bureau NPL share, the category under OLD). Exits 1 if some
    record could not be decided by a version (listed), 2 on unreadable files, a store that
    cannot be opened or unknown blocks.
    """
    from creditmgmt.policies.impact import diff_impact

    if (rows_csv is None) == (store_url is None):
        raise click.UsageError("give the book: --portfolio CSV or --store URL --as-of DATE")
    if store_url is not None and as_of is None:
        raise click.UsageError("--store needs --as-of DATE")
    if limit < 0 or top < 0:
        raise click.UsageError("--limit and --top may not be negative")
    if currency is not None:
        try:
            currency = Money.zero(currency.upper()).currency
        except DomainError as e:
            raise click.UsageError(f"--currency: {e}") from None
    old, new = load_rules(old_file), load_rules(new_file)
    if store_url is not None:
        assert as_of is not None
        key = key or "loan_id"
        amount = amount or "exposure"
        book = _store_rows(store_url, as_of.date(), old, 200)
    else:
        assert rows_csv is not None
        key = key or "customer_id"
        book = read_rows(rows_csv, key)
    try:
        report = diff_impact(old, new, book, blocks=blocks or None, key=key, amount=amount, top=top)
    except PolicyError as e:
        fail(str(e))
    out = console()
    out.print(f"[bold]{escape(_t(lang, 'impact', new=report.new_ref, old=report.old_ref))}[/]")
    errors = len({e.key for e in report.errors})
    out.print(
        escape(_t(lang, "book", rows=report.rows, changed=len(report.changed_keys), errors=errors))
    )
    for heading, columns, rows, hidden in _impact_tables(report, lang, limit, currency):
        if not rows:
            continue
        table = Table(title=escape(heading))
        for col in columns:
            table.add_column(escape(col), overflow="fold")
        for row in rows:
            table.add_row(*(escape(v) for v in row))
        out.print(table)
        if hidden:
            out.print(escape(_t(lang, "more", n=hidden)))
    if report.changes_not_kept:
        out.print(escape(_t(lang, "not_kept", n=report.changes_not_kept)))
    for target, text in (
        (csv_out, report.to_csv("changes") if csv_out else ""),
        (html_out, impact_html(report, lang, currency) if html_out else ""),
    ):
        if target:
            try:
                Path(target).write_text(text, encoding="utf-8")
            except OSError as e:
                fail(f"{target}: cannot write: {e.strerror}")
            out.print(escape(_t(lang, "written", path=target)))
    raise click.exceptions.Exit(1 if report.errors else 0)
