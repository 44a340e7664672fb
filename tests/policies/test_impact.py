"""Impact analysis: a proposed version evaluated against the current one over a book."""

from __future__ import annotations

import csv
import io
import weakref
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.rule_documents import document

from creditmgmt.domain.money import Money
from creditmgmt.policies import (
    ImpactReport,
    PolicyEvaluationError,
    PolicyInputError,
    RuleSet,
    diff_impact,
    load_ruleset,
)


def policy(
    version: str, *, npl_from: int, k: str, extra_block: str = "", limit: str = ""
) -> RuleSet:
    limit = limit or f"revenue * {k}"
    inputs = "dpd: {type: int, min: 0}\nrevenue: {type: money}\ncollateral: {type: money, nullable: true}"
    blocks = f"""
  - id: classification
    kind: decision_table
    inputs: [dpd]
    outputs:
      category: {{type: enum, values: [normal, special_mention, substandard]}}
    rules:
      - {{id: n, when: {{dpd: "< 1"}}, then: {{category: normal}}}}
      - {{id: sm, when: {{dpd: "[1..{npl_from})"}}, then: {{category: special_mention}}}}
      - {{id: sub, when: {{dpd: ">= {npl_from}"}}, then: {{category: substandard}}}}
  - id: limit
    kind: formula
    inputs: [revenue{", collateral" if "collateral" in limit else ""}]
    outputs: {{limit: "{limit}"}}
  - id: warnings
    kind: trigger_set
    inputs: [dpd]
    triggers:
      - {{id: late, severity: yellow, reason: Y01, when: dpd > 30}}
      - {{id: npl, severity: red, reason: R01, when: dpd >= {npl_from}}}
{extra_block}
"""
    return load_ruleset(document(blocks, inputs, id="retail", version=version))


OLD = policy("1.0.0", npl_from=90, k="0.2")
NEW = policy("1.1.0", npl_from=60, k="0.25")

BOOK: list[dict[str, Any]] = [
    {"customer_id": "C1", "dpd": 0, "revenue": "1000", "exposure": "100", "name": "Acme"},
    {"customer_id": "C2", "dpd": 45, "revenue": "2000", "exposure": "200", "name": "Beta"},
    {"customer_id": "C3", "dpd": 75, "revenue": "0", "exposure": "300", "branch": "SH"},
    {"customer_id": "C4", "dpd": 80, "revenue": "0", "exposure": Money.of("400", "CNY")},
    {"customer_id": "C5", "dpd": 120, "revenue": "0", "exposure": 500},
]


@pytest.fixture(scope="module")
def report() -> ImpactReport:
    return diff_impact(OLD, NEW, BOOK, key="customer_id", amount="exposure")


def test_counts_per_block_and_output(report: ImpactReport) -> None:
    assert (report.old_ref, report.new_ref) == (OLD.ref, NEW.ref)
    assert report.rows == 5
    assert report.blocks == ("classification", "limit", "warnings")
    category = report.output("classification", "category")
    assert (category.evaluated, category.unchanged, category.changed) == (5, 3, 2)
    assert category.changed_amount == Decimal(700)
    limit = report.output("limit", "limit")
    assert (limit.evaluated, limit.unchanged, limit.changed) == (5, 3, 2)
    assert report.errors == ()


def test_transitions_with_counts_and_amounts(report: ImpactReport) -> None:
    category = report.output("classification", "category")
    assert [(t.old, t.new, t.count, t.amount) for t in category.transitions] == [
        ("special_mention", "substandard", 2, Decimal(700))
    ]
    severity = report.output("warnings", "severity")
    assert [(t.old, t.new, t.count) for t in severity.transitions] == [("yellow", "red", 2)]
    count = report.output("warnings", "count")  # an int output: summarised, not paired
    assert count.transitions == ()
    assert count.numeric is not None
    assert (count.numeric.up, count.numeric.down, count.numeric.same) == (2, 0, 3)
    fired = report.output("warnings", "fired")
    assert fired.changed == 2
    assert len(fired.transitions) == 1


def test_the_per_row_list_of_changes(report: ImpactReport) -> None:
    changes = [(c.key, c.block, c.output, c.old, c.new, c.amount) for c in report.changes]
    assert (
        "C3",
        "classification",
        "category",
        "special_mention",
        "substandard",
        Decimal(300),
    ) in changes
    assert (
        "C4",
        "classification",
        "category",
        "special_mention",
        "substandard",
        Decimal(400),
    ) in changes
    assert ("C1", "limit", "limit", Decimal("200.0"), Decimal("250.00"), Decimal(100)) in changes
    assert not [c for c in report.changes if c.key == "C5" and c.block == "classification"]
    assert report.changed_keys == ("C1", "C2", "C3", "C4")


def test_rows_for_csv(report: ImpactReport) -> None:
    rows = report.to_rows()
    assert rows[0] == {
        "customer_id": "C1",
        "block": "limit",
        "output": "limit",
        "old": "200.0",
        "new": "250.00",
        "delta": "50.00",
        "amount": "100",
    }
    fired = [r for r in rows if r["output"] == "fired" and r["customer_id"] == "C3"]
    assert fired == [
        {
            "customer_id": "C3",
            "block": "warnings",
            "output": "fired",
            "old": "late",
            "new": "late; npl",
            "delta": "",
            "amount": "300",
        }
    ]
    assert report.to_rows("transitions")[0] == {
        "block": "classification",
        "output": "category",
        "old": "special_mention",
        "new": "substandard",
        "count": "2",
        "amount": "700.00",  # 300 + Money 400.00
    }
    summary = report.to_rows("summary")
    assert summary[0] == {
        "block": "classification",
        "output": "category",
        "evaluated": "5",
        "unchanged": "3",
        "changed": "2",
        "errors": "0",
        "changed_amount": "700.00",
    }
    assert report.to_rows("errors") == []
    parsed = list(csv.DictReader(io.StringIO(report.to_csv("changes"))))
    assert parsed == rows
    assert report.to_csv("errors") == "customer_id,block,version,error,message\n"
    with pytest.raises(PolicyInputError, match="unknown row kind 'html'"):
        report.to_rows("html")


def test_the_report_is_immutable(report: ImpactReport) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        report.rows = 0  # type: ignore[misc]


def test_row_errors_are_captured_with_the_row_and_the_analysis_goes_on() -> None:
    book: list[dict[str, Any]] = [
        {"customer_id": "C1", "dpd": 0, "revenue": "1000"},
        {"customer_id": "C2", "revenue": "1000"},  # no dpd
        {"customer_id": "C3", "dpd": "soon", "revenue": "1000"},  # mistyped
        {"dpd": 5, "revenue": "1"},  # no key
        {"customer_id": "C5", "dpd": 5, "revenue": "1", "exposure": 1.5},  # float amount
        {"customer_id": "C6", "dpd": 95, "revenue": "10"},
    ]
    report = diff_impact(OLD, NEW, book, amount="exposure")
    assert report.rows == 6
    messages = [e.message for e in report.errors]
    assert (
        f"row customer_id='C2': old {OLD.ref}: block classification: missing input dpd" in messages
    )
    assert f"row customer_id='C2': new {NEW.ref}: block warnings: missing input dpd" in messages
    assert any(
        m.startswith("row customer_id='C3': old") and "'soon' is not a valid int" in m
        for m in messages
    )
    assert any(m.startswith("row #4: has no customer_id") for m in messages)
    assert any(
        m.startswith("row customer_id='C5': amount exposure: 1.5 is not a decimal")
        for m in messages
    )
    c2 = [e for e in report.errors if e.key == "C2"]
    assert {(e.block, e.version, e.error) for e in c2} == {
        ("classification", "old", "PolicyInputError"),
        ("classification", "new", "PolicyInputError"),
        ("warnings", "old", "PolicyInputError"),
        ("warnings", "new", "PolicyInputError"),
    }
    category = report.output("classification", "category")
    assert (category.evaluated, category.errors) == (2, 2)  # C1 and C6; C2 and C3 failed
    assert report.output("limit", "limit").evaluated == 4  # limit does not need dpd
    assert report.changed_keys == ("C1", "C2", "C3", "C6")  # C2, C3: limit changed
    errors = report.to_rows("errors")
    assert errors[0]["customer_id"] == "C2" and errors[0]["version"] == "old"


def test_strict_mode_stops_at_the_first_bad_row_naming_it() -> None:
    book: list[dict[str, Any]] = [
        {"customer_id": "C1", "dpd": 0, "revenue": "1"},
        {"customer_id": "C2", "revenue": "1"},
    ]
    with pytest.raises(PolicyInputError) as info:
        diff_impact(OLD, NEW, book, strict=True)
    assert str(info.value) == (
        f"row customer_id='C2': old {OLD.ref}: block classification: missing input dpd"
    )


def test_evaluation_errors_are_captured_per_version() -> None:
    divide = policy("2.0.0", npl_from=60, k="0.25", limit="revenue / collateral")
    book = [{"customer_id": "C1", "dpd": 0, "revenue": "10", "collateral": "0"}]
    report = diff_impact(OLD, divide, book, blocks=["limit"])
    assert [(e.version, e.error) for e in report.errors] == [("new", "PolicyEvaluationError")]
    assert "division by zero" in report.errors[0].message
    with pytest.raises(PolicyEvaluationError, match=r"row customer_id='C1': new retail@2\.0\.0"):
        diff_impact(OLD, divide, book, blocks=["limit"], strict=True)


def test_each_block_takes_only_its_own_inputs_from_a_row() -> None:
    # the new limit also reads collateral; the old one does not take it, and the row's
    # other fields (name, branch, exposure) are inputs of no block
    secured = policy("2.0.0", npl_from=90, k="0.2", limit="min(revenue * 0.2, collateral)")
    book = [
        {"customer_id": "C1", "dpd": 0, "revenue": "1000", "collateral": "150", "name": "A"},
        {"customer_id": "C2", "dpd": 0, "revenue": "1000", "collateral": "900", "branch": "SH"},
    ]
    report = diff_impact(OLD, secured, book, blocks=["limit"])
    assert report.errors == ()
    assert [(c.key, c.old, c.new) for c in report.changes] == [
        ("C1", Decimal("200.0"), Decimal("150"))
    ]


def test_block_selection() -> None:
    report = diff_impact(OLD, NEW, BOOK, blocks=["classification"])
    assert report.blocks == ("classification",)
    assert {o.block for o in report.outputs} == {"classification"}
    with pytest.raises(PolicyInputError, match=r"retail@1\.0\.0#\w+ has no block 'scale'"):
        diff_impact(OLD, NEW, BOOK, blocks=["classification", "scale"])


def test_blocks_only_in_one_version_are_left_out_by_default() -> None:
    extra = (
        "  - id: bucket\n    kind: threshold_ladder\n    input: dpd\n    output: b\n"
        "    steps: [{from: 0, value: current}, {from: 1, value: late}]\n"
    )
    richer = policy("1.2.0", npl_from=60, k="0.25", extra_block=extra)
    assert diff_impact(OLD, richer, BOOK).blocks == ("classification", "limit", "warnings")
    assert diff_impact(richer, NEW, BOOK).blocks == ("classification", "limit", "warnings")


def test_unchanged_versions_report_no_change() -> None:
    same = diff_impact(OLD, OLD, BOOK, amount="exposure")
    assert same.changes == ()
    assert all(o.changed == 0 and o.unchanged == 5 and o.transitions == () for o in same.outputs)


def test_max_changes_keeps_the_list_short_but_the_counts_complete() -> None:
    book = [{"customer_id": f"C{i}", "dpd": 70, "revenue": "1"} for i in range(50)]
    report = diff_impact(OLD, NEW, book, blocks=["classification"], max_changes=10)
    assert len(report.changes) == 10
    assert report.changes_not_kept == 40
    assert report.output("classification", "category").changed == 50


def test_a_key_function() -> None:
    book = [{"cif": "1", "branch": "SH", "dpd": 70, "revenue": "1"}]
    report = diff_impact(
        OLD, NEW, book, blocks=["classification"], key=lambda r: f"{r['branch']}-{r['cif']}"
    )
    assert report.changes[0].key == "SH-1"


class _Row(dict[str, Any]):
    """A dict that can be weakly referenced, to see which rows are still alive."""


def test_the_portfolio_is_streamed_not_held() -> None:
    alive = 0
    most_alive = 0

    def gone() -> None:
        nonlocal alive
        alive -= 1

    def book(n: int) -> Iterator[_Row]:
        nonlocal alive, most_alive
        for i in range(n):
            row = _Row(customer_id=i, dpd=i % 120, revenue=str(i))
            weakref.finalize(row, gone)
            alive += 1
            most_alive = max(most_alive, alive)
            yield row
            del row

    report = diff_impact(OLD, NEW, book(3000), max_changes=0)
    assert report.rows == 3000
    assert report.output("classification", "category").evaluated == 3000
    assert most_alive <= 2  # the row being analysed (and the one before, until replaced)


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "dpd": st.one_of(st.integers(0, 200), st.just("?")),
                "revenue": st.decimals(0, 10**6, places=2).map(str),
                "exposure": st.one_of(st.none(), st.decimals(0, 10**6, places=2)),
            }
        ),
        max_size=40,
    )
)
def test_counts_and_sums_always_add_up(book: list[dict[str, Any]]) -> None:
    rows = [{"customer_id": i, **row} for i, row in enumerate(book)]
    report = diff_impact(OLD, NEW, rows, amount="exposure")
    assert report.rows == len(rows)
    bad = sum(1 for r in rows if r["dpd"] == "?")
    for o in report.outputs:
        assert o.evaluated == o.unchanged + o.changed
        assert o.evaluated + o.errors == len(rows)
        assert o.errors == (bad if o.block != "limit" else 0)
        listed = [c for c in report.changes if (c.block, c.output) == (o.block, o.output)]
        assert len(listed) == o.changed
        assert sum((c.amount or Decimal(0) for c in listed), Decimal(0)) == o.changed_amount
        paired = [c for c in listed if c.delta is None]
        assert sum(t.count for t in o.transitions) == len(paired)
        assert sum((t.amount for t in o.transitions), Decimal(0)) == sum(
            (c.amount or Decimal(0) for c in paired), Decimal(0)
        )
        if o.numeric is None:
            assert not [c for c in listed if c.delta is not None]
            continue
        n = o.numeric
        assert n.up + n.down == len(listed) - len(paired)
        assert n.compared == n.up + n.down + n.same
        deltas = sum((c.delta for c in listed if c.delta is not None), Decimal(0))
        assert n.total_delta == deltas == n.new_total - n.old_total
        assert [abs(c.delta or Decimal(0)) for c in n.largest] == sorted(
            (abs(c.delta or Decimal(0)) for c in n.largest), reverse=True
        )
    # each bad row fails both versions of the two blocks that read dpd
    assert len(report.errors) == 4 * bad


def test_display_of_decision_values() -> None:
    from creditmgmt.policies.impact import display

    assert display(Decimal("1E+5")) == "100000"
    assert display(Decimal("0.0150")) == "0.0150"
    assert display(None) == ""
    assert display(True) == "true"
    assert display(({"id": "a", "severity": "red"}, {"id": "b"})) == "a; b"
    assert display({"x": 1, "y": False}) == "x=1, y=false"
    assert display(("A", "B")) == "A; B"


def provisioning(version: str, rate: str, grades: str) -> RuleSet:
    blocks = f"""
  - id: provisioning
    kind: formula
    inputs: [balance, dpd]
    outputs: {{provision: "balance * ({rate}) if dpd > 30 else balance * 0.01"}}
  - id: grading
    kind: decision_table
    inputs: [dpd]
    outputs:
      grade: {{type: enum, values: ["2", "9", "10"]}}
    rules:
      - {{id: g1, when: {{dpd: "< {grades}"}}, then: {{grade: "2"}}}}
      - {{id: g2, when: {{dpd: "[{grades}..90)"}}, then: {{grade: "9"}}}}
      - {{id: g3, when: {{dpd: ">= 90"}}, then: {{grade: "10"}}}}
"""
    inputs = "dpd: {type: int, min: 0}\nbalance: {type: decimal}"
    return load_ruleset(document(blocks, inputs, id="prov", version=version))


PROV_BOOK: list[dict[str, Any]] = [
    {"customer_id": "A", "dpd": 0, "balance": "1000000.00", "exposure": "1000000.00"},
    {"customer_id": "B", "dpd": 45, "balance": "2000000.00", "exposure": "2000000.00"},
    {"customer_id": "C", "dpd": 95, "balance": "500000.00", "exposure": "500000.00"},
    {"customer_id": "D", "dpd": 60, "balance": "100000.00", "exposure": "100000.00"},
    {"customer_id": "E", "dpd": 20, "balance": "300000.00", "exposure": "300000.00"},
]


def test_a_numeric_output_is_summarised_with_up_down_totals_and_largest_changes() -> None:
    old = provisioning("1.0.0", "0.25", "30")
    new = provisioning("1.1.0", "0.20", "10")
    report = diff_impact(old, new, PROV_BOOK, amount="exposure", top=2)
    prov = report.output("provisioning", "provision")
    assert prov.transitions == ()  # no row per (old, new) pair
    n = prov.numeric
    assert n is not None
    assert (n.compared, n.up, n.down, n.same) == (5, 0, 3, 2)
    assert n.old_total == Decimal("10000") + Decimal("500000") + Decimal("125000") + Decimal(
        "25000"
    ) + Decimal("3000")
    assert n.total_delta == Decimal("-100000") - Decimal("25000") - Decimal("5000")
    assert n.mean_delta == n.total_delta / 5
    # the two largest changes by size, largest first: B (-100,000), C (-25,000)
    assert [(c.key, c.delta) for c in n.largest] == [
        ("B", Decimal("-100000.0000")),
        ("C", Decimal("-25000.0000")),
    ]
    # each changed row carries the change in provision; its exposure stays `amount`
    b = next(c for c in report.changes if c.key == "B" and c.output == "provision")
    assert (b.delta, b.amount) == (Decimal("-100000.0000"), Decimal("2000000.00"))
    rows = report.to_rows("numeric")
    assert rows == [
        {
            "block": "provisioning",
            "output": "provision",
            "compared": "5",
            "up": "0",
            "down": "3",
            "same": "2",
            "old_total": display_of(n.old_total),
            "new_total": display_of(n.new_total),
            "total_delta": display_of(n.total_delta),
            "mean_delta": display_of(n.mean_delta),
        }
    ]
    assert [r["customer_id"] for r in report.to_rows("largest")] == ["B", "C"]
    assert report.to_csv("largest").startswith("customer_id,block,output,old,new,delta\nB,")


def display_of(value: Decimal) -> str:
    from creditmgmt.policies.impact import display

    return display(value)


def test_transitions_sort_numeric_values_numerically() -> None:
    old = provisioning("1.0.0", "0.25", "30")
    new = provisioning("1.1.0", "0.25", "10")
    book = [
        {"customer_id": "x", "dpd": 15, "balance": "1"},  # 2 -> 9
        {"customer_id": "y", "dpd": 20, "balance": "1"},  # 2 -> 9
    ]
    report = diff_impact(old, new, book, blocks=["grading"])
    [moved] = report.output("grading", "grade").transitions
    assert (moved.old, moved.new, moved.count) == ("2", "9", 2)
    from creditmgmt.policies.impact import order_key

    assert sorted(["10", "9", "2", "B", None, "A"], key=order_key) == [
        "2",
        "9",
        "10",
        "A",
        "B",
        None,
    ]
    assert sorted([Decimal("10"), 9, Decimal("2.5")], key=order_key) == [Decimal("2.5"), 9, 10]


def test_the_largest_changes_are_bounded_by_top_not_by_the_book() -> None:
    old = provisioning("1.0.0", "0.25", "30")
    new = provisioning("1.1.0", "0.30", "30")
    book = [{"customer_id": i, "dpd": 40, "balance": str(i * 100)} for i in range(1, 201)]
    n = diff_impact(old, new, book, top=3, max_changes=0).output("provisioning", "provision")
    assert n.numeric is not None
    assert [c.key for c in n.numeric.largest] == [200, 199, 198]
    assert n.numeric.up == 200


@pytest.mark.parametrize("text", ["1,50", "1,2,3", "１２", "12e3"])
def test_an_exposure_amount_in_another_form_is_refused_not_reread(text: str) -> None:
    from creditmgmt.policies import PolicyInputError
    from creditmgmt.policies.impact import _amount

    with pytest.raises(PolicyInputError, match="amount exposure"):
        _amount({"exposure": text}, "exposure")
    assert _amount({"exposure": "1_000.50"}, "exposure") == Decimal("1000.50")
