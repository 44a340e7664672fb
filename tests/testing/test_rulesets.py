"""Generated rule sets are clean, and `check()` finds every seeded single-edit defect."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditmgmt.policies import load_ruleset
from creditmgmt.testing import rulesets as rs

CHECKS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("kind", sorted(rs.BLOCKS))
@settings(CHECKS, max_examples=10)
@given(data=st.data())
def test_every_block_kind_is_valid_and_decides(kind: str, data: st.DataObject) -> None:
    document = data.draw(rs.documents(kinds=[kind]))
    rules = load_ruleset(rs.to_text(document))
    assert rs.errors(rules.check()) == []
    block = document["blocks"][0]["id"]
    sample = {
        "dpd": 45,
        "grade": "B",
        "secured": False,
        "pd": "0.01",
        "amount": "1000000",
        "revenue": "5000000",
        "requested": "800000",
    }
    inputs = {k: v for k, v in sample.items() if k in document["inputs"]}
    rules.evaluate(block, inputs)  # total over the domain: any input decides


@settings(CHECKS, max_examples=15)
@given(rs.documents())
def test_a_document_of_every_kind_loads_clean(document: rs.Document) -> None:
    assert {b["kind"] for b in document["blocks"]} == {k.split("/")[0] for k in rs.BLOCKS}
    assert rs.errors(load_ruleset(rs.to_text(document)).check()) == []


@settings(CHECKS)
@given(rs.documents().flatmap(rs.mutations))
def test_check_reports_the_code_of_every_seeded_defect(mutation: rs.Mutation) -> None:
    findings = load_ruleset(rs.to_text(mutation.document)).check()
    assert mutation.code in {f.code for f in findings}, (mutation, findings)
    assert any(f.code == mutation.code and f.block in (mutation.block, None) for f in findings)


EDIT_NAMES = [(kind, edit.__name__) for kind, edits in rs.EDITS.items() for edit in edits]


@pytest.mark.parametrize(("kind", "edit"), EDIT_NAMES, ids=[e for _k, e in EDIT_NAMES])
@settings(CHECKS, max_examples=8)
@given(data=st.data())
def test_each_edit_is_found_on_its_own(kind: str, edit: str, data: st.DataObject) -> None:
    if kind == "decision_table":
        policy = data.draw(st.sampled_from(["UNIQUE", "FIRST", "PRIORITY", "COLLECT"]))
        kinds = [f"decision_table/{policy}"]
    else:
        kinds = [kind]
    document = data.draw(rs.documents(kinds=kinds))
    block = document["blocks"][0]
    fn = next(e for e in rs.EDITS[kind] if e.__name__ == edit)
    outcome = fn(block, data.draw(st.integers(0, 50)))
    if outcome is None:  # the edit does not apply to this block (e.g. COLLECT has no gaps)
        return
    code, _what = outcome
    assert code in {f.code for f in load_ruleset(rs.to_text(document)).check()}


def test_every_kind_of_edit_is_reachable() -> None:
    assert sum(len(e) for e in rs.EDITS.values()) >= 13
    assert rs.mutation_count({"blocks": [{"kind": "scorecard"}]}) == 0
