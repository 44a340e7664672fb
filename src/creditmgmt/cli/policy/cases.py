"""`creditmgmt policy test FILE CASES.csv`: regression cases of a rule set."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import click
from rich.markup import escape
from rich.table import Table

from creditmgmt.cli.policy.common import LANG, console, load_rules, policy, show_value
from creditmgmt.cli.policy.text import t as _t
from creditmgmt.policies import PolicyError, RuleSet

if TYPE_CHECKING:
    pass


EXPECT = "expect."


@attrs.frozen
class Case:
    """One regression case read from a cases CSV."""

    name: str
    block: str
    line: int
    inputs: Mapping[str, Any]
    expected: Mapping[str, str]  # output name | "matched" | "error" -> written text


@attrs.frozen
class CaseResult:
    case: Case
    problems: tuple[tuple[str, str, str], ...]  # (field, expected, actual)

    @property
    def passed(self) -> bool:
        return not self.problems


def read_cases(path: str) -> list[Case]:
    """Read a cases CSV: `case`, `block`, input columns, `expect.<output>` columns.

    Empty cells are skipped (an input not given, an output not checked); `null` is None.
    `expect.matched` lists matched rule ids joined by `|`; `expect.error` expects evaluation
    to fail with a message containing that text.

    Raises:
        click.UsageError: a malformed file, naming file:line.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise click.UsageError(f"{path}: cannot read: {e}") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or ()]
    if "case" not in header or "block" not in header:
        raise click.UsageError(f"{path}:1: the header needs columns 'case' and 'block'")
    if len(set(header)) != len(header):
        raise click.UsageError(f"{path}:1: a column is named twice")
    bad = [h for h in header if h.startswith(EXPECT) and not h[len(EXPECT) :]]
    if bad or "" in header:
        raise click.UsageError(f"{path}:1: every column needs a name")
    cases: list[Case] = []
    seen: set[str] = set()
    for raw in reader:
        line = reader.line_num
        if None in raw:
            raise click.UsageError(f"{path}:{line}: more cells than columns")
        row = {k.strip(): (v or "").strip() for k, v in raw.items()}
        name, block = row.pop("case"), row.pop("block")
        if not name or not block:
            raise click.UsageError(f"{path}:{line}: 'case' and 'block' may not be empty")
        if name in seen:
            raise click.UsageError(f"{path}:{line}: case {name!r} appears twice")
        seen.add(name)
        inputs = {
            k: (None if v == "null" else v)
            for k, v in row.items()
            if not k.startswith(EXPECT) and v != ""
        }
        expected = {k[len(EXPECT) :]: v for k, v in row.items() if k.startswith(EXPECT) and v}
        cases.append(Case(name, block, line, inputs, expected))
    if not cases:
        raise click.UsageError(f"{path}: no cases")
    return cases


def value_matches(expected: str, actual: Any) -> bool:
    """Does the written `expected` text equal `actual`? Numbers compare as decimals
    (`0.25` equals `0.250`), lists as `a|b|c` (`[]` for empty), None as `null`."""
    if actual is None:
        return expected == "null"
    if isinstance(actual, bool):
        return expected.lower() == ("true" if actual else "false")
    if isinstance(actual, int | Decimal):
        try:
            return Decimal(expected.replace(",", "")) == actual
        except InvalidOperation:
            return False
    if isinstance(actual, date):
        return expected == actual.isoformat()
    if isinstance(actual, Mapping):
        return value_matches(expected, actual.get("id"))
    if isinstance(actual, tuple | list):
        parts = [] if expected == "[]" else [p.strip() for p in expected.split("|")]
        return len(parts) == len(actual) and all(
            value_matches(p, a) for p, a in zip(parts, actual, strict=True)
        )
    return expected == str(actual)


def run_case(ruleset: RuleSet, case: Case) -> CaseResult:
    """Evaluate one case and compare every expectation it writes."""
    problems: list[tuple[str, str, str]] = []
    expected = dict(case.expected)
    want_error = expected.pop("error", None)
    try:
        decision = ruleset.evaluate(case.block, case.inputs)
    except PolicyError as e:
        if want_error is None or want_error not in str(e):
            problems.append(("error", want_error or "", str(e)))
        return CaseResult(case, tuple(problems))
    if want_error is not None:
        problems.append(("error", want_error, "(no error)"))
    want_matched = expected.pop("matched", None)
    if want_matched is not None and not value_matches(want_matched, decision.matched):
        problems.append(("matched", want_matched, show_value(decision.matched)))
    for name, text in expected.items():
        if name not in decision.outputs:
            have = ", ".join(decision.outputs)
            problems.append(
                (name, text, f"(block {case.block} has no output {name}; it has {have})")
            )
        elif not value_matches(text, decision.outputs[name]):
            problems.append((name, text, show_value(decision.outputs[name])))
    return CaseResult(case, tuple(problems))


@policy.command(name="test")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("cases_csv", metavar="CASES.csv", type=click.Path(exists=True, dir_okay=False))
@LANG
def test_cases(file: str, cases_csv: str, lang: str) -> None:
    """Run the regression cases in CASES.csv against the rule set FILE.

    Columns: `case`, `block`, one column per input, `expect.<output>` per checked output,
    optional `expect.matched` (rule ids joined by `|`) and `expect.error` (text the error
    message must contain). Empty cells are skipped; `null` means None. Exits 1 on any failure.
    """
    ruleset = load_rules(file)
    cases = read_cases(cases_csv)
    results = [run_case(ruleset, c) for c in cases]
    out = console()
    table = Table(title=f"{_t(lang, 'cases')}: {escape(ruleset.ref)}")
    for key in ("case", "block", "row", "result"):
        table.add_column(_t(lang, key))
    for r in results:
        verdict = f"[green]{_t(lang, 'pass')}[/]" if r.passed else f"[red]{_t(lang, 'fail')}[/]"
        table.add_row(
            escape(r.case.name), escape(r.case.block), f"{cases_csv}:{r.case.line}", verdict
        )
    out.print(table)
    failed = [r for r in results if not r.passed]
    if failed:
        detail = Table(title=_t(lang, "failures"))
        for key in ("case", "field", "expected", "actual"):
            detail.add_column(_t(lang, key), overflow="fold")
        for r in failed:
            for fld, want, got in r.problems:
                detail.add_row(escape(r.case.name), escape(fld), escape(want), escape(got))
        out.print(detail)
    total = len(results)
    out.print(_t(lang, "tested", passed=total - len(failed), total=total, failed=len(failed)))
    raise click.exceptions.Exit(1 if failed else 0)
