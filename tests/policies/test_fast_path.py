"""Compiled evaluators (`RuleSet.evaluate` without a trace, `RuleSet.evaluator`) against the
reference path (`RuleSet._evaluate`): the same decisions and the same errors, for any input.

The reference path is what `evaluate(..., trace=True)` runs and what a compiled evaluator
hands anything unusual to; these tests spy on it to prove the compiled path really decides
the ordinary cases itself.
"""

from __future__ import annotations

import copy
import decimal
import pickle
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.rule_documents import PROVISION, classification, document

from creditmgmt.domain import Money
from creditmgmt.domain.money import quantize
from creditmgmt.policies import (
    Decision,
    PolicyEvaluationError,
    PolicyInputError,
    RuleSet,
    builtin_ruleset,
)
from creditmgmt.policies import model as m
from creditmgmt.policies.cells import parse_cell
from creditmgmt.policies.loader import read_document
from creditmgmt.policies.table_index import rules_disjoint as _rules_disjoint

CN = builtin_ruleset("cn-2023")
BLOCKS = sorted(CN.blocks)

SMALL = document(
    """\
- id: scale
  kind: master_scale
  input: pd
  output: grade
  floor: 0.0003
  grades:
    - {grade: A, from: 0.0003, to: 0.001}
    - {grade: B, from: 0.001, to: 0.005}
    - {grade: C, from: 0.005, to: 0.1}
    - {grade: E, from: 0.1, to: 1}
    - {grade: X, default: true, at: 1}
- id: months
  kind: threshold_ladder
  input: rating
  output: months
  steps:
    - {from: A, value: 12}
    - {from: C, value: 6}
    - {from: E, value: 3}
- id: bucket
  kind: threshold_ladder
  input: dpd
  output: bucket
  domain: {min: 0, max: 999}
  steps:
    - {from: 0, value: current}
    - {from: 1, value: b1}
    - {from: 31, value: b2}
    - {from: 91, value: npl}
- id: authority
  kind: matrix
  rows: {input: amount, cells: ["< 100000", "[100000..1000000)", ">= 1000000"]}
  columns: {input: rating, cells: ['"A", "B"', '"C"', '"D", "E"']}
  output: level
  values:
    - [officer, officer, manager]
    - [manager, manager, committee]
    - [committee, committee, board]
- id: warnings
  kind: trigger_set
  inputs: [dpd, overdraft, rating]
  triggers:
    - {id: ko, severity: red, reason: R01 provisioned, when: 'lookup("classification", "rate", dpd=dpd) > 0.2'}
    - {id: late, severity: yellow, reason: Y01 late, when: dpd > 30}
    - {id: od, severity: yellow, reason: Y02 overdraft, when: overdraft}
    - {id: weak, severity: info, reason: I01 weak, when: 'rating in ("D", "E")'}
- id: addons
  kind: decision_table
  hit_policy: COLLECT
  aggregate: SUM
  inputs: [rating, amount]
  outputs:
    bp: {type: decimal}
  rules:
    - {id: weak, when: {rating: '"D", "E"'}, then: {bp: 50}}
    - {id: big, when: {amount: ">= 1000000"}, then: {bp: 25}}
    - {id: not_a, when: {rating: 'not("A")'}, then: {bp: 10}}
- id: score
  kind: scorecard
  inputs: [income, dpd]
  base_points: 520
  characteristics:
    - input: income
      bins:
        - {when: missing, points: -15}
        - {when: "< 5000", points: 0}
        - {when: ">= 5000", points: 40}
    - input: dpd
      bins:
        - {when: "<= 30", points: 20}
        - {when: "> 30", points: -40}
- id: graded_limit
  kind: formula
  inputs: [amount, pd, rating]
  outputs:
    limit: 'amount * (0.5 if lookup("scale", "grade", pd=pd) in ("A", "B") else 0.2)'
    months: 'lookup("months", "months", rating=rating)'
  output_types:
    months: int
"""
    + classification()
    + """\
- id: overlapping
  kind: decision_table
  inputs: [dpd, flag]
  outputs:
    tier: {type: int}
  rules:
    - {id: low, when: {dpd: "<= 10"}, then: {tier: 1}}
    - {id: flagged, when: {flag: "true"}, then: {tier: 2}}
- id: worst
  kind: decision_table
  hit_policy: PRIORITY
  inputs: [dpd, grade]
  outputs:
    level: {type: enum, values: [high, medium, low]}
  rules:
    - {id: by_dpd, when: {dpd: "> 30"}, then: {level: high}}
    - {id: by_grade, when: {grade: '"C"'}, then: {level: medium}}
    - {id: base, when: {dpd: "-"}, then: {level: low}}
- id: first
  kind: decision_table
  hit_policy: FIRST
  inputs: [grade, note]
  outputs:
    label: {type: string}
  rules:
    - {id: no_note, when: {note: missing}, then: {label: none}}
    - {id: a, when: {grade: '"A"'}, then: {label: top}}
    - {id: rest, when: {grade: "-"}, then: {label: other}}
"""
    + PROVISION
    + """\
- id: shifted
  kind: formula
  inputs: [dpd, balance]
  outputs:
    provision: round(balance * lookup("classification", "rate", dpd=dpd + 30), 2)
- id: back
  kind: formula
  inputs: [dpd, balance]
  outputs:
    provision: round(balance * lookup("classification", "rate", dpd=dpd - 30), 2)
- id: ratio
  kind: formula
  inputs: [x, y]
  outputs:
    q: x / y
    days: round(x, 0)
  output_types:
    days: int
""",
    """\
dpd: {type: int, min: 0}
balance: {type: money, min: 0}
grade: {type: enum, values: [A, B, C]}
flag: {type: bool, default: false}
note: {type: string, nullable: true}
x: {type: decimal}
y: {type: decimal}
pd: {type: decimal, min: 0, max: 1}
rating: {type: enum, values: [A, B, C, D, E]}
amount: {type: money, min: 0}
overdraft: {type: bool, default: false}
income: {type: decimal, nullable: true}
""",
    id="fast",
)
RULES = RuleSet(read_document(SMALL))


class SlowSpy:
    """Counts calls of a rule set's reference path."""

    def __init__(self, rules: RuleSet) -> None:
        self.calls: list[str] = []
        self.rules = rules
        self.original = rules._evaluate

    def __enter__(self) -> SlowSpy:
        def spy(block: str, inputs: Mapping[str, Any], trace: bool) -> Decision:
            self.calls.append(block)
            return self.original(block, inputs, trace)

        self.rules._evaluate = spy  # type: ignore[method-assign, assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.rules._evaluate


def outcome(fn: Any, *args: Any) -> tuple[str, Any]:
    try:
        return ("ok", fn(*args))
    except (PolicyInputError, PolicyEvaluationError) as e:
        return (type(e).__name__, str(e))


def both(rules: RuleSet, block: str, inputs: Mapping[str, Any]) -> tuple[Any, Any]:
    fast = outcome(rules.evaluate, block, inputs)
    slow = outcome(rules._evaluate, block, inputs, False)
    return fast, slow


# inputs for any block --------------------------------------------------------------------
def _bounds(spec: m.InputSpec, lo: int, hi: int) -> tuple[int, int]:
    low = lo if spec.min is None else max(lo, int(spec.min))
    high = hi if spec.max is None else min(hi, int(spec.max))
    return low, max(low, high)


def valid(spec: m.InputSpec) -> st.SearchStrategy[Any]:
    """Values of the declared type, mostly within bounds, native or needing conversion."""
    t = spec.type
    if t == "int":
        low, high = _bounds(spec, -50, 1000)
        ints = st.integers(low, high)
        return st.one_of(ints, ints, ints.map(str))
    if t in ("decimal", "money"):
        low_d = spec.min if spec.min is not None else Decimal(-(10**7))
        high_d = spec.max if spec.max is not None else Decimal(10**7)
        numbers = st.decimals(low_d, high_d, places=4, allow_nan=False, allow_infinity=False)
        forms = [numbers, numbers, numbers.map(str)]
        if t == "money":
            forms.append(
                numbers.filter(lambda d: d >= 0).map(lambda d: Money.of(quantize(d, "CNY"), "CNY"))
            )
        return st.one_of(*forms)
    if t == "bool":
        return st.one_of(st.booleans(), st.sampled_from(["true", "False"]))
    if t == "enum":
        return st.sampled_from(spec.values)
    if t == "date":
        return st.one_of(st.dates(), st.dates().map(date.isoformat))
    return st.text(max_size=5)


INVALID: st.SearchStrategy[Any] = st.sampled_from(
    [
        None,
        1.5,
        "not a value",
        [],
        True,
        Decimal("NaN"),
        Decimal("Infinity"),
        -1,
        10**9,
        Decimal("-0.5"),
        datetime(2024, 1, 1, 12, 0),
    ]
)


@st.composite
def block_inputs(draw: st.DrawFn, rules: RuleSet, block_id: str) -> dict[str, Any]:
    """Inputs for a block: each input present and valid (usually), absent, or invalid;
    now and then an extra input."""
    inputs: dict[str, Any] = {}
    clean = draw(st.booleans())  # every input valid; optional ones may be left out
    for name in rules.blocks[block_id].inputs:
        spec = rules.document.inputs[name]
        if clean:
            optional = spec.has_default or spec.nullable
            choice = draw(st.sampled_from(["valid", "absent"])) if optional else "valid"
        else:
            choice = draw(st.sampled_from(["valid"] * 6 + ["absent", "invalid"]))
        if choice == "valid":
            inputs[name] = draw(valid(spec))
        elif choice == "invalid":
            inputs[name] = draw(INVALID)
    if not clean and draw(st.integers(0, 5)) == 0:
        inputs["not_an_input"] = 1
    return inputs


@st.composite
def cn_case(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    block = draw(st.sampled_from(BLOCKS))
    return block, draw(block_inputs(CN, block))


@st.composite
def small_case(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    block = draw(st.sampled_from(sorted(RULES.blocks)))
    return block, draw(block_inputs(RULES, block))


# the property ------------------------------------------------------------------------------
@settings(max_examples=400)
@given(cn_case())
def test_cn2023_compiled_and_reference_paths_agree(case: tuple[str, dict[str, Any]]) -> None:
    block, inputs = case
    fast, slow = both(CN, block, inputs)
    assert fast == slow
    if fast[0] == "ok":
        traced = CN.evaluate(block, inputs, trace=True)
        assert (traced.outputs, traced.matched) == (fast[1].outputs, fast[1].matched)


@settings(max_examples=300)
@given(small_case())
def test_compiled_and_reference_paths_agree(case: tuple[str, dict[str, Any]]) -> None:
    block, inputs = case
    fast, slow = both(RULES, block, inputs)
    assert fast == slow


@given(st.integers(0, 2000), st.decimals(0, 10**9, places=2))
def test_native_inputs_are_decided_without_the_reference_path(dpd: int, balance: Decimal) -> None:
    with SlowSpy(RULES) as spy:
        d = RULES.evaluate("provision", {"dpd": dpd, "balance": balance})
        c = RULES.evaluator("classification")({"dpd": dpd})
        RULES.evaluate("worst", {"dpd": dpd, "grade": "C"})
    assert spy.calls == []
    assert d == RULES._evaluate("provision", {"dpd": dpd, "balance": balance}, False)
    assert c == RULES._evaluate("classification", {"dpd": dpd}, False)


def test_every_kind_of_block_decides_typical_inputs_without_the_reference_path() -> None:
    cases: dict[str, dict[str, Any]] = {
        "scale": {"pd": Decimal("0.0001")},
        "months": {"rating": "D"},
        "bucket": {"dpd": 45},
        "authority": {"amount": Decimal(500000), "rating": "C"},
        "warnings": {"dpd": 100, "overdraft": True, "rating": "E"},
        "addons": {"rating": "E", "amount": Decimal(10**7)},
        "score": {"income": None, "dpd": 3},
        "graded_limit": {"amount": Decimal(1000), "pd": Decimal("0.0001"), "rating": "B"},
    }
    with SlowSpy(RULES) as spy:
        decisions = {block: RULES.evaluate(block, inputs) for block, inputs in cases.items()}
    assert spy.calls == []
    for block, inputs in cases.items():
        assert decisions[block] == RULES._evaluate(block, inputs, False)
    assert decisions["warnings"].matched == ("ko", "late", "od", "weak")
    assert decisions["warnings"]["severity"] == "red"
    assert decisions["graded_limit"].outputs == {"limit": Decimal("500.0"), "months": 12}


def test_fired_triggers_are_fresh_records_for_each_decision() -> None:
    inputs = {"dpd": 100, "overdraft": False, "rating": "A"}
    first = RULES.evaluate("warnings", inputs)
    first["fired"][0]["id"] = "changed"
    assert RULES.evaluate("warnings", inputs)["fired"][0]["id"] == "ko"


def test_the_cn2023_blocks_decide_typical_inputs_without_the_reference_path() -> None:
    cases: dict[str, dict[str, Any]] = {
        "classification": {"dpd": 95},
        "card_classification": {"dpd": 95},
        "early_warning": {"dpd": 10},
        "provisioning_mof2012": {"category": "doubtful", "balance": Decimal("1000.00")},
        "master_scale": {"pd": Decimal("0.004")},
        "approval_authority": {"amount": Decimal("8000000"), "grade": "BB"},
        "review_frequency": {"grade": "B"},
    }
    with SlowSpy(CN) as spy:
        decisions = {block: CN.evaluate(block, inputs) for block, inputs in cases.items()}
    assert spy.calls == []
    for block, inputs in cases.items():
        assert decisions[block] == CN._evaluate(block, inputs, False)


# inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({}, "block classification: missing input dpd"),
        ({"dpd": 1, "dpt": 2}, "block classification: unexpected input(s) dpt; it takes dpd"),
        ({"dpd": 1.0}, "block classification: input dpd: 1.0 is a float"),
        ({"dpd": -1}, "block classification: input dpd: -1 is below the minimum 0"),
        ({"dpd": True}, "block classification: input dpd: True is not a valid int"),
        ({"dpd": None}, "block classification: input dpd may not be missing"),
        ({"dpd": "x"}, "block classification: input dpd: 'x' is not a valid int"),
    ],
)
def test_input_errors_name_the_input_and_the_block(inputs: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyInputError) as raised:
        RULES.evaluate("classification", inputs)
    assert str(raised.value).startswith(message)
    with pytest.raises(PolicyInputError) as raised_again:
        RULES.evaluator("classification")(inputs)
    assert str(raised_again.value) == str(raised.value)


def test_a_lookup_argument_out_of_its_bounds_fails_as_on_the_reference_path() -> None:
    with pytest.raises(PolicyInputError, match="block classification: input dpd: -30 is below"):
        RULES.evaluate("back", {"dpd": 0, "balance": Decimal(5)})
    assert RULES.evaluate("back", {"dpd": 120, "balance": Decimal(5)})["provision"] == Decimal(
        "0.15"
    )
    fast, slow = both(RULES, "provision", {"dpd": 0, "balance": Decimal(-1)})
    assert fast == slow and fast[0] == "PolicyInputError"


def test_converted_inputs_give_the_same_decision() -> None:
    native = RULES.evaluate("provision", {"dpd": 95, "balance": Decimal("1000.10")})
    converted = RULES.evaluate("provision", {"dpd": "95", "balance": Money.of("1000.10", "CNY")})
    assert converted == native and native["provision"] == Decimal("250.02")


class ReadOnly(Mapping[str, Any]):
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_any_mapping_is_accepted_and_never_changed() -> None:
    expected = RULES.evaluate("first", {"grade": "A", "note": "n"})
    assert RULES.evaluate("first", MappingProxyType({"grade": "A", "note": "n"})) == expected
    assert RULES.evaluate("first", ReadOnly({"grade": "A", "note": "n"})) == expected
    given_inputs: defaultdict[str, Any] = defaultdict(lambda: "B", {"grade": "A"})
    assert RULES.evaluate("first", given_inputs).matched == ("no_note",)  # not "B"
    assert dict(given_inputs) == {"grade": "A"}


def test_absent_optional_inputs_take_their_default_or_none() -> None:
    with SlowSpy(RULES) as spy:
        assert RULES.evaluate("first", {"grade": "A"}).matched == ("no_note",)  # None
        assert RULES.evaluate("overlapping", {"dpd": 5}).matched == ("low",)  # flag false
        assert RULES.evaluate("overlapping", {"dpd": 50, "flag": True})["tier"] == 2
    assert spy.calls == []


# what the block decides ----------------------------------------------------------------------
def test_unique_overlap_fails_as_on_the_reference_path() -> None:
    fast, slow = both(RULES, "overlapping", {"dpd": 5, "flag": True})
    assert fast == slow
    assert fast == (
        "PolicyEvaluationError",
        "block overlapping: rules low and flagged all match (hit policy UNIQUE)",
    )
    fast, slow = both(RULES, "overlapping", {"dpd": 50})
    assert fast == slow and fast[0] == "PolicyEvaluationError"


def test_priority_reports_every_matching_row_and_the_worst_outputs() -> None:
    d = RULES.evaluate("worst", {"dpd": 40, "grade": "C"})
    assert d.matched == ("by_dpd", "by_grade", "base") and d["level"] == "high"
    assert RULES.evaluate("worst", {"dpd": 1, "grade": "C"}).matched == ("by_grade", "base")
    assert RULES.evaluate("worst", {"dpd": 1, "grade": "A"}).outputs == {"level": "low"}


def test_formula_errors_and_int_outputs_match_the_reference_path() -> None:
    fast, slow = both(RULES, "ratio", {"x": Decimal(1), "y": Decimal(0)})
    assert fast == slow and "division by zero" in fast[1]
    d = RULES.evaluate("ratio", {"x": Decimal("7.5"), "y": Decimal(3)})
    assert d.outputs == {"q": Decimal("2.5"), "days": 8} and type(d["days"]) is int


def test_formulas_compute_in_34_digits_whatever_the_callers_context() -> None:
    x, y = Decimal(1), Decimal(3)
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        q = RULES.evaluate("ratio", {"x": x, "y": y})["q"]
        assert decimal.getcontext() is ctx and ctx.prec == 5
    assert q == Decimal("0." + "3" * 34)


def test_a_new_thread_gets_the_same_results() -> None:
    results: list[Decision] = []
    inputs = {"dpd": 95, "balance": Decimal("10.00")}
    worker = threading.Thread(target=lambda: results.append(RULES.evaluate("provision", inputs)))
    worker.start()
    worker.join()
    assert results == [RULES.evaluate("provision", inputs)]


def test_trace_on_request_is_complete() -> None:
    d = RULES.evaluate("provision", {"dpd": 95, "balance": Decimal("1000")}, trace=True)
    assert d.trace is not None
    assert d.trace.inputs == {"dpd": 95, "balance": Decimal("1000")}
    assert [s.get("lookup") or s.get("let") or s.get("output") for s in d.trace.steps] == [
        "classification",
        "rate",
        "provision",
    ]
    assert d.outputs == RULES.evaluate("provision", {"dpd": 95, "balance": Decimal("1000")}).outputs


# the Decision -----------------------------------------------------------------------------
def test_decisions_cannot_be_changed() -> None:
    d = RULES.evaluate("classification", {"dpd": 95})
    with pytest.raises(AttributeError):
        d.outputs = {}  # type: ignore[misc]
    with pytest.raises(AttributeError):
        d.matched = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        d.outputs["category"] = "normal"  # type: ignore[index]
    assert RULES.evaluate("classification", {"dpd": 95})["category"] == "substandard"
    mine = dict(d.outputs)
    mine["category"] = "loss"
    assert d["category"] == "substandard"


def test_a_decision_built_from_a_dict_keeps_its_own_copy() -> None:
    outputs = {"a": 1}
    d = Decision("b", outputs, ("r",), "ref")
    viewed = Decision("b", MappingProxyType(outputs), ("r",), "ref")
    outputs["a"] = 2
    assert d["a"] == 1 and d.trace is None
    assert viewed["a"] == 1
    assert d == Decision("b", {"a": 1}, ("r",), "ref")
    assert d != Decision("b", {"a": 1}, ("s",), "ref")
    assert "outputs={'a': 1}" in repr(d)


def test_decisions_pickle_and_copy() -> None:
    for d in (
        RULES.evaluate("classification", {"dpd": 95}),
        RULES.evaluate("provision", {"dpd": 95, "balance": Decimal("1000")}, trace=True),
    ):
        assert pickle.loads(pickle.dumps(d)) == d
        assert copy.deepcopy(d) == d and copy.copy(d) == d


def test_unknown_block() -> None:
    with pytest.raises(PolicyInputError, match="has no block 'nope'"):
        RULES.evaluator("nope")
    with pytest.raises(PolicyInputError, match="has no block 'nope'"):
        RULES.evaluate("nope", {})


# the disjointness proof that lets UNIQUE tables stop at the first match --------------------
CELLS = st.sampled_from(
    [
        "-",
        "missing",
        "< 10",
        "<= 10",
        "> 10",
        ">= 10",
        "= 10",
        "[0..10)",
        "[10..20]",
        "(10..20)",
        "(20..30]",
        "not([0..10))",
        "[5..15)",
    ]
)


@given(st.lists(CELLS, min_size=2, max_size=5))
def test_tables_proved_disjoint_never_match_twice(cells: list[str]) -> None:
    parsed = [parse_cell(c, "int") for c in cells]
    rules = tuple(
        m.Rule(f"r{i}", (("x", c),), (("y", i),), RULES.document.loc) for i, c in enumerate(parsed)
    )
    table = m.DecisionTable(
        id="t",
        kind="decision_table",
        inputs=("x",),
        outputs=(),
        loc=RULES.document.loc,
        hit_policy="UNIQUE",
        aggregate=None,
        rules=rules,
    )
    if _rules_disjoint(table):
        for value in [None, *range(-2, 33)]:
            assert sum(c.matches(value) for c in parsed) <= 1


# batches -------------------------------------------------------------------------------------
@given(st.lists(st.tuples(st.integers(0, 2000), st.decimals(0, 10**9, places=2)), max_size=20))
def test_evaluate_many_is_evaluate_over_each_record(rows: list[tuple[int, Decimal]]) -> None:
    batches: dict[str, list[dict[str, Any]]] = {
        "provision": [{"dpd": dpd, "balance": balance} for dpd, balance in rows],
        "classification": [{"dpd": dpd} for dpd, _balance in rows],
        "ratio": [{"x": balance, "y": Decimal(dpd + 1)} for dpd, balance in rows],
    }
    for block, records in batches.items():
        assert RULES.evaluate_many(block, records) == [RULES.evaluate(block, r) for r in records]


def test_evaluate_many_restores_the_callers_context_and_reports_the_failing_record() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        with pytest.raises(PolicyInputError, match="block provision: missing input balance"):
            RULES.evaluate_many("provision", [{"dpd": 1, "balance": Decimal(1)}, {"dpd": 2}])
        assert decimal.getcontext() is ctx and ctx.prec == 5
        q = RULES.evaluate_many("ratio", [{"x": Decimal(1), "y": Decimal(3)}])[0]["q"]
        assert decimal.getcontext() is ctx
    assert q == Decimal("0." + "3" * 34)
    assert RULES.evaluate_many("classification", []) == []


def test_evaluate_many_reads_the_records_in_the_callers_context() -> None:
    with decimal.localcontext() as ctx:
        ctx.prec = 5
        records = ({"x": Decimal(1) / Decimal(3), "y": Decimal(1)} for _ in range(2))
        decisions = RULES.evaluate_many("ratio", records)
    assert [d["q"] for d in decisions] == [Decimal("0.33333")] * 2
