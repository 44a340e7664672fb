"""`creditmgmt policy`: tools for policy teams — check, explain, test, diff, prove, schema.

Exit codes: 0 success; 1 the rules have a problem (error findings, failed regression cases, a
block that cannot decide); 2 the command cannot run (usage, a file that cannot be loaded, a
malformed cases CSV, bad `--input`). Load errors name file:line:column.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import attrs
import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from creditmgmt.domain import DomainError, Money, label
from creditmgmt.domain.money import quantize
from creditmgmt.policies import Decision, PolicyError, PolicyInputError, RuleSet

if TYPE_CHECKING:
    from creditmgmt.policies.impact import ImpactReport

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
        "book": "{rows} record(s) compared; {changed} with a changed output; {errors} not decided",
        "summary_title": "Summary by output",
        "transitions": "Transitions",
        "changes": "Changed records",
        "more": "... {n} more in the CSV/HTML report",
        "not_kept": "{n} further change(s) counted but not listed (--max-changes)",
        "errors_title": "Records that could not be decided",
        "output_col": "output",
        "evaluated": "evaluated",
        "unchanged": "unchanged",
        "changed_col": "changed",
        "errors_col": "errors",
        "amount": "amount",
        "old": "old",
        "new": "new",
        "count": "count",
        "version": "version",
        "error_col": "error",
        "written": "written: {path}",
        "proved": "{claim}: holds at every boundary ({n} evaluations)",
        "searched": "{claim}: holds on a sample of the boundaries ({n} evaluations; too many to walk)",
        "refuted": "{claim}: does not hold",
        "before": "before",
        "after": "after",
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
        "book": "共比较 {rows} 条记录；{changed} 条输出发生变化；{errors} 条无法决策",
        "summary_title": "按输出汇总",
        "transitions": "迁移情况",
        "changes": "发生变化的记录",
        "more": "……另有 {n} 条，见 CSV/HTML 报告",
        "not_kept": "另有 {n} 处变化已计数但未列出（--max-changes）",
        "errors_title": "无法决策的记录",
        "output_col": "输出",
        "evaluated": "已评估",
        "unchanged": "未变化",
        "changed_col": "变化",
        "errors_col": "错误",
        "amount": "金额",
        "old": "原值",
        "new": "新值",
        "count": "笔数",
        "version": "版本",
        "error_col": "错误",
        "written": "已写入：{path}",
        "proved": "{claim}：在所有边界上成立（共评估 {n} 次）",
        "searched": "{claim}：在边界抽样上成立（共评估 {n} 次；组合过多，未穷举）",
        "refuted": "{claim}：不成立",
        "before": "变化前",
        "after": "变化后",
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
    """Rule sets for policy teams: check, explain, test, diff, prove, schema."""


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


#: trace keys whose values are the policy's own identifiers, never translated
_IDENTIFIERS = frozenset({"rule", "trigger", "block", "lookup", "line", "bin"})


def _flatten(
    steps: Sequence[Mapping[str, Any]], lang: str, prefix: str = ""
) -> list[tuple[str, str]]:
    """Trace steps as numbered lines; a lookup's own steps follow it as 2.1, 2.2 ..."""
    lines: list[tuple[str, str]] = []
    for i, step in enumerate(steps, 1):
        number = f"{prefix}{i}"
        inner = step.get("steps") if "lookup" in step else None
        shown = {k: v for k, v in step.items() if not (k == "steps" and inner is not None)}
        lines.append(
            (
                number,
                ", ".join(
                    f"{k}={show_value(v, 'en' if k in _IDENTIFIERS else lang)}"
                    for k, v in shown.items()
                ),
            )
        )
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


# diff --------------------------------------------------------------------------------------
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
        if not currency:
            return f"{value:,.2f}"
        return Money.of(quantize(value, currency), currency).format()
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


# prove -------------------------------------------------------------------------------------
@policy.command()
@click.argument("args", nargs=-1, metavar="[FILE] [BLOCK]")
@click.option("--builtin", "builtin_name", help="Use a built-in rule set (e.g. cn-2023).")
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

    block: str | None
    if builtin_name is not None:
        if len(args) > 1:
            raise click.UsageError("with --builtin, give at most BLOCK")
        ruleset, block = _builtin(builtin_name), (args[0] if args else None)
    else:
        if not args or len(args) > 2:
            raise click.UsageError("give FILE [BLOCK] (or --builtin NAME [BLOCK])")
        if not Path(args[0]).is_file():
            raise click.UsageError(f"{args[0]}: no such file")
        ruleset, block = _load(args[0]), (args[1] if len(args) == 2 else None)
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
        _fail(str(e))
    out = _console()
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


# schema ------------------------------------------------------------------------------------
@policy.command()
def schema() -> None:
    """Print the JSON Schema of rule-set documents (for editors and CI validation)."""
    from creditmgmt.policies.loader import json_schema

    click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


__all__ = ["policy", "print_decision", "read_cases", "run_case", "show_value", "value_matches"]
