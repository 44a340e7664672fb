"""The words of rule-set findings in English and Chinese: one catalogue, rendered when shown.

`CODES` holds every finding code (its severity, what it means, its Chinese name); `MESSAGES`
holds every message a finding's body is made of, keyed `code.variant` (`gap.no-rule`), each
an English and a Chinese template with the same `{placeholders}`. A check makes a finding
from a key and its values (`Text`), never from a finished sentence, and the code of a finding
is the prefix of its key: a code without a message, or a message without its Chinese, cannot
be written (tests/policies/test_messages_zh.py holds the catalogue to that). Keys prefixed
`note.` are parts that go inside or after a message (`(and 3 more gap regions)`, `any input`).
The errors the formula compiler and input coercion raise carry a `Text` too, so a
`formula-error` finding and a refused default read in Chinese as well.

Values are written by the caller in the policy's own terms (ids, regions such as
`dpd in [31..60)`, formulas, type names); a tuple of ids is listed in the language
(`a, b and c` / `a、b 和 c`); a `Text` inside a value is rendered in the same language.
English is the default and is what `Finding.message` and every error message say.

This module imports nothing of the pipeline: base, errors and the checks all read it.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import TypeAlias

import attrs

__all__ = ["CODES", "LANGUAGES", "MESSAGES", "Code", "Text", "Value", "code_of", "placeholders"]

#: The languages every message is written in; English is the default.
LANGUAGES = ("en", "zh")


@attrs.frozen
class Code:
    """A finding code: its severity (error | warning | info), meaning and Chinese name."""

    severity: str
    meaning: str
    zh: str


#: Every finding code (documentation, `check` and its `--lang zh` read these).
CODES: dict[str, Code] = {
    "formula-error": Code(
        "error",
        "a formula, let or trigger condition does not compile (a type error, an unknown name, "
        "a syntax error); its block is not checked further and does not evaluate",
        "公式错误",
    ),
    "type-error": Code(
        "error",
        "a cell, output value, default or expression has the wrong type for its input or "
        "output, or a block reads an input of a kind it cannot use",
        "类型错误",
    ),
    "unknown-input": Code(
        "error", "a block names an input the document does not declare", "未声明的输入"
    ),
    "unknown-value": Code(
        "error",
        "a cell, output, default or comparison in a formula names an enum value that is not "
        "declared",
        "未声明的枚举值",
    ),
    "bad-domain": Code(
        "error",
        "an input's min is above its max, or min/max is given for a non-numeric input",
        "取值范围错误",
    ),
    "gap": Code(
        "error",
        "some inputs match no row, band, step or bin: evaluating them fails (the region is named)",
        "覆盖缺口",
    ),
    "overlap": Code(
        "error",
        "some inputs match several rows of a UNIQUE table, several matrix rows or columns, "
        "several bands of a scale or two steps from the same value (the region is named)",
        "规则重叠",
    ),
    "shadowed-row": Code(
        "warning",
        "a row or bin can never decide: under FIRST (and for scorecard bins) earlier rows "
        "cover its whole region, under PRIORITY rows with a better output do, or one of its "
        "cells holds for no allowed value",
        "规则被遮蔽",
    ),
    "bin-overlap": Code(
        "warning",
        "a scorecard bin overlaps earlier bins in part; the first bin wins there",
        "分箱部分重叠",
    ),
    "conflicting-duplicate": Code(
        "error", "two rows have the same conditions but different outputs", "重复规则且结果冲突"
    ),
    "duplicate-row": Code(
        "warning", "two rows have the same conditions and the same outputs", "重复规则"
    ),
    "trigger-never-fires": Code(
        "warning",
        "a trigger's condition can never be true (contradictory comparisons, an undeclared "
        "enum value, constant false)",
        "预警永不触发",
    ),
    "scale-not-monotone": Code(
        "error",
        "master-scale bands are not in ascending order, a band is empty, or the default grade "
        "lies below the last band",
        "主标尺非单调",
    ),
    "scale-not-contiguous": Code(
        "error", "a master-scale band does not start where the previous one ends", "主标尺不连续"
    ),
    "scale-too-few-grades": Code(
        "error",
        "a master scale has fewer than 7 non-default grades or not exactly one default grade",
        "主标尺等级过少",
    ),
    "duplicate-grade": Code("error", "a master scale names the same grade twice", "等级重复"),
    "ladder-not-ordered": Code("error", "threshold-ladder steps do not ascend", "阶梯未按升序"),
    "unreachable-step": Code(
        "warning", "a threshold-ladder step lies wholly outside the input's domain", "阶梯不可达"
    ),
    "empty-cell": Code("error", "a matrix cell has no value", "矩阵单元为空"),
    "division-by-zero": Code(
        "error",
        "a formula divides by an input whose domain includes 0 and no enclosing condition "
        "excludes 0",
        "可能除以零",
    ),
    "unused-input": Code("warning", "an input is declared but no block uses it", "未使用的输入"),
    "unconstrained-input": Code(
        "info",
        "a block lists an input that none of its rows, bins or expressions reads",
        "未读取的输入",
    ),
    "check-incomplete": Code(
        "info",
        "a table is too large to walk completely; gap/overlap results are partial",
        "检查未完成",
    ),
}

_IN_FORMULA = " in formula {formula}"
_RULE_SAME = "rule {rule} has the same conditions as rule {first}"

#: Every message: key `code.variant` (or `note.name`) -> (English, Chinese).
MESSAGES: dict[str, tuple[str, str]] = {
    # formula-error: what the formula compiler refuses (see formula.compile_expression)
    "formula-error.empty": ("a formula must be a non-empty string", "公式必须是非空字符串"),
    "formula-error.too-long": ("formula longer than {max} characters", "公式超过 {max} 个字符"),
    "formula-error.syntax": (
        "syntax error in formula {formula}: {detail}",
        "公式 {formula} 有语法错误：{detail}",
    ),
    "formula-error.unparsable": (
        "formula {formula} cannot be parsed: {detail}",
        "公式 {formula} 无法解析：{detail}",
    ),
    "formula-error.too-large": (
        "expression too large or too deeply nested" + _IN_FORMULA,
        "公式 {formula} 的表达式过大或嵌套过深",
    ),
    "formula-error.not-decimal": (
        "{number} is not a decimal number" + _IN_FORMULA,
        "公式 {formula} 中的 {number} 不是十进制数",
    ),
    "formula-error.out-of-range": (
        "number {number} is out of range" + _IN_FORMULA,
        "公式 {formula} 中的数字 {number} 超出范围",
    ),
    "formula-error.constant": (
        "constant {constant} is not allowed" + _IN_FORMULA,
        "公式 {formula} 中不允许常量 {constant}",
    ),
    "formula-error.private-name": (
        "name {name} is not allowed" + _IN_FORMULA,
        "公式 {formula} 中不允许名称 {name}",
    ),
    "formula-error.unknown-name": (
        "unknown name {name} (not an input or an earlier let)" + _IN_FORMULA,
        "公式 {formula} 中的名称 {name} 未知（既不是输入，也不是前面定义的 let）",
    ),
    "formula-error.operator": (
        "operator not allowed" + _IN_FORMULA,
        "公式 {formula} 中不允许该运算符",
    ),
    "formula-error.named-operator": (
        "operator {operator} is not allowed" + _IN_FORMULA,
        "公式 {formula} 中不允许运算符 {operator}",
    ),
    "formula-error.comparison": (
        "comparison not allowed" + _IN_FORMULA,
        "公式 {formula} 中不允许该比较",
    ),
    "formula-error.in-list": (
        "'in' needs a parenthesised list of constants" + _IN_FORMULA,
        "公式 {formula} 中 'in' 之后须为括号括起的常量列表",
    ),
    "formula-error.in-constants": (
        "'in' lists hold constants only" + _IN_FORMULA,
        "公式 {formula} 中 'in' 列表只能包含常量",
    ),
    "formula-error.comparing": (
        "comparing {left} with {right}" + _IN_FORMULA,
        "公式 {formula} 中比较了 {left} 与 {right}",
    ),
    "formula-error.branches": (
        "both branches must have one type ({body} vs {orelse})" + _IN_FORMULA,
        "公式 {formula} 中两个分支的类型必须相同（{body} 与 {orelse}）",
    ),
    "formula-error.syntax-node": (
        "{node} is not allowed" + _IN_FORMULA,
        "公式 {formula} 中不允许 {node}",
    ),
    "formula-error.expected": (
        "expected a {want} value, got {got}" + _IN_FORMULA,
        "公式 {formula} 中应为 {want} 值，实际为 {got}",
    ),
    "formula-error.callable": (
        "only min, max, abs, round, clip and lookup may be called" + _IN_FORMULA,
        "公式 {formula} 中只能调用 min、max、abs、round、clip 和 lookup",
    ),
    "formula-error.lookup-form": (
        'lookup needs ("block", "output", input=value, ...)' + _IN_FORMULA,
        '公式 {formula} 中 lookup 的写法应为 ("block", "output", input=value, ...)',
    ),
    "formula-error.lookup-named": (
        "lookup arguments are named" + _IN_FORMULA,
        "公式 {formula} 中 lookup 的参数必须具名",
    ),
    "formula-error.no-keywords": (
        "{function} takes no named arguments" + _IN_FORMULA,
        "公式 {formula} 中 {function} 不接受具名参数",
    ),
    "formula-error.arity": (
        "{function} takes {low}..{high} arguments" + _IN_FORMULA,
        "公式 {formula} 中 {function} 需要 {low}..{high} 个参数",
    ),
    "formula-error.round-places": (
        "round(x, n) needs n written as a whole number from -{max} to {max}" + _IN_FORMULA,
        "公式 {formula} 中 round(x, n) 的 n 须写为 -{max} 到 {max} 之间的整数",
    ),
    "formula-error.other": ("{detail}", "公式无法编译：{detail}"),
    # type-error
    "type-error.not-a-test": (
        "{where}{cell} is not a {type} test",
        "{where}{cell} 不是 {type} 类型的条件",
    ),
    "type-error.range-on-unordered": (
        "{where}{cell} is a range but {input} is {type}",
        "{where}{cell} 是区间，但 {input} 的类型是 {type}",
    ),
    "type-error.not-bool": (
        "{where}{cell} is not true or false",
        "{where}{cell} 不是 true 或 false",
    ),
    "type-error.bool-on-other": (
        "{where}{cell} is a boolean but {input} is {type}",
        "{where}{cell} 是布尔值，但 {input} 的类型是 {type}",
    ),
    "type-error.output-value": (
        "output {output}: {value} is not a {type}",
        "输出 {output}：{value} 不是 {type} 类型",
    ),
    "type-error.aggregate": (
        "{aggregate} needs numeric outputs; {output} is {type}",
        "{aggregate} 需要数值型输出；{output} 的类型是 {type}",
    ),
    "type-error.scale-input": (
        "a master scale reads a number; {input} is {type}",
        "主标尺读取数值；{input} 的类型是 {type}",
    ),
    "type-error.ladder-input": (
        "a threshold ladder needs an ordered input; {input} is {type}",
        "阈值阶梯需要有序的输入；{input} 的类型是 {type}",
    ),
    "type-error.formula-output": (
        "output {output} is declared {declared} but {formula} gives a {type}",
        "输出 {output} 声明为 {declared}，但 {formula} 得到的是 {type}",
    ),
    "type-error.lookup-argument": (
        "lookup of {target} passes a {got} as {input}, which is {type}",
        "对 {target} 的 lookup 以 {got} 值传入 {input}，而 {input} 的类型是 {type}",
    ),
    "type-error.default-null": (
        "input {input}: default is null but the input is not nullable",
        "输入 {input}：默认值为 null，但该输入不可为空",
    ),
    "type-error.default": (
        "input {input}: default {default} is refused: {reason}",
        "输入 {input}：默认值 {default} 不被接受：{reason}",
    ),
    # unknown-input, unknown-value
    "unknown-input.undeclared": (
        "input {input} is not declared under the document's inputs",
        "输入 {input} 未在文档的 inputs 中声明",
    ),
    "unknown-value.cell": (
        "{where}unknown value {values} of {input} (declared: {declared})",
        "{where}{input} 的取值 {values} 未声明（已声明：{declared}）",
    ),
    "unknown-value.output-value": (
        "output {output}: {value} is not one of {values}",
        "输出 {output}：{value} 不在 {values} 之中",
    ),
    "unknown-value.lookup-argument": (
        "lookup of {target} passes {value} as {input}, not one of {values}",
        "对 {target} 的 lookup 以 {value} 传入 {input}，该值不在 {values} 之中",
    ),
    "unknown-value.comparison": (
        "{formula} compares {input} with {values}, not one of {declared}",
        "{formula} 将 {input} 与 {values} 比较，而该值不在 {declared} 之中",
    ),
    "unknown-value.default": (
        "input {input}: default {default} is refused: {reason}",
        "输入 {input}：默认值 {default} 不被接受：{reason}",
    ),
    # bad-domain
    "bad-domain.not-numeric": (
        "input {input}: min/max apply to int, decimal and money inputs, not to {type}",
        "输入 {input}：min/max 只适用于 int、decimal 和 money 输入，不适用于 {type}",
    ),
    "bad-domain.min-above-max": (
        "input {input}: min {min} is above max {max}; no value is allowed",
        "输入 {input}：min {min} 大于 max {max}，没有任何允许的取值",
    ),
    "bad-domain.no-whole-number": (
        "input {input}: no whole number lies in [{min}..{max}]",
        "输入 {input}：[{min}..{max}] 中没有整数",
    ),
    "bad-domain.default": (
        "input {input}: default {default} is refused: {reason}",
        "输入 {input}：默认值 {default} 不被接受：{reason}",
    ),
    # gap
    "gap.empty-table": ("no rule matches any input", "没有任何规则匹配任何输入"),
    "gap.no-rule": ("no rule matches {region}", "没有规则匹配 {region}"),
    "gap.no-bin": ("no bin of {input} matches {region}", "{input} 没有分箱匹配 {region}"),
    "gap.no-row": ("no row matches {region}", "没有矩阵行匹配 {region}"),
    "gap.no-column": ("no column matches {region}", "没有矩阵列匹配 {region}"),
    "gap.no-grade": ("no grade for {region}", "{region} 没有对应的等级"),
    "gap.no-step": ("no step matches {region}", "没有阶梯匹配 {region}"),
    # overlap
    "overlap.rules-both": ("rules {rules} both match {region}", "规则 {rules} 都匹配 {region}"),
    "overlap.rules-all": ("rules {rules} all match {region}", "规则 {rules} 均匹配 {region}"),
    "overlap.rows": (
        "rows {rows} ({cells}) all match {region}",
        "矩阵行 {rows}（{cells}）均匹配 {region}",
    ),
    "overlap.columns": (
        "columns {rows} ({cells}) all match {region}",
        "矩阵列 {rows}（{cells}）均匹配 {region}",
    ),
    "overlap.grades": ("grades {grades} all cover {region}", "等级 {grades} 均覆盖 {region}"),
    "overlap.steps": (
        "steps from {first} (value {first_value}) and from {second} (value {second_value}) "
        "start at the same value; the earlier one is never used",
        "起点为 {first}（值 {first_value}）与起点为 {second}（值 {second_value}）的两个阶梯"
        "起点相同；前一个永远不会被使用",
    ),
    # the other codes
    "shadowed-row.never-match": (
        "rule {rule} can never match: {input} {cell} holds for no allowed value",
        "规则 {rule} 永远不会匹配：{input} {cell} 对任何允许的取值都不成立",
    ),
    "shadowed-row.never-match-not-nullable": (
        "rule {rule} can never match: {input} {cell} holds for no allowed value "
        "(the input is not nullable)",
        "规则 {rule} 永远不会匹配：{input} {cell} 对任何允许的取值都不成立（该输入不可为空）",
    ),
    "shadowed-row.covered-by": (
        "rule {rule} can never be reached: earlier rule(s) {rules} cover all it matches",
        "规则 {rule} 永远不会被命中：前面的规则 {rules} 已覆盖它匹配的全部情形",
    ),
    "shadowed-row.covered": (
        "rule {rule} can never be reached: earlier rules cover all it matches",
        "规则 {rule} 永远不会被命中：前面的规则已覆盖它匹配的全部情形",
    ),
    "shadowed-row.never-decides": (
        "rule {rule} never decides: wherever it matches, a row with an output of higher "
        "priority (or the same, written earlier) matches too",
        "规则 {rule} 永远不起决定作用：凡它匹配之处，总有输出优先级更高（或相同且写在前面）的行"
        "也匹配",
    ),
    "shadowed-row.bin-covered": (
        "bin {bin} of {input} can never be reached: earlier bins cover all it matches",
        "{input} 的分箱 {bin} 永远不会被命中：前面的分箱已覆盖它匹配的全部情形",
    ),
    "shadowed-row.bin-empty": (
        "bin {bin} of {input} can never be reached: it holds for no allowed value",
        "{input} 的分箱 {bin} 永远不会被命中：它对任何允许的取值都不成立",
    ),
    "bin-overlap.partial": (
        "bin {bin} overlaps earlier bins (they win) at {region}",
        "分箱 {bin} 与前面的分箱部分重叠（以前面的为准），重叠区域：{region}",
    ),
    "conflicting-duplicate.different": (
        _RULE_SAME + " but different outputs ({outputs} vs {first_outputs})",
        "规则 {rule} 与规则 {first} 条件相同，但输出不同（{outputs} 与 {first_outputs}）",
    ),
    "duplicate-row.same": (
        _RULE_SAME + " and the same outputs",
        "规则 {rule} 与规则 {first} 条件相同，输出也相同",
    ),
    "trigger-never-fires.false": (
        "trigger {trigger} can never fire: {formula} is false for every allowed input",
        "预警 {trigger} 永远不会触发：对任何允许的输入，{formula} 都不成立",
    ),
    "scale-too-few-grades.count": (
        "the scale has {grades} non-default and {defaults} default grade(s); at least "
        "{minimum} non-default and exactly 1 default are required",
        "该主标尺有 {grades} 个非违约等级、{defaults} 个违约等级；至少需要 {minimum} 个非违约"
        "等级且恰好 1 个违约等级",
    ),
    "duplicate-grade.twice": (
        "grade {grade} is named twice (first at line {line})",
        "等级 {grade} 出现了两次（首次在第 {line} 行）",
    ),
    "scale-not-monotone.empty-band": (
        "band {grade} [{lower}..{upper}) is empty: from must be below to",
        "等级 {grade} 的区间 [{lower}..{upper}) 为空：from 必须小于 to",
    ),
    "scale-not-monotone.descending": (
        "band {grade} starts at {lower}, below band {previous} ({previous_lower}); bands must "
        "ascend from the best grade to the worst",
        "等级 {grade} 始于 {lower}，低于等级 {previous}（{previous_lower}）；各区间须从最好的"
        "等级到最差的等级递增",
    ),
    "scale-not-monotone.default-below": (
        "default grade {grade} at {lower} lies below the end of the bands ({top})",
        "违约等级 {grade} 位于 {lower}，低于各区间的终点（{top}）",
    ),
    "scale-not-contiguous.hole": (
        "band {previous} ends at {upper} but band {grade} starts at {lower}: {region} has no grade",
        "等级 {previous} 止于 {upper}，而等级 {grade} 始于 {lower}：{region} 没有对应的等级",
    ),
    "scale-not-contiguous.overlap": (
        "band {previous} ends at {upper} but band {grade} starts at {lower}: {region} falls in "
        "both",
        "等级 {previous} 止于 {upper}，而等级 {grade} 始于 {lower}：{region} 同时落入两者",
    ),
    "ladder-not-ordered.descending": (
        "step from {start} comes after the step from {previous}; steps must ascend",
        "起点为 {start} 的阶梯排在起点为 {previous} 的阶梯之后；阶梯须递增",
    ),
    "unreachable-step.above-max": (
        "step from {start} (value {value}) lies wholly above the domain's max",
        "起点为 {start} 的阶梯（值 {value}）完全高于取值范围的最大值",
    ),
    "unreachable-step.below-min": (
        "step from {start} (value {value}) lies wholly below the domain's min",
        "起点为 {start} 的阶梯（值 {value}）完全低于取值范围的最小值",
    ),
    "empty-cell.no-value": (
        "cell {cell} ({row} x {column}) has no value",
        "单元格 {cell}（{row} x {column}）没有值",
    ),
    "division-by-zero.input": (
        "{formula} divides by {input}, which may be 0 (domain [{low}..{high}]); declare "
        "min > 0 or guard it, e.g. `... if {input} != 0 else ...`",
        "{formula} 除以 {input}，而它可能为 0（取值范围 [{low}..{high}]）；请声明 min > 0 或"
        "加以保护，例如 `... if {input} != 0 else ...`",
    ),
    "unused-input.declared": (
        "input {input} is declared but no block uses it",
        "输入 {input} 已声明，但没有任何块使用它",
    ),
    "unconstrained-input.any-value": (
        "input {input} is listed but every row accepts any value",
        "输入 {input} 已列出，但每一行都接受任意值",
    ),
    "unconstrained-input.no-characteristic": (
        "input {input} is listed but no characteristic reads it",
        "输入 {input} 已列出，但没有任何评分项读取它",
    ),
    "unconstrained-input.no-expression": (
        "input {input} is listed but no expression reads it",
        "输入 {input} 已列出，但没有任何表达式读取它",
    ),
    "unconstrained-input.no-trigger": (
        "input {input} is listed but no trigger reads it",
        "输入 {input} 已列出，但没有任何预警条件读取它",
    ),
    "check-incomplete.too-many-regions": (
        "the table has too many regions to walk (> {budget}); gap, overlap and shadowing "
        "results are partial",
        "该表的区域过多，无法完整遍历（> {budget}）；缺口、重叠与遮蔽的结果不完整",
    ),
    # parts of messages
    "note.any-input": ("any input", "任意输入"),
    "note.input": ("{input}: ", "{input}："),
    "note.matrix-row": ("row {n}: ", "第 {n} 行："),
    "note.matrix-column": ("column {n}: ", "第 {n} 列："),
    "note.more-regions": (" (and {n} more {code} regions)", "（另有 {n} 个 {code} 区域）"),
    "note.more-regions-uncounted": (" (and more {code} regions)", "（另有更多 {code} 区域）"),
    # why coercion refuses a value (a refused default names it)
    "note.input-missing": ("may not be missing (None)", "不可缺失（None）"),
    "note.input-float": (
        "{value} is a float; pass a str, int or Decimal",
        "{value} 是浮点数；请传入 str、int 或 Decimal",
    ),
    "note.input-invalid": ("{value} is not a valid {type}", "{value} 不是有效的 {type}"),
    "note.input-invalid-detail": (
        "{value} is not a valid {type}: {detail}",
        "{value} 不是有效的 {type}：{detail}",
    ),
    "note.input-not-one-of": ("{value} is not one of {values}", "{value} 不在 {values} 之中"),
    "note.input-below-min": ("{value} is below the minimum {min}", "{value} 低于最小值 {min}"),
    "note.input-above-max": ("{value} is above the maximum {max}", "{value} 高于最大值 {max}"),
}

#: A value put into a message: text, a number, ids to list, or a message part.
Value: TypeAlias = "str | int | tuple[str, ...] | Text"


@attrs.frozen
class Text:
    """One message of the catalogue and its values, rendered in a language when shown."""

    key: str
    args: tuple[tuple[str, Value], ...] = ()

    @classmethod
    def of(cls, key: str, /, **args: Value) -> Text:
        """The message `key` with `args` (KeyError names a key the catalogue does not hold)."""
        if key not in MESSAGES:
            raise KeyError(f"no message {key!r} in the catalogue")
        return cls(key, tuple(sorted(args.items())))

    @property
    def values(self) -> Mapping[str, Value]:
        return dict(self.args)

    def render(self, lang: str = "en") -> str:
        en, zh = MESSAGES[self.key]
        template = zh if lang == "zh" else en
        return template.format(**{k: _show(v, lang) for k, v in self.args})

    def __str__(self) -> str:
        return self.render()


def _show(value: Value, lang: str) -> str:
    if isinstance(value, Text):
        return value.render(lang)
    if isinstance(value, tuple):
        items = [str(v) for v in value]
        if len(items) <= 1:
            return "".join(items)
        if lang == "zh":
            return f"{'、'.join(items[:-1])} 和 {items[-1]}"
        return f"{', '.join(items[:-1])} and {items[-1]}"
    return str(value)


def code_of(key: str) -> str:
    """The finding code a message key belongs to (`gap.no-rule` -> `gap`)."""
    return key.split(".", 1)[0]


def placeholders(template: str) -> frozenset[str]:
    """The `{names}` a template fills."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)
