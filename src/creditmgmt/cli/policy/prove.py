"""`creditmgmt policy prove`: monotonicity and bound claims over a block."""

from __future__ import annotations

import click
from rich.markup import escape
from rich.table import Table

from creditmgmt.cli.policy.common import (
    BUILTIN,
    LANG,
    console,
    fail,
    policy,
    rules_and_block,
    show_value,
)
from creditmgmt.cli.policy.text import t as _t
from creditmgmt.policies import PolicyInputError


@policy.command()
@click.argument("args", nargs=-1, metavar="[FILE] [BLOCK]")
@BUILTIN
@click.option(
    "--monotone",
    "monotone",
    multiple=True,
    metavar="IN:increasing->OUT:worse",
    help="Raising (or lowering) IN never moves OUT the other way (repeatable).",
)
@click.option(
    "--bound",
    "bounds",
    multiple=True,
    metavar="OUT:LOW..HIGH",
    help="OUT stays within LOW..HIGH; each end a number or an input name (repeatable).",
)
@click.option(
    "--order",
    "orders",
    multiple=True,
    metavar="OUT=v1,v2,...",
    help="Order of an enum output, best first (default: see `prove --help`).",
)
@LANG
def prove(
    args: tuple[str, ...],
    builtin_name: str | None,
    monotone: tuple[str, ...],
    bounds: tuple[str, ...],
    orders: tuple[str, ...],
    lang: str,
) -> None:
    """Check that BLOCK of FILE (or of `--builtin NAME`) is monotone and bounded; without
    BLOCK, every block a claim applies to (it reads the input and gives the output).

    Every input is evaluated at each boundary the rule set names, between them and beyond;
    a claim that holds over all of them is proved (for tables, scorecards, ladders, matrices
    and scales; formulas are searched at the same points). A claim that fails prints the
    counterexample: the two rows and what the block decided for each.

    An enum output's declared values run best first, except under a PRIORITY table (worst
    first); `--order OUT=v1,v2,...` says it explicitly. Exits 0 when every claim holds, 1
    with a counterexample, 2 on a malformed claim, unknown block, input or output, or a file
    that cannot be loaded.
    """
    from creditmgmt.cli.prove import Bound, ClaimError, Monotone, check_claims

    ruleset, block = rules_and_block(args, builtin_name, block_required=False)
    if not monotone and not bounds:
        raise click.UsageError("give at least one --monotone or --bound claim")
    order: dict[str, list[str]] = {}
    for text in orders:
        name, eq, values = text.partition("=")
        if not eq or not values:
            raise click.UsageError(f"--order {text!r}: write OUTPUT=best,...,worst")
        order[name.strip()] = [v.strip() for v in values.split(",")]
    try:
        claims: list[Monotone | Bound] = [Monotone.parse(t) for t in monotone]
        claims += [Bound.parse(t) for t in bounds]
        outcomes = check_claims(ruleset, block, claims, orders=order)
    except (ClaimError, PolicyInputError) as e:
        fail(str(e))
    out = console()
    out.print(f"{_t(lang, 'ruleset')}: {escape(ruleset.ref)}")
    for outcome in outcomes:
        claim = escape(f"{outcome.block}: {outcome.claim}")
        if outcome.counterexample is None:
            key = "proved" if outcome.exhaustive else "searched"
            out.print(f"[green]{_t(lang, key, claim=claim, n=outcome.evaluations)}[/]")
            continue
        out.print(f"[bold red]{_t(lang, 'refuted', claim=claim)}[/]")
        table = Table(title=f"{_t(lang, 'block')}: {escape(outcome.block)}")
        table.add_column(_t(lang, "field"))
        rows = outcome.counterexample
        heads = [_t(lang, "before"), _t(lang, "after")] if len(rows) == 2 else [_t(lang, "value")]
        for head in heads:
            table.add_column(head, overflow="fold")
        for name in rows[0][0]:
            table.add_row(escape(name), *(escape(show_value(r[name], lang)) for r, _o in rows))
        table.add_row(
            f"[bold]{escape(outcome.claim.output)}[/]",
            *(f"[bold]{escape(show_value(o, lang))}[/]" for _r, o in rows),
        )
        out.print(table)
    raise click.exceptions.Exit(0 if all(o.holds for o in outcomes) else 1)
