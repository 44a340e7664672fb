"""Policy engine benchmarks: P1 small table and formula, P2 large table, P3 load + check.

P1 measures `RuleSet.evaluate` (matched rule ids are always returned) against hand-written
Python making the same decision from the same input mapping, in the same run, and — when the
optional `bench` extra is installed — against GoRules zen-engine and rule-engine on the same
decision. P2 measures a 3,000-row table with the match on the first, middle and last row.
P3 times load + compile + check of a 100-row table and the check of a 3,000-row table.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from importlib import resources
from typing import Any

from bench._report import write_section
from creditmgmt.domain import Money
from creditmgmt.policies import Decision, RuleSet, load_ruleset

CENT = Decimal("0.01")
HEADER = """\
id: bench
version: 1.0.0
effective_from: 2026-01-01
status: draft
owner: bench
"""

# P1: DPD -> five categories with a Decimal provision rate; a limit formula -----------------
CATEGORIES = [
    ("[0..30]", "normal", "0.01"),
    ("(30..90]", "special_mention", "0.03"),
    ("(90..180]", "substandard", "0.25"),
    ("(180..360]", "doubtful", "0.50"),
    ("> 360", "loss", "1.00"),
]
SMALL = (
    HEADER
    + """\
inputs:
  dpd: {type: int, min: 0}
  balance: {type: money}
  revenue: {type: money}
  ebitda: {type: money}
  collateral: {type: money}
blocks:
  - id: classification
    kind: decision_table
    hit_policy: UNIQUE
    inputs: [dpd]
    outputs:
      category: {type: enum, values: [normal, special_mention, substandard, doubtful, loss]}
      rate: {type: decimal}
    rules:
"""
    + "".join(
        f'      - {{id: r{i + 1}, when: {{dpd: "{cell}"}}, then: {{category: {cat}, rate: {rate}}}}}\n'
        for i, (cell, cat, rate) in enumerate(CATEGORIES)
    )
    + """\
  - id: limit
    kind: formula
    inputs: [revenue, ebitda, collateral]
    outputs:
      limit: round(min(revenue * 0.3, ebitda * 4, collateral * 0.7), 2)
  - id: provision
    kind: formula
    inputs: [dpd, balance]
    let:
      rate: lookup("classification", "rate", dpd=dpd)
    outputs:
      provision: round(balance * rate, 2)
  - id: category_provision
    kind: formula
    inputs: [dpd, balance]
    let:
      rate: lookup("classification", "rate", dpd=dpd)
    outputs:
      category: lookup("classification", "category", dpd=dpd)
      provision: round(balance * rate, 2)
    output_types:
      category: string
"""
)
RATES = {cat: Decimal(rate) for _c, cat, rate in CATEGORIES}


def hand_classify(v: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The same decision as the `classification` table, written by hand: the outputs and the
    id of the deciding row, as the engine returns them."""
    dpd = v["dpd"]
    if dpd <= 30:
        return {"category": "normal", "rate": RATES["normal"]}, "r1"
    if dpd <= 90:
        return {"category": "special_mention", "rate": RATES["special_mention"]}, "r2"
    if dpd <= 180:
        return {"category": "substandard", "rate": RATES["substandard"]}, "r3"
    if dpd <= 360:
        return {"category": "doubtful", "rate": RATES["doubtful"]}, "r4"
    return {"category": "loss", "rate": RATES["loss"]}, "r5"


K, M, LTV = Decimal("0.3"), Decimal(4), Decimal("0.7")


def hand_limit(v: dict[str, Any]) -> dict[str, Decimal]:
    """The limit formula by hand (constants made once, as careful code would)."""
    return {"limit": min(v["revenue"] * K, v["ebitda"] * M, v["collateral"] * LTV).quantize(CENT)}


def hand_provision(v: dict[str, Any]) -> dict[str, Decimal]:
    outputs, _rule = hand_classify(v)
    return {"provision": (v["balance"] * outputs["rate"]).quantize(CENT)}


def hand_provision_money(v: dict[str, Any]) -> dict[str, Money]:
    """The same provision written with the domain's `Money` (currency-checked, rounded to the
    minor unit)."""
    outputs, _rule = hand_classify(v)
    return {"provision": Money.of(v["balance"], "CNY") * outputs["rate"]}


def hand_category_provision(v: dict[str, Any]) -> dict[str, Any]:
    """The decision PERFORMANCE.md names for P1: DPD → 5 categories + Decimal provision."""
    outputs, _rule = hand_classify(v)
    return {
        "category": outputs["category"],
        "provision": (v["balance"] * outputs["rate"]).quantize(CENT),
    }


def hand_category_provision_money(v: dict[str, Any]) -> dict[str, Any]:
    """The same with the domain's `Money` for the amount."""
    outputs, _rule = hand_classify(v)
    return {
        "category": outputs["category"],
        "provision": Money.of(v["balance"], "CNY") * outputs["rate"],
    }


def per_record(fn: Callable[[Any], object], records: Sequence[Any], repeat: int = 7) -> float:
    """Best-of-`repeat` seconds per record for `fn` over `records`."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for r in records:
            fn(r)
        best = min(best, time.perf_counter() - t0)
    return best / len(records)


def per_batch(fn: Callable[[Any], object], batch: Sequence[Any], repeat: int = 5) -> float:
    """Best-of-`repeat` seconds per record for one call of `fn` on the whole `batch`."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(batch)
        best = min(best, time.perf_counter() - t0)
    return best / len(batch)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.2f} µs"


def times(x: float) -> str:
    return f"{x:.1f}×" if x < 10 else f"{x:.0f}×"


# optional competitors -----------------------------------------------------------------------
def zen_table_jdm(rows: list[tuple[str, str, str]], field: str = "dpd") -> dict[str, Any]:
    rules = [
        {"_id": f"r{i + 1}", "i1": cell, "o1": f"'{cat}'", "o2": rate}
        for i, (cell, cat, rate) in enumerate(rows)
    ]
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
            {
                "id": "dt",
                "type": "decisionTableNode",
                "name": "classification",
                "position": {"x": 0, "y": 0},
                "content": {
                    "hitPolicy": "first",
                    "inputs": [{"id": "i1", "name": field, "field": field}],
                    "outputs": [
                        {"id": "o1", "name": "category", "field": "category"},
                        {"id": "o2", "name": "rate", "field": "rate"},
                    ],
                    "rules": rules,
                },
            },
            {"id": "out", "type": "outputNode", "name": "response", "position": {"x": 0, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "dt", "type": "edge"},
            {"id": "e2", "sourceId": "dt", "targetId": "out", "type": "edge"},
        ],
    }


def zen_limit_jdm() -> dict[str, Any]:
    """The limit formula as a zen decision: one expression node between input and output —
    the same form (a decision graph) as the table, so both sides return a decision."""
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
            {
                "id": "ex",
                "type": "expressionNode",
                "name": "limit",
                "position": {"x": 0, "y": 0},
                "content": {
                    "expressions": [{"id": "e1", "key": "limit", "value": ZEN_LIMIT}],
                },
            },
            {"id": "out", "type": "outputNode", "name": "response", "position": {"x": 0, "y": 0}},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "ex", "type": "edge"},
            {"id": "e2", "sourceId": "ex", "targetId": "out", "type": "edge"},
        ],
    }


ZEN_LIMIT = "round(min([revenue * 0.3, ebitda * 4, collateral * 0.7]), 2)"


def competitors(
    dpd_records: list[dict[str, Any]],
    limit_records: list[dict[str, Any]],
    limits: list[Decimal],
) -> dict[str, dict[str, float] | str]:
    """Per-record times of zen-engine and rule-engine on the P1 decisions (or why not), after
    checking that they compute what we compute (`limits`: our limit for each record)."""
    found: dict[str, dict[str, float] | str] = {}
    try:
        import zen
    except ImportError:
        found["zen-engine"] = "not installed (pip install 'creditmgmt[bench]')"
    else:
        engine = zen.ZenEngine(
            {
                "loader": {
                    "type": "static",
                    "content": {"table": zen_table_jdm(CATEGORIES), "limit": zen_limit_jdm()},
                }
            }
        )
        # one decision per call: from an engine without a loader (its quicker per-call path)
        table = zen.ZenEngine().create_decision(json.dumps(zen_table_jdm(CATEGORIES)))
        for r in dpd_records[:6]:
            got = table.evaluate(r)["result"]
            outputs, _rule = hand_classify(r)
            assert got == {"category": outputs["category"], "rate": float(outputs["rate"])}
        decision = zen.ZenEngine().create_decision(json.dumps(zen_limit_jdm()))
        expression = zen.compile_expression(ZEN_LIMIT)
        # zen's Python binding takes and returns JSON numbers (floats; Decimal and numeric
        # strings are refused): it computes in decimal inside, but amounts cross the boundary
        # as binary floats. Hand it floats, its own fastest path, and check the results.
        zen_limit = [{k: float(v) for k, v in r.items()} for r in limit_records]
        for r, ours in zip(zen_limit, limits, strict=True):
            assert decision.evaluate(r)["result"]["limit"] == float(ours)
            assert expression.evaluate(r) == float(ours)
        # its fastest path is the batch call (one crossing into Rust for all records)
        table_batch: list[Any] = [{"key": "table", "context": r} for r in dpd_records]
        limit_batch: list[Any] = [{"key": "limit", "context": r} for r in zen_limit]
        answers = engine.evaluate_batch(limit_batch)
        for answer, ours in zip(answers, limits, strict=True):
            assert answer["data"]["result"]["limit"] == float(ours)
        found["zen-engine"] = {
            "table": per_batch(engine.evaluate_batch, table_batch),
            "formula": per_batch(engine.evaluate_batch, limit_batch),
            "table_single": per_record(table.evaluate, dpd_records, repeat=3),
            "table_trace": per_record(
                lambda r: table.evaluate(r, {"trace": True}), dpd_records, repeat=3
            ),
            "formula_single": per_record(decision.evaluate, zen_limit, repeat=3),
            "expression": per_record(expression.evaluate, zen_limit, repeat=3),
        }
    try:
        import rule_engine
    except ImportError:
        found["rule-engine"] = "not installed (pip install 'creditmgmt[bench]')"
    else:
        conditions = [
            (rule_engine.Rule(c), cat, Decimal(rate))
            for c, cat, rate in [
                ("dpd >= 0 and dpd <= 30", "normal", "0.01"),
                ("dpd > 30 and dpd <= 90", "special_mention", "0.03"),
                ("dpd > 90 and dpd <= 180", "substandard", "0.25"),
                ("dpd > 180 and dpd <= 360", "doubtful", "0.50"),
                ("dpd > 360", "loss", "1.00"),
            ]
        ]

        def re_table(r: dict[str, Any]) -> tuple[str, Decimal]:
            for rule, cat, rate in conditions:
                if rule.matches(r):
                    return cat, rate
            raise LookupError(r)

        re_formula = rule_engine.Rule(
            "$min([revenue * 0.3, ebitda * 4, collateral * 0.7])", context=None
        )
        for r in dpd_records[:6]:
            outputs, _rule = hand_classify(r)
            assert re_table(r) == (outputs["category"], outputs["rate"])
        for r, ours in zip(limit_records[:50], limits, strict=False):
            # rule-engine has no rounding function: the same minimum, unrounded
            assert re_formula.evaluate(r).quantize(CENT) == ours
        found["rule-engine"] = {
            "table": per_record(re_table, dpd_records, repeat=3),
            "formula": per_record(re_formula.evaluate, limit_records, repeat=3),
        }
    return found


# P1 -----------------------------------------------------------------------------------------
def via_evaluate(rules: RuleSet, block: str) -> Callable[[dict[str, Any]], Decision]:
    """`rules.evaluate(block, r)` as callers write it."""
    return lambda r: rules.evaluate(block, r)


def p1() -> tuple[list[str], list[str]]:
    rules = load_ruleset(SMALL)
    dpd_records: list[dict[str, Any]] = [{"dpd": d} for d in (0, 15, 45, 95, 200, 400) * 200]
    limit_records: list[dict[str, Any]] = [
        {
            "revenue": Decimal(1_000_000 + 37 * i),
            "ebitda": Decimal("150000.50") + i,
            "collateral": Decimal(400_000 - 11 * i),
        }
        for i in range(1200)
    ]
    prov_records: list[dict[str, Any]] = [
        {"dpd": d, "balance": Decimal("125000.00") + i}
        for i, d in enumerate((0, 45, 95, 400) * 300)
    ]
    # the engine and the hand-written code agree before anything is timed: same input form
    # (a dict of native values), same outputs, same deciding row
    for r in dpd_records[:6]:
        d = rules.evaluate("classification", r)
        outputs, rule_id = hand_classify(r)
        assert d.outputs == outputs and d.matched == (rule_id,)
    for r in limit_records[:50]:
        assert rules.evaluate("limit", r).outputs == hand_limit(r)
    for r in prov_records[:8]:
        assert rules.evaluate("provision", r).outputs == hand_provision(r)
        both = rules.evaluate("category_provision", r)
        assert both.outputs == hand_category_provision(r)
        money = hand_category_provision_money(r)
        assert Money.of(both["provision"], "CNY") == money["provision"]
        assert Money.of(both["provision"], "CNY") == hand_provision_money(r)["provision"]
    limits = [rules.evaluate("limit", r)["limit"] for r in limit_records]

    cases: list[tuple[str, str | None, str, Callable[[Any], object], list[dict[str, Any]]]] = [
        (
            "small table: DPD → 5 categories + Decimal rate (UNIQUE, 5 rows; ints in)",
            "table",
            "classification",
            hand_classify,
            dpd_records,
        ),
        (
            "formula: limit = round(min(revenue×0.3, EBITDA×4, collateral×0.7), 2)",
            "formula",
            "limit",
            hand_limit,
            limit_records,
        ),
        (
            "formula with lookup: provision = round(balance × table rate, 2)",
            None,
            "provision",
            hand_provision,
            prov_records,
        ),
        (
            "**the design's P1 decision**: DPD → 5 categories + Decimal provision",
            None,
            "category_provision",
            hand_category_provision,
            prov_records,
        ),
        (
            "the same, hand-written with the domain's `Money` for the provision",
            None,
            "category_provision",
            hand_category_provision_money,
            prov_records,
        ),
    ]
    others = competitors(dpd_records, limit_records, limits)
    verdicts: list[tuple[str, float, str | None, float]] = []
    lines = [
        "| decision | `evaluate` | `evaluator` | `evaluate_many` | hand-written | ratio (P1 ≤ 3×) "
        "| zen-engine | zen ÷ ours (≥ 20×) | rule-engine | rule-engine ÷ ours (≥ 50×) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for title, key, block, hand, records in cases:
        ours = per_record(via_evaluate(rules, block), records)
        compiled = per_record(rules.evaluator(block), records)
        many = per_batch(functools.partial(rules.evaluate_many, block), records)
        base = per_record(hand, records)
        row = [title, us(ours), us(compiled), us(many), us(base), f"**{times(ours / base)}**"]
        verdicts.append((title, ours / base, key, ours))
        for name in ("zen-engine", "rule-engine"):
            got = others[name]
            if isinstance(got, dict) and key in got:
                row += [us(got[key]), f"**{times(got[key] / ours)}**"]
            else:
                row += ["–", "–"]
        lines.append("| " + " | ".join(row) + " |")
        print(
            f"  P1 {title}: evaluate {us(ours)}, evaluator {us(compiled)}, "
            f"evaluate_many {us(many)}, hand {us(base)}, "
            f"ratio {ours / base:.2f}"
        )
    strict = [v for v in verdicts if "Money" not in v[0]]
    worst = max(v[1] for v in strict)
    notes = [
        "- `evaluate` is timed as callers write it, `lambda r: rules.evaluate(block, r)`; "
        "`evaluator` is the block's compiled callable from `rules.evaluator(block)`, called "
        "directly like the hand-written function; `evaluate_many` takes the 1,200 records in "
        "one call and enters the exact decimal context once for all of them (a formula "
        "otherwise switches to it and back on every call). All return a full "
        "`Decision` (outputs, "
        "matched rule ids, `ruleset_ref`) after checking every input's name, type and bounds; "
        "the hand-written code checks nothing and returns bare outputs.",
        f"- P1 ratio of `evaluate` to bare hand-written Python: "
        f"{', '.join(times(v[1]) for v in strict)} — "
        + ("target ≤ 3× **met**." if worst <= 3 else "target ≤ 3× **missed**."),
        f"- Against hand-written code using the domain's `Money` for the provision (it also "
        f"checks the currency and rounds to the fen): {times(verdicts[-1][1])}. "
        f"PERFORMANCE.md lists 4.3 µs for this hand-written decision (DPD → 5 categories + "
        f"Decimal provision); here it takes {us(verdicts[-2][3] / verdicts[-2][1])} with "
        f"bare `Decimal` and {us(verdicts[-1][3] / verdicts[-1][1])} with `Money`, and the "
        f"engine {us(verdicts[-2][3])}.",
    ]
    summary = [f"≤ 3× hand-written {'met' if worst <= 3 else 'missed'} on every decision"]
    for name, want in (("zen-engine", 20), ("rule-engine", 50)):
        got = others[name]
        if isinstance(got, dict):
            speedups = {
                k: got[k] / ours for _t, _r, k, ours in verdicts if k is not None and k in got
            }
            met = [k for k, x in speedups.items() if x >= want]
            missed = [k for k, x in speedups.items() if x < want]
            notes.append(
                f"- {name} time ÷ ours (table, formula): "
                f"{', '.join(times(x) for x in speedups.values())} — target ≥ {want}× "
                + ("**met**." if not missed else "**missed**.")
            )
            summary.append(
                f"≥ {want}× faster than {name} "
                + (f"met for the {' and '.join(met)}" if met else "")
                + (", " if met and missed else "")
                + (f"missed for the {' and '.join(missed)}" if missed else "")
            )
    notes[:0] = [f"**P1 in this run:** {'; '.join(summary)}.", ""]
    hand_limit_time = per_record(hand_limit, limit_records)
    for name, got in others.items():
        if isinstance(got, str):
            notes.append(f"- {name}: {got}; comparison skipped.")
        elif name == "zen-engine":
            notes.append(
                f"- zen-engine: decisions built as JDM graphs (a FIRST decision table; one "
                f"expression node for the formula), timed on its fastest path, "
                f"`ZenEngine.evaluate_batch` over all records, trace off (it reports no rule "
                f"id without trace). One `ZenDecision.evaluate` call per record costs "
                f"{us(got['table_single'])} (table; {us(got['table_trace'])} with trace) and "
                f"{us(got['formula_single'])} (formula). Its bare compiled expression, outside "
                f"any decision, takes {us(got['expression'])} — hand-written Python takes "
                f"{us(hand_limit_time)} on the same formula, so no Python evaluator can be "
                f"20× faster than that; nor can one be 20× faster than the batch path "
                f"({us(got['formula'] / 20)} would be needed). zen computes in decimal "
                f"inside, but its Python "
                f"binding takes and returns floats (it refuses Decimal and numeric strings): "
                f"checked equal to our exact results as floats on every record here; ours "
                f"stay exact `Decimal`s, which the project requires."
            )
        else:
            notes.append(
                "- rule-engine: five `Rule.matches` conditions tried in order for the table "
                "(checked against ours), one `Rule.evaluate` for the formula (it has no "
                f"rounding function: the same minimum, unrounded). Hand-written Python is "
                f"{times(got['formula'] / hand_limit_time)} faster than rule-engine on this "
                "formula, so a 50× margin would mean beating hand-written code."
            )
    notes.append(
        "- How: each block is compiled on first use into one generated Python function (from "
        "the parsed model; constants by reference, never user text): inline input fetch and "
        "type/bound checks (`type(x) is int`, with `coerce` for inputs that need "
        "conversion), the table's conditions with a `Decision` built once per row (UNIQUE "
        "tables proved disjoint stop at the first match; matrices, ladders and master scales "
        "likewise return a decision built once per outcome), formulas and trigger sets "
        "inlined from their validated trees under one switch to the exact 34-digit context, "
        "lookups as direct calls of the target's compiled function. Anything unusual (missing, extra or invalid "
        "input, no match, arithmetic error, a mapping that is not a `dict`) goes to the "
        "reference path, which raises the exact error; `trace=True` always takes it."
    )
    return lines, notes


# P2 -----------------------------------------------------------------------------------------
REGIONS = ("east", "north", "west")
BANDS = 1000


def big_table_text(rows_per_region: int = BANDS, regions: Sequence[str] = REGIONS) -> str:
    """A UNIQUE pricing table: region × score bands of 10 points, one row per pair."""
    rules = []
    for ri, region in enumerate(regions):
        for b in range(rows_per_region):
            rid = ri * rows_per_region + b + 1
            rate = Decimal("0.0300") + Decimal(b) / 100000 + Decimal(ri) / 1000
            rules.append(
                f"      - {{id: r{rid}, when: {{region: '\"{region}\"', "
                f'score: "[{b * 10}..{b * 10 + 10})"}}, then: {{rate: {rate}}}}}\n'
            )
    return (
        HEADER
        + f"""\
inputs:
  region: {{type: enum, values: [{", ".join(regions)}]}}
  score: {{type: int, min: 0, max: {rows_per_region * 10 - 1}}}
blocks:
  - id: pricing
    kind: decision_table
    inputs: [region, score]
    outputs:
      rate: {{type: decimal}}
    rules:
"""
        + "".join(rules)
    )


def p2() -> list[str]:
    text = big_table_text()
    rules = load_ruleset(text)
    positions = {
        "first row": {"region": "east", "score": 5},
        "middle row": {"region": "north", "score": 5005},
        "last row": {"region": "west", "score": 9995},
    }
    expected = {"first row": "r1", "middle row": "r1501", "last row": "r3000"}
    lines = ["| match position | creditmgmt per record | target |", "|---|---|---|"]
    worst = 0.0
    for where, inputs in positions.items():
        assert rules.evaluate("pricing", inputs).matched == (expected[where],)
        t = per_record(lambda r: rules.evaluate("pricing", r), [inputs] * 1000, repeat=15)
        worst = max(worst, t)
        lines.append(f"| {where} ({expected[where]}) | {us(t)} | ≤ 5 µs |")
        print(f"  P2 3,000 rows, {where}: {us(t)}")
    lines.append(f"| **worst** | **{us(worst)}** | {'met' if worst <= 5e-6 else 'MISSED'} |")
    return lines


# P3 -----------------------------------------------------------------------------------------
def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def p3() -> list[str]:
    small_text = big_table_text(rows_per_region=50, regions=REGIONS[:2])
    small_rows = 100

    def load_check_compile() -> RuleSet:
        rules = load_ruleset(small_text)
        rules.check()
        rules.evaluator("pricing")  # generated on first use: counted as compile here
        return rules

    t_small = _best(load_check_compile, repeat=15)
    big_text = big_table_text()
    big = load_ruleset(big_text)
    t_big_load = _best(lambda: load_ruleset(big_text), repeat=2)
    t_big_check = _best(big.check, repeat=2)
    findings = big.check()

    cn_text = resources.files("creditmgmt.policies.builtin").joinpath("cn-2023.yaml").read_text()
    cn = load_ruleset(cn_text)  # (builtin_ruleset keeps one instance per process)

    def compile_cn2023() -> None:
        fresh = RuleSet(cn.document)
        for block in fresh.blocks:
            fresh.evaluator(block)

    t_cn_load = _best(lambda: load_ruleset(cn_text), repeat=3)
    t_cn = _best(compile_cn2023, repeat=5)
    n_cn = len(cn.blocks)
    print(f"  P3 {small_rows}-row load+check+compile {t_small * 1e3:.2f} ms")
    print(f"  P3 3,000-row check {t_big_check:.3f} s, load+compile {t_big_load:.3f} s")
    return [
        "| what | measured | target |",
        "|---|---|---|",
        f"| load + compile + check, {small_rows}-row table | **{t_small * 1e3:.2f} ms** "
        f"| ≤ 10 ms ({'met' if t_small <= 0.010 else 'MISSED'}) |",
        f"| check, 3,000-row table ({len(findings)} finding(s)) | **{t_big_check:.3f} s** "
        f"| ≤ 1 s ({'met' if t_big_check <= 1 else 'MISSED'}) |",
        f"| load + compile (index build), 3,000-row table | {t_big_load:.3f} s | (orientation) |",
        f"| generating the evaluators of all {n_cn} blocks of cn-2023 (first use of each) "
        f"| {t_cn * 1e3:.1f} ms | (orientation; its load + check: {t_cn_load * 1e3:.1f} ms) |",
    ]


def main() -> None:
    p1_lines, notes = p1()
    p2_lines = p2()
    p3_lines = p3()
    body = "\n".join(
        [
            "P1: `RuleSet.evaluate` (matched rule ids always returned) vs hand-written Python "
            "taking the same input mapping, same run. Per record, best of several passes over "
            "inputs that hit every row.",
            "",
            *p1_lines,
            "",
            *notes,
            "",
            "P2: 3,000-row decision table (region × score band), indexed (bisect + bitsets).",
            "",
            *p2_lines,
            "",
            "P3: load, compile and check.",
            "",
            *p3_lines,
        ]
    )
    path = write_section("policies", "Policy engine (P1, P2, P3)", body)
    print(f"  written to {path}")


if __name__ == "__main__":
    main()
