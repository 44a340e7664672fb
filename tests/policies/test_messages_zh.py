"""The message catalogue (`policies.messages`): every finding code has messages, every message
has a Chinese template with the same placeholders, and findings and formula errors keep their
message as data so that they render in either language."""

from __future__ import annotations

import re

import pytest

from creditmgmt.policies import PolicyLoadError
from creditmgmt.policies.checks import FINDING_CODES, FINDING_SEVERITIES, ROOMS, check_document
from creditmgmt.policies.formula import MAX_LENGTH, compile_expression
from creditmgmt.policies.loader import read_document
from creditmgmt.policies.messages import CODES, LANGUAGES, MESSAGES, Text, code_of, placeholders

HAN = re.compile(r"[\u4e00-\u9fff]")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")  # with full-width punctuation


def test_the_catalogue_is_the_source_of_every_finding_code() -> None:
    # the codes the rooms report, the documented codes and the catalogue's codes are one set
    reported = {code for _room, codes in ROOMS for code in codes}
    assert reported == set(CODES) == set(FINDING_CODES) == set(FINDING_SEVERITIES)
    assert len(CODES) == 23
    # every key belongs to a code (or is a part of a message), and every code has a message
    prefixes = {code_of(key) for key in MESSAGES}
    assert prefixes == set(CODES) | {"note"}
    for code, info in CODES.items():
        assert info.severity in ("error", "warning", "info"), code
        assert HAN.search(info.zh), code


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_a_chinese_template_with_the_same_placeholders(key: str) -> None:
    en, zh = MESSAGES[key]
    assert len(MESSAGES[key]) == len(LANGUAGES)
    assert placeholders(zh) == placeholders(en), key
    assert CJK.search(zh), f"{key}: the Chinese template has no Chinese"
    assert en != zh


def test_an_unknown_key_cannot_make_a_message() -> None:
    with pytest.raises(KeyError, match=r"no message 'gap\.nowhere'"):
        Text.of("gap.nowhere", region="x")


def test_values_render_in_the_language() -> None:
    text = Text.of("overlap.rules-all", rules=("r1", "r2", "r3"), region="dpd = 90")
    assert text.render() == "rules r1, r2 and r3 all match dpd = 90"
    assert text.render("zh") == "规则 r1、r2 和 r3 均匹配 dpd = 90"
    nested = Text.of("gap.no-rule", region=Text.of("note.any-input"))
    assert (nested.render("en"), nested.render("zh")) == (
        "no rule matches any input",
        "没有规则匹配 任意输入",
    )
    assert Text.of("gap.no-rule", region="x") == Text.of("gap.no-rule", region="x")


MANY_PROBLEMS = """\
id: problems-of-every-kind
version: 0.3.0
effective_from: 2026-03-01
status: draft
inputs:
  pd: {type: decimal, min: 0, max: 1}
  age: {type: int, min: 0, max: 120}
  amount: {type: decimal, min: 0}
  tier: {type: enum, values: [A, B, C]}
  rate: {type: decimal, min: 2, max: 1}
  limit: {type: int, min: 0, default: -1}
  unused: {type: string}
blocks:
  - id: scale
    kind: master_scale
    input: pd
    output: grade
    grades:
      - {grade: AA, from: 0, to: 0.01}
      - {grade: BB, from: 0.02, to: 0.1}
      - {grade: BB, from: 0.1, to: 1}
  - id: card
    kind: scorecard
    inputs: [age, limit]
    base_points: 600
    characteristics:
      - input: age
        bins:
          - {when: "[18..40)", points: 5}
          - {when: "[30..35)", points: 7}
          - {when: "[38..70)", points: 10}
  - id: authority
    kind: matrix
    rows: {input: amount, cells: ["< 100", "[50..500)"]}
    columns: {input: tier, cells: ['"A"', '"Z"']}
    output: level
    values:
      - [branch, ""]
      - [region, head]
  - id: pick
    kind: decision_table
    hit_policy: FIRST
    inputs: [tier]
    outputs: {fee: {type: int}}
    rules:
      - {id: base, when: {tier: "-"}, then: {fee: 1.5}}
      - {id: a, when: {tier: A}, then: {fee: 2}}
      - {id: a_again, when: {tier: A}, then: {fee: 3}}
      - {id: odd, when: {tier: A}, then: {fee: nine}}
  - id: ratios
    kind: formula
    inputs: [amount, age]
    outputs:
      r: "amount / age if tier == 'Q' else 0"
      s: "age + (age > 1)"
  - id: signals
    kind: trigger_set
    inputs: [age]
    triggers:
      - {id: never, severity: red, reason: none, when: "age > 200"}
"""


def test_every_finding_of_a_broken_document_reads_in_chinese() -> None:
    findings = check_document(read_document(MANY_PROBLEMS, lenient=True))
    codes = {f.code for f in findings}
    assert len(codes) == 16  # and each code in several messages
    for f in findings:
        zh = f.message_in("zh")
        assert f.message == f.message_in("en") != zh
        assert HAN.search(zh), zh
        assert code_of(f.body.key) == f.code
    refused = next(f for f in findings if f.body.key == "bad-domain.default")
    assert refused.message == "input limit: default -1 is refused: -1 is below the minimum 0"
    assert refused.message_in("zh") == "输入 limit：默认值 -1 不被接受：-1 低于最小值 0"
    cell = next(f for f in findings if f.body.key == "unknown-value.cell")
    assert cell.message == "column 2: unknown value 'Z' of tier (declared: A, B, C)"
    assert cell.message_in("zh") == "第 2 列：tier 的取值 'Z' 未声明（已声明：A, B, C）"


def test_a_finding_message_is_data_rendered_when_shown() -> None:
    findings = check_document(read_document(MANY_PROBLEMS, lenient=True))
    overlap = next(f for f in findings if f.body.key == "overlap.rows")
    assert overlap.body.values["rows"] == ("r1", "r2")
    assert overlap.message == "rows r1 and r2 (< 100, [50..500)) all match amount in [50..100)"
    assert (
        overlap.message_in("zh") == "矩阵行 r1 和 r2（< 100, [50..500)）均匹配 amount in [50..100)"
    )
    assert str(overlap).endswith(overlap.message)  # str() stays English


def test_the_note_of_more_regions_follows_the_language() -> None:
    rows = "\n".join(
        f'      - {{id: r{i}, when: {{n: "= {2 * i}"}}, then: {{y: {i}}}}}' for i in range(30)
    )
    text = (
        "id: holes\nversion: 1.0.0\neffective_from: 2026-01-01\nstatus: draft\n"
        "inputs:\n  n: {type: int, min: 0, max: 59}\nblocks:\n  - id: t\n"
        "    kind: decision_table\n    inputs: [n]\n    outputs: {y: {type: int}}\n"
        f"    rules:\n{rows}\n"
    )
    last = [f for f in check_document(read_document(text)) if f.code == "gap"][-1]
    assert last.message.endswith(" (and 10 more gap regions)")
    assert last.message_in("zh").endswith("（另有 10 个 gap 区域）")


FORMULAS: dict[str, str] = {
    "formula-error.empty": " ",
    "formula-error.too-long": "1 + " * MAX_LENGTH + "1",
    "formula-error.syntax": "1 +",
    "formula-error.too-large": "-" * 60 + "1",
    "formula-error.not-decimal": "0x10",
    "formula-error.out-of-range": "1e999999",
    "formula-error.constant": "b'x'",
    "formula-error.private-name": "_x",
    "formula-error.unknown-name": "nope",
    "formula-error.operator": "~x",
    "formula-error.named-operator": "x ** 2",
    "formula-error.comparison": "x is x",
    "formula-error.in-list": "x in x",
    "formula-error.in-constants": "x in (x, 1)",
    "formula-error.comparing": "x == 'a'",
    "formula-error.branches": "1 if flag else 'a'",
    "formula-error.syntax-node": "[1]",
    "formula-error.expected": "flag + 1",
    "formula-error.callable": "foo(1)",
    "formula-error.lookup-form": 'lookup("a")',
    "formula-error.lookup-named": 'lookup("a", "b", **x)',
    "formula-error.no-keywords": "min(1, a=2)",
    "formula-error.arity": "abs(1, 2)",
    "formula-error.round-places": "round(x, 99)",
}


@pytest.mark.parametrize("key", sorted(FORMULAS))
def test_each_formula_error_carries_its_message(key: str) -> None:
    with pytest.raises(PolicyLoadError) as caught:
        compile_expression(FORMULAS[key], {"x": "num", "flag": "bool"})
    error = caught.value
    assert error.text is not None and error.text.key == key
    assert str(error) == error.text.render("en")  # the English message is unchanged
    assert HAN.search(error.text.render("zh"))


def test_the_formula_cases_cover_every_formula_message_the_compiler_writes() -> None:
    written = {k for k in MESSAGES if code_of(k) == "formula-error"}
    # `unparsable` depends on the interpreter's parser; `other` is the stand-in for an error
    # without a catalogue message
    assert written - set(FORMULAS) == {"formula-error.unparsable", "formula-error.other"}
