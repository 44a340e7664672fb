"""`creditmgmt policy`: tools for policy teams — check, explain, test, diff, schema.

Exit codes: 0 success; 1 the rules have a problem (error findings, failed regression cases, a
block that cannot decide); 2 the command cannot run (usage, a file that cannot be loaded, a
malformed cases CSV, bad `--input`). Load errors name file:line:column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NoReturn

import attrs
import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creditmgmt.domain import label
from creditmgmt.policies import Decision, PolicyError, PolicyInputError, RuleSet

LANG = click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of labels (stored codes stay as written).",
)

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "location": "location",
        "severity": "severity",
        "code": "code",
        "where": "block/row",
        "message": "message",
        "findings": "Findings",
        "summary": "{file}: {errors} error(s), {warnings} warning(s), {infos} info",
        "clean": "{file}: no findings",
        "error": "error",
        "warning": "warning",
        "info": "info",
        "cannot_load": "cannot load",
        "decision": "Decision",
        "output": "output",
        "value": "value",
        "inputs": "Inputs",
        "input": "input",
        "matched": "matched rules",
        "ruleset": "rule set",
        "trace": "Trace",
        "step": "step",
        "detail": "detail",
        "none": "(none)",
        "cannot_decide": "cannot decide",
        "cases": "Regression cases",
        "case": "case",
        "block": "block",
        "result": "result",
        "pass": "PASS",
        "fail": "FAIL",
        "failures": "Failures: expected vs actual",
        "field": "field",
        "expected": "expected",
        "actual": "actual",
        "row": "row",
        "tested": "{passed} of {total} case(s) passed, {failed} failed",
        "impact": "Impact of {new} over {old}",
        "changed": "{changed} of {total} record(s) change",
        "written": "written: {path}",
    },
    "zh": {
        "location": "位置",
        "severity": "级别",
        "code": "代码",
        "where": "决策块/行",
        "message": "说明",
        "findings": "检查结果",
        "summary": "{file}：错误 {errors} 个，警告 {warnings} 个，提示 {infos} 个",
        "clean": "{file}：未发现问题",
        "error": "错误",
        "warning": "警告",
        "info": "提示",
        "cannot_load": "无法加载",
        "decision": "决策结果",
        "output": "输出",
        "value": "值",
        "inputs": "输入",
        "input": "输入项",
        "matched": "命中规则",
        "ruleset": "规则集版本",
        "trace": "决策追踪",
        "step": "步骤",
        "detail": "明细",
        "none": "（无）",
        "cannot_decide": "无法决策",
        "cases": "回归测试用例",
        "case": "用例",
        "block": "决策块",
        "result": "结果",
        "pass": "通过",
        "fail": "失败",
        "failures": "失败用例：期望值与实际值",
        "field": "字段",
        "expected": "期望值",
        "actual": "实际值",
        "row": "行",
        "tested": "共 {total} 个用例，通过 {passed} 个，失败 {failed} 个",
        "impact": "新版本 {new} 相对 {old} 的影响",
        "changed": "共 {total} 条记录，其中 {changed} 条发生变化",
        "written": "已写入：{path}",
    },
}


def _t(lang: str, key: str, **values: Any) -> str:
    return _LABELS[lang][key].format(**values)


def _console(stderr: bool = False) -> Console:
    probe = Console(stderr=stderr)
    width = probe.width if probe.is_terminal else 160
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False)


def _fail(message: str, code: int = 2) -> NoReturn:
    _console(stderr=True).print(f"[bold red]error:[/] {escape(message)}")
    raise click.exceptions.Exit(code)


def show_value(value: Any, lang: str = "en") -> str:
    """A value as policy teams write it: decimals as text, lists joined by `|`, None as null.

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
    text = str(value)
    if lang == "zh" and isinstance(value, str):
        shown = label(value, "zh")
        if shown != value:
            return f"{value}（{shown}）"
    return text


def _load(path: str) -> RuleSet:
    """Load and compile a document without refusing approved ones with errors (check shows them)."""
    from creditmgmt.policies.loader import read_document

    try:
        return RuleSet(read_document(Path(path), source_name=path))
    except PolicyError as e:
        _fail(str(e))


@click.group()
def policy() -> None:
    """Rule sets for policy teams: check, explain, test, diff, schema."""


# check -------------------------------------------------------------------------------------
@policy.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@LANG
def check(files: tuple[str, ...], lang: str) -> None:
    """Check rule-set FILES: gaps, overlaps, shadowed rows, types, unused inputs ...

    Lists every finding with file:line, severity, code and block/row. Exits 1 if any file has
    an error finding, 2 if a file cannot be loaded.
    """
    from creditmgmt.policies.loader import read_document

    out = _console()
    worst = 0
    for path in files:
        try:
            ruleset = RuleSet(read_document(Path(path), source_name=path))
        except PolicyError as e:
            out.print(f"[bold red]{_t(lang, 'cannot_load')}:[/] {escape(str(e))}")
            worst = 2
            continue
        findings = ruleset.check()
        counts = {s: sum(1 for f in findings if f.severity == s) for s in ("error", "warning")}
        infos = len(findings) - counts["error"] - counts["warning"]
        if findings:
            table = Table(title=f"{_t(lang, 'findings')}: {escape(ruleset.ref)}")
            for key in ("location", "severity", "code", "where", "message"):
                table.add_column(_t(lang, key), overflow="fold")
            for f in findings:
                loc = f"{f.location.file}:{f.location.line}" if f.location else path
                where = f"{f.block}/{f.rule}" if f.block and f.rule else (f.block or "")
                sev = _t(lang, f.severity) if f.severity in _LABELS[lang] else f.severity
                style = {"error": "red", "warning": "yellow"}.get(f.severity, "")
                table.add_row(
                    escape(loc),
                    f"[{style}]{escape(sev)}[/]" if style else escape(sev),
                    escape(f.code),
                    escape(where),
                    escape(f.message),
                )
            out.print(table)
            out.print(
                escape(
                    _t(
                        lang,
                        "summary",
                        file=path,
                        errors=counts["error"],
                        warnings=counts["warning"],
                        infos=infos,
                    )
                )
            )
        else:
            out.print(escape(_t(lang, "clean", file=path)))
        if counts["error"]:
            worst = max(worst, 1)
    raise click.exceptions.Exit(worst)


# explain -----------------------------------------------------------------------------------
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


def _builtin(name: str) -> RuleSet:
    from creditmgmt.policies import builtin_ruleset

    try:
        return builtin_ruleset(name)
    except PolicyError as e:  # UnknownRuleSetError lists the available names
        _fail(str(e))


def print_decision(out: Console, decision: Decision, lang: str) -> None:
    """Outputs, matched rule ids, rule-set reference, inputs seen and the trace."""
    table = Table(title=f"{_t(lang, 'decision')}: {escape(decision.block)}")
    table.add_column(_t(lang, "output"))
    table.add_column(_t(lang, "value"), overflow="fold")
    for name, value in decision.outputs.items():
        table.add_row(escape(name), escape(show_value(value, lang)))
    out.print(table)
    matched = ", ".join(decision.matched) or _t(lang, "none")
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
    for number, detail in _flatten(decision.trace.steps, lang):
        steps.add_row(number, escape(detail))
    if not decision.trace.steps:
        steps.add_row("-", _t(lang, "none"))
    out.print(steps)


def _flatten(
    steps: Sequence[Mapping[str, Any]], lang: str, prefix: str = ""
) -> list[tuple[str, str]]:
    """Trace steps as numbered lines; a lookup's own steps follow it as 2.1, 2.2 ..."""
    lines: list[tuple[str, str]] = []
    for i, step in enumerate(steps, 1):
        number = f"{prefix}{i}"
        inner = step.get("steps") if "lookup" in step else None
        shown = {k: v for k, v in step.items() if not (k == "steps" and inner is not None)}
        lines.append((number, ", ".join(f"{k}={show_value(v, lang)}" for k, v in shown.items())))
        if inner:
            lines.extend(_flatten(inner, lang, f"{number}."))
    return lines


@policy.command()
@click.argument("args", nargs=-1, required=True, metavar="[FILE] BLOCK")
@click.option("--builtin", "builtin_name", help="Use a built-in rule set (e.g. cn-2023).")
@click.option("--input", "-i", "pairs", multiple=True, metavar="NAME=VALUE", help="An input.")
@LANG
def explain(
    args: tuple[str, ...], builtin_name: str | None, pairs: tuple[str, ...], lang: str
) -> None:
    """Evaluate BLOCK of FILE (or of `--builtin NAME`) on `--input name=value ...` and show
    the decision: outputs, matched rules, rule-set reference and the full trace.

    Exits 1 if the block cannot decide (e.g. no rule matches), 2 on bad inputs or files.
    """
    if builtin_name is not None:
        if len(args) != 1:
            raise click.UsageError("with --builtin, give only BLOCK")
        ruleset, block = _builtin(builtin_name), args[0]
    else:
        if len(args) != 2:
            raise click.UsageError("give FILE and BLOCK (or --builtin NAME and BLOCK)")
        if not Path(args[0]).is_file():
            raise click.UsageError(f"{args[0]}: no such file")
        ruleset, block = _load(args[0]), args[1]
    inputs = parse_inputs(pairs)
    out = _console()
    try:
        decision = ruleset.evaluate(block, inputs, trace=True)
    except PolicyInputError as e:
        _fail(str(e))
    except PolicyError as e:
        out.print(f"[bold red]{_t(lang, 'cannot_decide')}:[/] {escape(str(e))}")
        out.print(f"{_t(lang, 'ruleset')}: {escape(ruleset.ref)}")
        raise click.exceptions.Exit(1) from None
    print_decision(out, decision, lang)


# test --------------------------------------------------------------------------------------
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
    ruleset = _load(file)
    cases = read_cases(cases_csv)
    results = [run_case(ruleset, c) for c in cases]
    out = _console()
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


# schema ------------------------------------------------------------------------------------
@policy.command()
def schema() -> None:
    """Print the JSON Schema of rule-set documents (for editors and CI validation)."""
    from creditmgmt.policies.loader import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


__all__ = ["policy", "print_decision", "read_cases", "run_case", "show_value", "value_matches"]
