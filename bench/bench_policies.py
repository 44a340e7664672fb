"""Policy engine benchmarks: P1 small table and formula, P2 large table, P3 load + check.

P1 measures `RuleSet.evaluate` (matched rule ids are always returned) against hand-written
Python making the same decision from the same input mapping, in the same run, and — when the
optional `bench` extra is installed — against GoRules zen-engine and rule-engine on the same
decision. P2 measures a 3,000-row table with the match on the first, middle and last row.
P3 times load + compile + check of a 100-row table and the check of a 3,000-row table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from bench._report import write_section
from creditmgmt.domain import Money
from creditmgmt.policies import RuleSet, load_ruleset

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


def hand_limit(v: dict[str, Any]) -> dict[str, Decimal]:
    k, m, ltv = Decimal("0.3"), Decimal(4), Decimal("0.7")
    return {"limit": min(v["revenue"] * k, v["ebitda"] * m, v["collateral"] * ltv).quantize(CENT)}


def hand_provision(v: dict[str, Any]) -> dict[str, Decimal]:
    outputs, _rule = hand_classify(v)
    return {"provision": (v["balance"] * outputs["rate"]).quantize(CENT)}


def hand_provision_money(v: dict[str, Any]) -> dict[str, Money]:
    """The same provision written with the domain's `Money` (currency-checked, rounded to the
    minor unit) — the form of the design's 4.3 µs baseline."""
    outputs, _rule = hand_classify(v)
    return {"provision": Money.of(v["balance"], "CNY") * outputs["rate"]}


def per_record(fn: Callable[[Any], object], records: Sequence[Any], repeat: int = 7) -> float:
    """Best-of-`repeat` seconds per record for `fn` over `records`."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for r in records:
            fn(r)
        best = min(best, time.perf_counter() - t0)
    return best / len(records)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.2f} µs"


def times(x: float) -> str:
    return f"{x:.1f}×" if x < 10 else f"{x:.0f}×"


# optional competitors -----------------------------------------------------------------------
def zen_table_decision(rows: list[tuple[str, str, str]], field: str = "dpd") -> Any:
    import zen

    rules = [
        {"_id": f"r{i + 1}", "i1": cell, "o1": f"'{cat}'", "o2": rate}
        for i, (cell, cat, rate) in enumerate(rows)
    ]
    jdm = {
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
    return zen.ZenEngine().create_decision(json.dumps(jdm))


def competitors(
    dpd_records: list[dict[str, Any]], limit_records: list[dict[str, Any]]
) -> dict[str, dict[str, float] | str]:
    """Per-record times of zen-engine and rule-engine on the P1 decisions (or why not)."""
    found: dict[str, dict[str, float] | str] = {}
    try:
        import zen
    except ImportError:
        found["zen-engine"] = "not installed (pip install 'creditmgmt[bench]')"
    else:
        table = zen_table_decision(CATEGORIES)
        assert table.evaluate({"dpd": 95})["result"]["category"] == "substandard"
        formula = zen.compile_expression(
            "round(min([revenue * 0.3, ebitda * 4, collateral * 0.7]), 2)"
        )
        # zen takes JSON numbers: hand it floats, its own fastest path
        zen_limit = [{k: float(v) for k, v in r.items()} for r in limit_records]
        found["zen-engine"] = {
            "table": per_record(table.evaluate, dpd_records, repeat=3),
            "table_trace": per_record(
                lambda r: table.evaluate(r, {"trace": True}), dpd_records, repeat=3
            ),
            "formula": per_record(formula.evaluate, zen_limit, repeat=3),
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
        assert re_table({"dpd": 95})[0] == "substandard"
        found["rule-engine"] = {
            "table": per_record(re_table, dpd_records, repeat=3),
            "formula": per_record(re_formula.evaluate, limit_records, repeat=3),
        }
    return found


# P1 -----------------------------------------------------------------------------------------
def p1() -> tuple[list[str], list[str]]:
    rules = load_ruleset(SMALL)
    dpd_records = [{"dpd": d} for d in (0, 15, 45, 95, 200, 400) * 200]
    limit_records = [
        {
            "revenue": Decimal(1_000_000 + 37 * i),
            "ebitda": Decimal("150000.50") + i,
            "collateral": Decimal(400_000 - 11 * i),
        }
        for i in range(1200)
    ]
    prov_records = [
        {"dpd": d, "balance": Decimal("125000.00") + i}
        for i, d in enumerate((0, 45, 95, 400) * 300)
    ]
    # the engine and the hand-written code agree before anything is timed
    for r in dpd_records[:6]:
        d = rules.evaluate("classification", r)
        outputs, rule_id = hand_classify(r)
        assert d.outputs == outputs and d.matched == (rule_id,)
    for r in limit_records[:50]:
        assert rules.evaluate("limit", r).outputs == hand_limit(r)
    for r in prov_records[:8]:
        provision = rules.evaluate("provision", r)["provision"]
        assert provision == hand_provision(r)["provision"]
        assert Money.of(provision, "CNY") == hand_provision_money(r)["provision"]

    cases = [
        (
            "small table: DPD → 5 categories + Decimal rate (UNIQUE, 5 rows)",
            "table",
            lambda r: rules.evaluate("classification", r),
            hand_classify,
            dpd_records,
        ),
        (
            "formula: limit = round(min(revenue×0.3, EBITDA×4, collateral×0.7), 2)",
            "formula",
            lambda r: rules.evaluate("limit", r),
            hand_limit,
            limit_records,
        ),
        (
            "formula with lookup: provision = round(balance × table rate, 2)",
            None,
            lambda r: rules.evaluate("provision", r),
            hand_provision,
            prov_records,
        ),
        (
            "the same provision vs hand-written with the domain's `Money`",
            None,
            lambda r: rules.evaluate("provision", r),
            hand_provision_money,
            prov_records,
        ),
    ]
    others = competitors(dpd_records, limit_records)
    verdicts: list[tuple[str, float, str | None, float]] = []
    lines = [
        "| decision | creditmgmt | hand-written | ratio (P1 ≤ 3×) "
        "| zen-engine | zen ÷ ours (≥ 20×) | rule-engine | rule-engine ÷ ours (≥ 50×) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for title, key, engine, hand, records in cases:
        ours = per_record(engine, records)
        base = per_record(hand, records)
        row = [title, us(ours), us(base), f"**{times(ours / base)}**"]
        verdicts.append((title, ours / base, key, ours))
        for name in ("zen-engine", "rule-engine"):
            got = others[name]
            if isinstance(got, dict) and key in got:
                row += [us(got[key]), f"**{times(got[key] / ours)}**"]
            else:
                row += ["–", "–"]
        lines.append("| " + " | ".join(row) + " |")
        print(f"  P1 {title}: ours {us(ours)}, hand {us(base)}, ratio {ours / base:.2f}")
    strict = [v for v in verdicts if "Money" not in v[0]]
    worst = max(v[1] for v in strict)
    notes = [
        f"- P1 ratio to bare hand-written Python: {', '.join(times(v[1]) for v in strict)} — "
        + ("target ≤ 3× met." if worst <= 3 else "target ≤ 3× **missed** (see below)."),
        f"- Against hand-written code using the domain's `Money` for the provision (the form "
        f"of the design's 4.3 µs baseline; it also checks the currency and rounds to the "
        f"fen, which the engine's Decimal output does not): {times(verdicts[-1][1])}.",
    ]
    for name, want in (("zen-engine", 20), ("rule-engine", 50)):
        got = others[name]
        if isinstance(got, dict):
            speedups = [got[k] / ours for _t, _r, k, ours in verdicts if k is not None and k in got]
            met = all(x >= want for x in speedups)
            notes.append(
                f"- {name} time ÷ ours: {', '.join(times(x) for x in speedups)} — target ≥ {want}× "
                + ("met." if met else "**missed**.")
            )
    for name, got in others.items():
        if isinstance(got, str):
            notes.append(f"- {name}: {got}; comparison skipped.")
        elif name == "zen-engine":
            notes.append(
                f"- zen-engine: fastest path, trace off (it reports no rule id without trace); "
                f"with trace on its table costs {us(got['table_trace'])}. "
                "Its formula runs on floats, ours on exact decimals."
            )
        else:
            notes.append(
                "- rule-engine: five `Rule.matches` conditions tried in order for the table, "
                "one `Rule.evaluate` for the formula (no rounding)."
            )
    notes.append(
        "- Where the gap to hand-written comes from: every `evaluate` call checks the input "
        "names against the block, validates each input against its declared type and bounds, "
        "copies the outputs and builds a `Decision` (outputs, matched ids, `ruleset_ref`) — a "
        "fixed cost of roughly 1–1.5 µs here; the hand-written table is an inlined if/elif "
        f"building the outputs ({us(verdicts[0][3] / verdicts[0][1])}), so the small-table "
        "ratio is that fixed cost. Formula "
        "arithmetic itself runs as compiled Python at hand-written speed (34-digit exact "
        "decimals); lookups add a second block evaluation. zen-engine's compiled expression is "
        "Rust on floats with no input validation and no decision record."
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
        return rules

    t_small = _best(load_check_compile, repeat=15)
    big_text = big_table_text()
    big = load_ruleset(big_text)
    t_big_load = _best(lambda: load_ruleset(big_text), repeat=2)
    t_big_check = _best(big.check, repeat=2)
    findings = big.check()
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
