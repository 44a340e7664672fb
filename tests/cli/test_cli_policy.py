"""`creditmgmt policy ...`: success and failure paths, exit codes, Chinese labels."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.rule_documents import OWNER, PROVISION, classification, document, written

from creditmgmt.cli import main

RULES = document(
    classification() + PROVISION,
    "dpd: {type: int, min: 0}\nbalance: {type: money}",
    id="retail-classification",
    header=OWNER,
)

# rows r2 and r3 leave (30..60] uncovered: a gap in a UNIQUE table is an error finding
GAPPY = RULES.replace('"(30..90]"', '"(60..90]"')

CASES = """\
case,block,dpd,balance,expect.category,expect.rate,expect.provision,expect.matched,expect.error
current,classification,0,,normal,0.010,,r1,
substandard,classification,95,,substandard,0.25,,r3,
provision,provision,100,1000,,,250.00,,
negative,classification,-1,,,,,,below the minimum
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["policy", *args])


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    return written(tmp_path, RULES)


# check -------------------------------------------------------------------------------------
def test_check_clean_file_exits_0(rules: Path) -> None:
    result = run("check", str(rules))
    assert result.exit_code == 0, result.output
    assert f"{rules}: no findings" in result.output.replace("\n", "")


def test_check_reports_gap_with_file_line_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "gappy.yaml"
    path.write_text(GAPPY, encoding="utf-8")
    result = run("check", str(path))
    assert result.exit_code == 1, result.output
    assert "error" in result.output
    assert f"{path}:" in result.output.replace("\n", "")
    assert "classification" in result.output
    assert f"{path}: 1 error(s), 0 warning(s), 0 info" in result.output.replace("\n", "")


def test_check_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "gappy.yaml"
    path.write_text(GAPPY, encoding="utf-8")
    result = run("check", str(path), "--lang", "zh")
    assert result.exit_code == 1
    assert "检查结果" in result.output
    assert "错误" in result.output
    assert "级别" in result.output


def test_check_load_error_names_file_line_and_exits_2(tmp_path: Path, rules: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(RULES.replace("kind: formula", "kind: formulae"), encoding="utf-8")
    result = run("check", str(broken), str(rules))
    assert result.exit_code == 2
    assert f"{broken}:" in result.output
    assert "formulae" in result.output
    # the other file is still checked
    assert str(rules) in result.output.replace("\n", "")


def test_check_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    assert run("check", str(tmp_path / "nope.yaml")).exit_code == 2


# explain -----------------------------------------------------------------------------------
def test_explain_shows_outputs_matched_ref_and_trace(rules: Path) -> None:
    result = run("explain", str(rules), "provision", "--input", "dpd=100", "-i", "balance=1000")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "250.00" in out
    assert "retail-classification@1.0.0#" in out
    assert "lookup=classification" in out
    assert "matched=r3" in out


def test_explain_table_lists_matched_rule(rules: Path) -> None:
    result = run("explain", str(rules), "classification", "-i", "dpd=95")
    assert result.exit_code == 0, result.output
    assert "matched rules: r3" in result.output
    assert "substandard" in result.output
    assert "(90..180]" in result.output  # the cell as written, not eaten as markup


def test_explain_in_chinese_labels_categories(rules: Path) -> None:
    result = run("explain", str(rules), "classification", "-i", "dpd=95", "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "命中规则: r3" in result.output
    assert "substandard（次级）" in result.output
    assert "决策追踪" in result.output


def test_explain_bad_input_exits_2_and_names_it(rules: Path) -> None:
    result = run("explain", str(rules), "classification", "-i", "dpd=abc")
    assert result.exit_code == 2
    assert "dpd" in result.output and "abc" in result.output


def test_explain_unknown_block_and_malformed_input_exit_2(rules: Path) -> None:
    unknown = run("explain", str(rules), "nope", "-i", "dpd=1")
    assert unknown.exit_code == 2
    assert "no block 'nope'" in unknown.output
    assert run("explain", str(rules), "classification", "-i", "dpd").exit_code == 2
    assert run("explain", str(rules), "classification", "-i", "dpd=1", "-i", "dpd=2").exit_code == 2
    assert run("explain", str(rules)).exit_code == 2
    assert run("explain", "missing.yaml", "classification").exit_code == 2


def test_explain_undecidable_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "gappy.yaml"
    path.write_text(GAPPY, encoding="utf-8")
    result = run("explain", str(path), "classification", "-i", "dpd=45")
    assert result.exit_code == 1
    assert "no rule matches" in result.output


def test_explain_builtin_rule_set() -> None:
    result = run("explain", "--builtin", "cn-2023", "collections", "-i", "dpd=95", "--lang", "zh")
    assert result.exit_code == 0, result.output
    assert "cn-2023@" in result.output
    assert "命中规则" in result.output


def test_explain_builtin_usage_errors() -> None:
    assert run("explain", "--builtin", "cn-2023", "a.yaml", "b").exit_code == 2
    result = run("explain", "--builtin", "no-such-ruleset", "classification")
    assert result.exit_code == 2
    assert "cn-2023" in result.output  # the message lists what is available


# test --------------------------------------------------------------------------------------
def test_cases_all_pass(rules: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES, encoding="utf-8")
    result = run("test", str(rules), str(cases))
    assert result.exit_code == 0, result.output
    assert "4 of 4 case(s) passed, 0 failed" in result.output


def test_failed_case_shows_expected_and_actual(rules: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(
        CASES + "late,classification,400,,doubtful,,,r4,\n"
        "quiet,classification,1,,,,,,no rule\n"
        "typo,classification,1,,,,7,,\n",
        encoding="utf-8",
    )
    result = run("test", str(rules), str(cases))
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any("late" in ln and "doubtful" in ln and "loss" in ln for ln in lines)
    assert any("late" in ln and "r4" in ln and "r5" in ln for ln in lines)
    assert any("quiet" in ln and "(no error)" in ln for ln in lines)
    assert any("typo" in ln and "no output provision" in ln for ln in lines)
    assert f"{cases.name}:6" in result.output
    assert "4 of 7 case(s) passed, 3 failed" in result.output


def test_cases_in_chinese(rules: Path, tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES + "late,classification,400,,doubtful,,,,\n", encoding="utf-8")
    result = run("test", str(rules), str(cases), "--lang", "zh")
    assert result.exit_code == 1
    assert "失败" in result.output and "通过" in result.output
    assert "期望值" in result.output and "实际值" in result.output
    assert "共 5 个用例，通过 4 个，失败 1 个" in result.output


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,block\nx,classification\n", ":1: the header needs columns 'case' and 'block'"),
        ("case,block,dpd\n,classification,1\n", ":2: 'case' and 'block' may not be empty"),
        ("case,block,dpd\na,classification,1\na,classification,2\n", ":3: case 'a' appears"),
        ("case,block,dpd\na,classification,1,9\n", ":2: more cells than columns"),
        ("case,block,dpd\n", "no cases"),
    ],
)
def test_malformed_cases_csv_exits_2(rules: Path, tmp_path: Path, text: str, message: str) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(text, encoding="utf-8")
    result = run("test", str(rules), str(cases))
    assert result.exit_code == 2
    assert message in result.output.replace("\n", "")


def test_cases_against_unloadable_rules_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nversion: [\n", encoding="utf-8")
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES, encoding="utf-8")
    result = run("test", str(broken), str(cases))
    assert result.exit_code == 2
    assert f"{broken}:" in result.output


# schema ------------------------------------------------------------------------------------
def test_schema_prints_the_json_schema() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "creditmgmt rule set"
    assert "blocks" in schema["required"]


# diff --------------------------------------------------------------------------------------
# version 1.1.0: NPL from 61 days (was 91)
NEW_RULES = RULES.replace("version: 1.0.0", "version: 1.1.0").replace(
    """      - {id: r2, when: {dpd: "(30..90]"}, then: {category: special_mention, rate: 0.03}}
      - {id: r3, when: {dpd: "(90..180]"}, then: {category: substandard, rate: 0.25}}""",
    """      - {id: r2, when: {dpd: "(30..60]"}, then: {category: special_mention, rate: 0.03}}
      - {id: r3, when: {dpd: "(60..180]"}, then: {category: substandard, rate: 0.25}}""",
)
BOOK = """\
customer_id,dpd,balance
c001,0,500000.00
c002,45,1200000.00
<b>&c003,75,800000.00
c004,95,300000.00
"""


@pytest.fixture
def versions(tmp_path: Path, rules: Path) -> tuple[Path, Path, Path]:
    assert NEW_RULES != RULES
    new = tmp_path / "new.yaml"
    new.write_text(NEW_RULES, encoding="utf-8")
    book = tmp_path / "book.csv"
    book.write_text(BOOK, encoding="utf-8")
    return rules, new, book


def test_diff_reports_transitions_and_writes_csv_and_html(
    versions: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    old, new, book = versions
    csv_out, html_out = tmp_path / "impact.csv", tmp_path / "impact.html"
    result = run(
        "diff", str(old), str(new), "--rows", str(book), "--amount", "balance",
        "--csv", str(csv_out), "--html", str(html_out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.output
    assert "4 record(s) compared; 1 with a changed output; 0 not decided" in out
    lines = out.splitlines()
    assert any(
        "special_mention" in ln and "substandard" in ln and "800,000.00" in ln for ln in lines
    )
    # provision is numeric: summarised, and its amount is the change in provision (176,000)
    assert any(
        "provision" in ln and "24,000.00" in ln and "200,000.00" in ln and "176,000.00" in ln
        for ln in lines
    )
    written = csv_out.read_text(encoding="utf-8").splitlines()
    assert written[0] == "customer_id,block,output,old,new,delta,amount"
    assert "<b>&c003,classification,category,special_mention,substandard,,800000.00" in written
    assert len(written) == 4  # category, rate, provision of the one changed customer
    page = html_out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "&lt;b&gt;&amp;c003" in page and "<b>&c003" not in page
    assert "retail-classification@1.1.0#" in page


def test_diff_in_chinese_with_yuan_amounts(
    versions: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    old, new, book = versions
    page = tmp_path / "impact.html"
    result = run(
        "diff", str(old), str(new), "--rows", str(book), "--amount", "balance",
        "--currency", "CNY", "--lang", "zh", "--html", str(page),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "迁移情况" in result.output and "发生变化的记录" in result.output
    assert "substandard（次级）" in result.output
    assert "共比较 4 条记录" in result.output
    assert "¥800,000.00 CNY" in result.output  # ¥ is also the yen: the ISO code follows
    assert "数值型输出：上升、下降与合计" in result.output and "变动额" in result.output
    html = page.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and "¥800,000.00 CNY" in html and "迁移情况" in html
    assert "<h2>数值型输出：上升、下降与合计</h2>" in html and "<h2>变动最大的记录</h2>" in html
    assert '<td class="num">176,000.00</td>' in html  # the change in provision, a number
    bad = run("diff", str(old), str(new), "--rows", str(book), "--currency", "XYZ")
    assert bad.exit_code == 2


def test_diff_lists_undecided_records_and_exits_1(
    versions: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    old, new, _book = versions
    book = tmp_path / "gaps.csv"
    book.write_text("customer_id,dpd,balance\nc001,0,1\nc009,,5\nc010,abc,5\n", encoding="utf-8")
    result = run("diff", str(old), str(new), "--rows", str(book), "--block", "classification")
    assert result.exit_code == 1, result.output
    assert "Records that could not be decided" in result.output
    assert "c009" in result.output and "missing input dpd" in result.output
    assert "c010" in result.output


def test_diff_usage_errors_exit_2(versions: tuple[Path, Path, Path], tmp_path: Path) -> None:
    old, new, book = versions
    no_key = run("diff", str(old), str(new), "--rows", str(book), "--key", "loan_id")
    assert no_key.exit_code == 2
    assert f"{book}:1: no column 'loan_id'" in no_key.output.replace("\n", "")
    unknown = run("diff", str(old), str(new), "--rows", str(book), "--block", "nope")
    assert unknown.exit_code == 2
    assert "no block 'nope'" in unknown.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: x\nversion: [\n", encoding="utf-8")
    assert run("diff", str(broken), str(new), "--rows", str(book)).exit_code == 2


def test_explain_in_chinese_translates_values_but_not_rule_ids() -> None:
    """A rule id that happens to equal a category code (`normal`) stays the policy's own id."""
    inputs = {
        "dpd": "95",
        "technical_overdue": "false",
        "restructured": "false",
        "restructured_failed": "false",
        "impaired": "false",
        "ecl_ratio": "0",
        "bankrupt": "false",
        "evading": "false",
        "other_npl_at_bank": "false",
        "bureau_npl_share": "0",
    }
    args = ["policy", "explain", "--builtin", "cn-2023", "classification", "--lang", "zh"]
    for name, value in inputs.items():
        args += ["--input", f"{name}={value}"]
    result = CliRunner().invoke(main, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "substandard（次级）" in result.output
    assert "rule=normal," in result.output
    assert "rule=normal（正常）" not in result.output


def test_diff_summarises_numeric_outputs_and_totals_each_output(
    versions: tuple[Path, Path, Path],
) -> None:
    old, new, book = versions
    result = run("diff", str(old), str(new), "--portfolio", str(book), "--amount", "balance")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # rate and provision: one summary row each (up 1, down 0, same 3), not a row per pair
    rate = [ln for ln in lines if "│ rate " in ln and "│ 1 " in ln and "│ 3 " in ln]
    assert rate, result.output
    assert "Numeric outputs: up, down, totals" in result.output
    assert "Largest changes" in result.output
    # the categorical transitions end with a total per output
    assert any("(total)" in ln and "800,000.00" in ln for ln in lines)
    # the largest-change table names the record and the change in provision
    assert any("<b>&c003" in ln and "176,000.00" in ln for ln in lines)


def test_diff_limit_caps_every_table(tmp_path: Path, rules: Path) -> None:
    new = tmp_path / "new.yaml"
    new.write_text(NEW_RULES, encoding="utf-8")
    book = tmp_path / "book.csv"
    body = "".join(f"c{i:03},{61 + i % 29},{1000 + i}.00\n" for i in range(30))
    book.write_text("customer_id,dpd,balance\n" + body, encoding="utf-8")
    result = run(
        "diff", str(rules), str(new), "--portfolio", str(book), "--limit", "3", "--top", "5",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = result.output
    # changed records: 30 customers x 3 outputs = 90 rows, 3 shown; largest: 2 x 5, 3 shown
    assert "... 87 more row(s) in the CSV/HTML report (--limit)" in out
    assert "... 7 more row(s) in the CSV/HTML report (--limit)" in out
    shown = [ln for ln in out.splitlines() if ln.startswith("│ c0")]
    assert len(shown) == 6  # three rows of the largest changes, three of the changed records


def test_diff_needs_exactly_one_book(versions: tuple[Path, Path, Path]) -> None:
    old, new, book = versions
    assert run("diff", str(old), str(new)).exit_code == 2
    both = run("diff", str(old), str(new), "--portfolio", str(book), "--store", "memory://")
    assert both.exit_code == 2 and "--portfolio CSV or --store URL" in both.output
    no_date = run("diff", str(old), str(new), "--store", "memory://")
    assert no_date.exit_code == 2 and "--as-of" in no_date.output


def test_explain_marks_the_priority_row_that_decided_and_formats_amounts() -> None:
    args = ["explain", "--builtin", "cn-2023", "classification"]
    result = run(*args, "-i", "dpd=95", "-i", "restructured=true")
    assert result.exit_code == 0, result.output
    assert "(decided by ss_dpd_over_90)" in result.output
    [decided] = [ln for ln in result.output.splitlines() if "<- decides" in ln]
    assert "rule=ss_dpd_over_90" in decided
    assert sum("rule=" in ln for ln in result.output.splitlines()) == 4  # 4 rows matched
    zh = run(*args, "-i", "dpd=95", "--lang", "zh")
    assert "（由 ss_dpd_over_90 决定）" in zh.output and "← 决定结果" in zh.output
    money = run(
        "explain", "--builtin", "cn-2023", "provisioning_mof2012",
        "-i", "category=substandard", "-i", "balance=33000000",
    )  # fmt: skip
    assert money.exit_code == 0, money.output
    assert "33,000,000.00" in money.output and "9,900,000.00" in money.output
    assert "33000000" not in money.output.replace(",", "X")  # never unformatted


def test_check_goes_on_past_a_formula_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("broken.yaml").write_text(
        GAPPY.replace("round(balance * rate, 2)", "round(balance * (dpd > 3), 2)"),
        encoding="utf-8",
    )
    result = run("check", "broken.yaml")
    assert result.exit_code == 1, result.output  # findings, not "cannot load" (2)
    lines = result.output.splitlines()
    assert any("broken.yaml:28" in ln and "formula-error" in ln for ln in lines)
    # the table is still checked: its gap is listed too
    assert any("broken.yaml:10" in ln and "gap" in ln and "[31..61)" in ln for ln in lines)
    assert "cannot load" not in result.output
    assert "broken.yaml: 2 error(s)" in result.output
    zh = run("check", "broken.yaml", "--lang", "zh")
    assert "formula-error（公式错误）" in zh.output and "gap（覆盖缺口）" in zh.output
    assert "错误 2 个" in zh.output


def test_every_finding_code_has_a_chinese_label() -> None:
    from creditmgmt.cli.policy.text import FINDING_LABELS_ZH
    from creditmgmt.policies.checks import FINDING_CODES

    assert set(FINDING_LABELS_ZH) == set(FINDING_CODES)
    assert len(set(FINDING_LABELS_ZH.values())) == len(FINDING_LABELS_ZH)


BROKEN_FOR_ZH = """\
id: draft-with-problems
version: 0.1.0
effective_from: 2026-06-01
status: draft
inputs:
  dpd: {type: int, min: 0}
  grade: {type: enum, values: [A, B, C]}
  revenue: {type: decimal}
  debt: {type: decimal}
  region: {type: string}
  flag: {type: bool}
blocks:
  - id: classification
    kind: decision_table
    inputs: [dpd]
    outputs:
      category: {type: enum, values: [normal, special_mention, substandard]}
    rules:
      - {id: current, when: {dpd: "[0..30]"}, then: {category: normal}}
      - {id: watch, when: {dpd: "[60..90]"}, then: {category: special_mention}}
      - {id: npl, when: {dpd: ">= 90"}, then: {category: substandard}}
      - {id: odd, when: {dpd: "[0..10]"}, then: {category: doubtful}}
  - id: margin
    kind: decision_table
    hit_policy: FIRST
    inputs: [grade, dpd]
    outputs:
      margin: {type: decimal}
    rules:
      - {id: any_grade, when: {grade: "-"}, then: {margin: 0.02}}
      - {id: grade_a, when: {grade: A}, then: {margin: 0.01}}
  - id: leverage
    kind: formula
    inputs: [revenue, debt]
    outputs:
      ratio: debt / revenue
  - id: limit
    kind: formula
    inputs: [debt, flag]
    outputs:
      limit: debt * flag
  - id: warnings
    kind: trigger_set
    inputs: [dpd]
    triggers:
      - {id: impossible, severity: red, reason: X1, when: dpd > 90 and dpd < 30}
"""


def _message_column(output: str) -> list[str]:
    """The text of the message column of `check`'s table, one entry per physical line."""
    cells = [line.split("│") for line in output.splitlines() if line.startswith("│")]
    return [row[5].strip() for row in cells if len(row) == 7]


def test_check_in_chinese_writes_every_message_body_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN_FOR_ZH, encoding="utf-8")
    en, zh = run("check", str(path)), run("check", str(path), "--lang", "zh")
    assert en.exit_code == zh.exit_code == 1, zh.output
    codes = {"gap", "overlap", "unknown-value", "shadowed-row", "division-by-zero"}
    codes |= {"formula-error", "trigger-never-fires", "unused-input", "unconstrained-input"}
    for code in codes:
        assert f"│ {code}" in en.output and f"{code}（" in zh.output, code
    english, chinese = " ".join(_message_column(en.output)), " ".join(_message_column(zh.output))
    assert "no rule matches dpd in [31..60)" in english
    assert "没有规则匹配 dpd in [31..60)" in chinese
    assert "规则 watch 和 npl 都匹配 dpd = 90" in chinese
    assert "公式 'debt * flag' 中应为 num 值，实际为 bool" in chinese
    # what is left of the bodies once the policy's own words (quoted formulas, ids and names
    # of the document, the language's keywords the Chinese templates quote) are taken out:
    # no English at all
    structure = {"id", "version", "effective_from", "status", "draft", "inputs", "type", "int"}
    structure |= {"enum", "values", "decimal", "string", "blocks", "kind", "decision_table"}
    structure |= {"outputs", "rules", "when", "then", "hit_policy", "formula", "trigger_set"}
    structure |= {"triggers", "severity", "reason", "and"}
    names = set(re.findall(r"[A-Za-z_]+", BROKEN_FOR_ZH)) - structure
    keywords = {"min", "max", "if", "else", "in", "num", "bool"}

    def words(text: str) -> set[str]:
        return set(re.findall(r"[A-Za-z_]{2,}", re.sub(r"'[^']*'", "", text)))

    assert words(chinese) - names - keywords == set()
    assert {"rule", "matches", "declared", "and"} <= words(english) - names  # the test bites
