"""`creditmgmt policy diff OLD NEW`: the impact of a new version over a book."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from creditmgmt.cli.policy.common import LANG, _console, _fail, _load, policy, show_value
from creditmgmt.cli.policy.text import t as _t
from creditmgmt.domain import DomainError, Money
from creditmgmt.policies import PolicyError

if TYPE_CHECKING:
    from creditmgmt.policies.impact import ImpactReport


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
    """An amount for people: `¥1,234,567.89` with a currency, else `1,234,567.89`."""
    if isinstance(value, str) and value:
        text: str = value
        try:
            value = Decimal(text)
        except InvalidOperation:
            return text
    if isinstance(value, Decimal) and value.is_finite():
        return Money.of(value, currency).format() if currency else f"{value:,.2f}"
    return "" if value is None else str(value)


def _impact_tables(
    report: ImpactReport, lang: str, limit: int, currency: str | None = None
) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, columns, rows) of each section of an impact report, values as display text."""
    from creditmgmt.policies.impact import display

    def shown(v: Any) -> str:
        text = display(v)
        return show_value(v, lang) if lang == "zh" and isinstance(v, str) else text

    t = _t
    summary = [
        [
            o.block,
            o.output,
            str(o.evaluated),
            str(o.unchanged),
            str(o.changed),
            str(o.errors),
            _money(o.changed_amount, currency),
        ]
        for o in report.outputs
    ]
    transitions = [
        [
            tr.block,
            tr.output,
            shown(tr.old),
            shown(tr.new),
            str(tr.count),
            _money(tr.amount, currency),
        ]
        for o in report.outputs
        for tr in o.transitions
    ]
    changes = [
        [display(c.key), c.block, c.output, shown(c.old), shown(c.new), _money(c.amount, currency)]
        for c in report.changes[:limit]
    ]
    errors = [
        [display(e.key), e.block, e.version, e.error, e.message] for e in report.errors[:limit]
    ]
    return [
        (
            t(lang, "summary_title"),
            [
                t(lang, "block"),
                t(lang, "output_col"),
                t(lang, "evaluated"),
                t(lang, "unchanged"),
                t(lang, "changed_col"),
                t(lang, "errors_col"),
                t(lang, "amount"),
            ],
            summary,
        ),
        (
            t(lang, "transitions"),
            [
                t(lang, "block"),
                t(lang, "output_col"),
                t(lang, "old"),
                t(lang, "new"),
                t(lang, "count"),
                t(lang, "amount"),
            ],
            transitions,
        ),
        (
            t(lang, "changes"),
            [
                report.key,
                t(lang, "block"),
                t(lang, "output_col"),
                t(lang, "old"),
                t(lang, "new"),
                t(lang, "amount"),
            ],
            changes,
        ),
        (
            t(lang, "errors_title"),
            [
                report.key,
                t(lang, "block"),
                t(lang, "version"),
                t(lang, "error_col"),
                t(lang, "message"),
            ],
            errors,
        ),
    ]


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
        for k in ("evaluated", "unchanged", "changed_col", "errors_col", "count", "amount")
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
    everything = len(report.changes) + len(report.errors)
    for heading, columns, rows in _impact_tables(report, lang, everything, currency):
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


@policy.command()
@click.argument("old_file", metavar="OLD", type=click.Path(exists=True, dir_okay=False))
@click.argument("new_file", metavar="NEW", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--rows",
    "rows_csv",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The book: a CSV with a key column and the blocks' inputs.",
)
@click.option("--key", default="customer_id", show_default=True, help="Column naming a record.")
@click.option("--amount", help="Column with the record's exposure, summed per transition.")
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
@click.option("--limit", default=50, show_default=True, help="Changed records listed on screen.")
@click.option("--currency", help="ISO code of the amounts, for display (CNY → ¥1,234,567.89).")
@LANG
def diff(
    old_file: str,
    new_file: str,
    rows_csv: str,
    key: str,
    amount: str | None,
    blocks: tuple[str, ...],
    csv_out: str | None,
    html_out: str | None,
    limit: int,
    currency: str | None,
    lang: str,
) -> None:
    """Impact of NEW over OLD on the book in `--rows`: who changes category, grade, limit,
    approval level — counts, amounts and the records, on screen and as CSV/HTML.

    Empty CSV cells are inputs not given; `null` is None. Exits 1 if some record could not
    be decided by a version (listed), 2 on unreadable files or unknown blocks.
    """
    from creditmgmt.policies.impact import diff_impact

    if currency is not None:
        try:
            currency = Money.zero(currency.upper()).currency
        except DomainError as e:
            raise click.UsageError(f"--currency: {e}") from None
    old, new = _load(old_file), _load(new_file)
    try:
        report = diff_impact(
            old, new, read_rows(rows_csv, key), blocks=blocks or None, key=key, amount=amount
        )
    except PolicyError as e:
        _fail(str(e))
    out = _console()
    out.print(f"[bold]{escape(_t(lang, 'impact', new=report.new_ref, old=report.old_ref))}[/]")
    errors = len({e.key for e in report.errors})
    out.print(
        escape(_t(lang, "book", rows=report.rows, changed=len(report.changed_keys), errors=errors))
    )
    for heading, columns, rows in _impact_tables(report, lang, limit, currency):
        if not rows:
            continue
        table = Table(title=escape(heading))
        for col in columns:
            table.add_column(escape(col), overflow="fold")
        for row in rows:
            table.add_row(*(escape(v) for v in row))
        out.print(table)
    hidden = len(report.changes) - min(limit, len(report.changes))
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
                _fail(f"{target}: cannot write: {e.strerror}")
            out.print(escape(_t(lang, "written", path=target)))
    raise click.exceptions.Exit(1 if report.errors else 0)
