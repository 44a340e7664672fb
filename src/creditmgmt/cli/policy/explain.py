"""`creditmgmt policy explain`: one decision with its inputs, matched rows and trace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
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
from creditmgmt.policies import Decision, PolicyError, PolicyInputError
from creditmgmt.policies.decision import IDENTIFIER_KEYS


def parse_inputs(pairs: Sequence[str]) -> dict[str, Any]:
    """`k=v` pairs → inputs (text values; the rule set converts them to the declared types).

    `k=null` passes None (a missing value of a nullable input). Raises `click.UsageError`.
    """
    inputs: dict[str, Any] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        name = name.strip()
        if not eq or not name:
            raise click.UsageError(f"--input {pair!r}: write name=value")
        if name in inputs:
            raise click.UsageError(f"--input {name} is given twice")
        inputs[name] = None if value.strip() == "null" else value
    return inputs


def print_decision(out: Console, decision: Decision, lang: str) -> None:
    """Outputs, matched rule ids, rule-set reference, inputs seen and the trace."""
    table = Table(title=f"{_t(lang, 'decision')}: {escape(decision.block)}")
    table.add_column(_t(lang, "output"))
    table.add_column(_t(lang, "value"), overflow="fold")
    for name, value in decision.outputs.items():
        table.add_row(escape(name), escape(show_value(value, lang)))
    out.print(table)
    matched = ", ".join(decision.matched) or _t(lang, "none")
    decider = _decider(decision)
    if decider is not None:
        matched += " " + _t(lang, "decided_by", rule=decider)
    out.print(f"{_t(lang, 'matched')}: {escape(matched)}")
    out.print(f"{_t(lang, 'ruleset')}: {escape(decision.ruleset_ref)}")
    if decision.trace is None:
        return
    seen = Table(title=_t(lang, "inputs"))
    seen.add_column(_t(lang, "input"))
    seen.add_column(_t(lang, "value"))
    for name, value in decision.trace.inputs.items():
        seen.add_row(escape(name), escape(show_value(value, lang)))
    out.print(seen)
    steps = Table(title=_t(lang, "trace"))
    steps.add_column(_t(lang, "step"), justify="right")
    steps.add_column(_t(lang, "detail"), overflow="fold")

    def shown(key: str, value: Any) -> str:
        return show_value(value, "en" if key in IDENTIFIER_KEYS else lang)

    for number, detail in decision.trace.lines(shown, mark=_t(lang, "decides")):
        steps.add_row(number, escape(detail))
    if not decision.trace.steps:
        steps.add_row("-", _t(lang, "none"))
    out.print(steps)


def _decider(decision: Decision) -> str | None:
    """The row that decided under hit policy PRIORITY (marked in the trace), if any."""
    if decision.trace is None:
        return None
    for step in decision.trace.steps:
        if step.get("decides"):
            return str(step["rule"])
    return None


@policy.command()
@click.argument("args", nargs=-1, required=True, metavar="[FILE] BLOCK")
@BUILTIN
@click.option("--input", "-i", "pairs", multiple=True, metavar="NAME=VALUE", help="An input.")
@LANG
def explain(
    args: tuple[str, ...], builtin_name: str | None, pairs: tuple[str, ...], lang: str
) -> None:
    """Evaluate BLOCK of FILE (or of `--builtin NAME`) on `--input name=value ...` and show
    the decision: outputs, matched rules, rule-set reference and the full trace.

    Exits 1 if the block cannot decide (e.g. no rule matches), 2 on bad inputs or files.
    """
    ruleset, block = rules_and_block(args, builtin_name, block_required=True)
    assert block is not None
    inputs = parse_inputs(pairs)
    out = console()
    try:
        decision = ruleset.evaluate(block, inputs, trace=True)
    except PolicyInputError as e:
        fail(str(e))
    except PolicyError as e:
        out.print(f"[bold red]{_t(lang, 'cannot_decide')}:[/] {escape(str(e))}")
        out.print(f"{_t(lang, 'ruleset')}: {escape(ruleset.ref)}")
        raise click.exceptions.Exit(1) from None
    print_decision(out, decision, lang)
