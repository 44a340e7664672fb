"""What every `creditmgmt policy` subcommand shares: the group, `--lang`, the console, value
display, loading a rule set."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.markup import escape

from creditmgmt.cli.console import console as console
from creditmgmt.domain import format_amount, label
from creditmgmt.policies import PolicyError, RuleSet

LANG = click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of labels and messages (stored codes stay as written).",
)


def fail(message: str, code: int = 2) -> NoReturn:
    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}")
    raise click.exceptions.Exit(code)


def show_value(value: Any, lang: str = "en") -> str:
    """A value as policy teams read it: decimals as amounts (`33,000,000.00`, at least two
    places, a rate keeps its own: `0.0150`), lists joined by `|`, None as null.

    With `lang="zh"` a stored code that has a Chinese label is followed by it: `substandard（次级）`.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        if "id" in value:  # a fired trigger: its id
            return show_value(value["id"], lang)
        return "{" + ", ".join(f"{k}: {show_value(v, lang)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "|".join(show_value(v, lang) for v in value) if value else "[]"
    if isinstance(value, Decimal):
        return format_amount(value)  # 33,000,000.00, never 33000000.0
    text = str(value)
    if lang == "zh" and isinstance(value, str):
        shown = label(value, "zh")
        if shown != value:
            return f"{value}（{shown}）"
    return text


def load_rules(path: str) -> RuleSet:
    """Load and compile a document without refusing approved ones with errors (check shows them)."""
    from creditmgmt.policies.loader import read_document

    try:
        return RuleSet(read_document(Path(path), source_name=path))
    except PolicyError as e:
        fail(str(e))


@click.group()
def policy() -> None:
    """Rule sets for policy teams: check, explain, test, diff, prove, schema."""


def builtin_rules(name: str) -> RuleSet:
    from creditmgmt.policies import builtin_ruleset

    try:
        return builtin_ruleset(name)
    except PolicyError as e:  # UnknownRuleSetError lists the available names
        fail(str(e))


#: `--builtin NAME`: a rule set shipped with the package instead of FILE (explain, prove).
BUILTIN = click.option("--builtin", "builtin_name", help="Use a built-in rule set (e.g. cn-2023).")


def rules_and_block(
    args: tuple[str, ...], builtin_name: str | None, *, block_required: bool
) -> tuple[RuleSet, str | None]:
    """The rule set and BLOCK of `[FILE] BLOCK` arguments: FILE, or `--builtin NAME` with
    BLOCK alone. Raises `click.UsageError` for a wrong count of arguments or a missing FILE."""
    block = "BLOCK" if block_required else "[BLOCK]"
    if builtin_name is not None:
        if len(args) > 1 or (block_required and not args):
            raise click.UsageError(f"with --builtin, give only {block}")
        return builtin_rules(builtin_name), (args[0] if args else None)
    if not args or len(args) > 2 or (block_required and len(args) != 2):
        raise click.UsageError(f"give FILE {block} (or --builtin NAME {block})")
    if not Path(args[0]).is_file():
        raise click.UsageError(f"{args[0]}: no such file")
    return load_rules(args[0]), (args[1] if len(args) == 2 else None)
