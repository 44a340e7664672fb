"""Effective-dated rule-set versions: the one in force on a day, lookup by ref, overlaps."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditmgmt.policies import PolicyError, RuleSet, RuleSetRegistry
from creditmgmt.policies.loader import read_document
from creditmgmt.policies.registry import (
    RuleSetNotFoundError,
    RuleSetOverlapError,
    RuleSetVersionError,
)


def version(
    number: str,
    start: str,
    end: str | None = None,
    *,
    status: str = "approved",
    id: str = "retail",
    npl_from: int = 90,
) -> RuleSet:
    """A one-table rule set; `npl_from` changes the text between versions."""
    header = f"effective_to: {end}\n" if end else ""
    approver = "approved_by: head of credit risk\n" if status == "approved" else ""
    text = (
        f"id: {id}\nversion: {number}\neffective_from: {start}\n{header}status: {status}\n"
        f"{approver}owner: credit-policy\n"
        "inputs: {dpd: {type: int, min: 0}}\n"
        "blocks:\n"
        "  - id: npl\n    kind: decision_table\n    inputs: [dpd]\n"
        "    outputs: {npl: {type: bool}}\n"
        "    rules:\n"
        f'      - {{id: perf, when: {{dpd: "< {npl_from}"}}, then: {{npl: false}}}}\n'
        f'      - {{id: npl, when: {{dpd: ">= {npl_from}"}}, then: {{npl: true}}}}\n'
    )
    # approved documents are gated by check() in load_ruleset; these tests are about
    # versions, so they build the RuleSet from the parsed document directly
    return RuleSet(read_document(text, source_name=f"{id}-{number}.yaml"))


V1 = version("1.0.0", "2025-01-01", "2026-01-01", npl_from=90)
V2 = version("2.0.0", "2026-01-01", "2026-07-01", npl_from=60)
V3 = version("2.1.0", "2026-07-01", npl_from=30)
DRAFT = version("3.0.0-rc.1", "2026-09-01", status="draft", npl_from=15)


@pytest.fixture
def registry() -> RuleSetRegistry:
    return RuleSetRegistry([V3, DRAFT, V1, V2])


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 1), V1),  # first day in force
        (date(2025, 12, 31), V1),  # last day: effective_to is exclusive
        (date(2026, 1, 1), V2),  # the changeover day belongs to the new version
        (date(2026, 6, 30), V2),
        (date(2026, 7, 1), V3),
        (date(2030, 1, 1), V3),  # open-ended
        (date(2026, 9, 1), V3),  # the draft starting that day is never in force
    ],
)
def test_as_of_picks_the_approved_version_in_force(
    registry: RuleSetRegistry, day: date, expected: RuleSet
) -> None:
    assert registry.as_of(day, id="retail") is expected
    assert registry.as_of(day) is expected  # one id held: it may be left out


def test_the_version_in_force_decides_differently(registry: RuleSetRegistry) -> None:
    facts = {"dpd": 75}
    assert registry.as_of(date(2025, 6, 1)).evaluate("npl", facts)["npl"] is False
    assert registry.as_of(date(2026, 6, 1)).evaluate("npl", facts)["npl"] is True


def test_nothing_in_force_before_the_first_version(registry: RuleSetRegistry) -> None:
    with pytest.raises(RuleSetNotFoundError) as info:
        registry.as_of(date(2024, 12, 31), id="retail")
    message = str(info.value)
    assert "no approved version of retail is in force on 2024-12-31" in message
    assert f"{V1.ref} [2025-01-01 .. 2026-01-01)" in message
    assert f"{V3.ref} [2026-07-01 .. open)" in message
    assert DRAFT.ref not in message
    assert isinstance(info.value, PolicyError)


def test_a_gap_between_versions_is_reported() -> None:
    registry = RuleSetRegistry([V1, V3])
    with pytest.raises(RuleSetNotFoundError, match="in force on 2026-03-01"):
        registry.as_of(date(2026, 3, 1))


def test_drafts_and_retired_versions_are_never_in_force() -> None:
    retired = version("0.9.0", "2024-01-01", "2025-01-01", status="retired")
    registry = RuleSetRegistry([DRAFT, retired])
    for day in (date(2024, 6, 1), date(2026, 9, 1), date(2027, 1, 1)):
        with pytest.raises(RuleSetNotFoundError, match="none is approved"):
            registry.as_of(day)
    assert registry.get(retired.ref) is retired  # still there, e.g. to replay decisions


def test_unknown_ids_and_an_ambiguous_default_are_errors(registry: RuleSetRegistry) -> None:
    with pytest.raises(RuleSetNotFoundError, match=r"no rule set with id 'sme' \(held: retail\)"):
        registry.as_of(date(2026, 1, 1), id="sme")
    registry.add(version("1.0.0", "2026-01-01", id="sme"))
    with pytest.raises(RuleSetNotFoundError, match=r"several rule sets are held \(retail, sme\)"):
        registry.as_of(date(2026, 1, 1))
    assert registry.as_of(date(2026, 1, 1), id="sme").id == "sme"
    with pytest.raises(RuleSetNotFoundError, match="holds no rule sets"):
        RuleSetRegistry().as_of(date(2026, 1, 1))
    with pytest.raises(RuleSetNotFoundError, match="as_of needs a date"):
        registry.as_of("2026-01-01", id="sme")  # type: ignore[arg-type]


def test_overlapping_approved_versions_are_refused_naming_both_and_the_days() -> None:
    registry = RuleSetRegistry([V1, V2])
    clash = version("2.0.1", "2026-03-01", "2026-09-01", npl_from=45)
    with pytest.raises(RuleSetOverlapError) as info:
        registry.add(clash)
    message = str(info.value)
    assert clash.ref in message and V2.ref in message
    assert "from 2026-03-01 to 2026-06-30" in message
    assert info.value.refs == (clash.ref, V2.ref)
    assert (info.value.first_day, info.value.last_day) == (date(2026, 3, 1), date(2026, 6, 30))
    assert clash not in registry.versions()  # nothing was added
    assert isinstance(info.value, PolicyError)


def test_two_open_ended_versions_overlap_forever() -> None:
    registry = RuleSetRegistry([V3])
    later = version("2.2.0", "2027-01-01", npl_from=20)
    with pytest.raises(RuleSetOverlapError, match="from 2027-01-01 on") as info:
        registry.add(later)
    assert info.value.last_day is None


def test_a_draft_may_overlap_and_adjacent_ranges_do_not() -> None:
    registry = RuleSetRegistry([V1])
    registry.add(V2)  # V1 ends 2026-01-01 exclusive, V2 starts that day: no overlap
    registry.add(version("9.0.0", "2025-06-01", status="draft", npl_from=10))
    assert len(registry) == 3


def test_the_same_version_with_another_text_is_refused() -> None:
    registry = RuleSetRegistry([V2])
    tampered = version("2.0.0", "2026-01-01", "2026-07-01", npl_from=61)
    with pytest.raises(RuleSetVersionError, match="texts differ") as info:
        registry.add(tampered)
    assert info.value.refs == (tampered.ref, V2.ref)
    assert registry.add(version("2.0.0", "2026-01-01", "2026-07-01", npl_from=60)) is V2


@pytest.mark.parametrize("form", ["full", "short-hash", "no-hash"])
def test_get_by_ref(registry: RuleSetRegistry, form: str) -> None:
    ref = {
        "full": V2.ref,
        "short-hash": f"retail@2.0.0#{V2.document.content_hash[:6]}",
        "no-hash": "retail@2.0.0",
    }[form]
    assert registry.get(ref) is V2
    assert ref in registry


def test_a_stored_decision_replays_under_its_exact_version(registry: RuleSetRegistry) -> None:
    stored = registry.as_of(date(2025, 3, 1)).evaluate("npl", {"dpd": 75})
    replayed = registry.get(stored.ruleset_ref).evaluate("npl", {"dpd": 75})
    assert replayed == stored


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("retail", "is not a rule-set ref"),
        ("retail@2.0.0#XYZ", "is not a rule-set ref"),
        ("retail@2.0.0#abc", "is not a rule-set ref"),  # fewer than 4 hex digits
        ("retail@9.9.9", r"retail has no version 9\.9\.9 \(versions: 1\.0\.0, 2\.0\.0, 2\.1\.0"),
        ("sme@1.0.0", "no rule set with id 'sme'"),
        ("retail@2.0.0#0000", "names a different text than the registered"),
    ],
)
def test_get_with_a_bad_ref(registry: RuleSetRegistry, ref: str, expected: str) -> None:
    if ref.endswith("#0000") and V2.document.content_hash.startswith("0000"):
        ref = "retail@2.0.0#ffff"
    with pytest.raises(RuleSetNotFoundError, match=expected):
        registry.get(ref)
    assert ref not in registry


def test_versions_are_listed_by_effective_date(registry: RuleSetRegistry) -> None:
    assert registry.versions("retail") == (V1, V2, V3, DRAFT)
    assert registry.ids() == ("retail",)
    assert list(registry) == [V1, V2, V3, DRAFT]
    assert len(registry) == 4
    assert re.fullmatch(
        r"RuleSetRegistry\(\[.*retail@3\.0\.0-rc\.1#[0-9a-f]{12}'\]\)", repr(registry)
    )
    with pytest.raises(RuleSetNotFoundError):
        registry.versions("sme")


@settings(max_examples=30)
@given(
    st.lists(
        st.tuples(st.integers(0, 60), st.one_of(st.none(), st.integers(1, 40))),
        min_size=1,
        max_size=5,
    ),
    st.lists(st.integers(-5, 110), min_size=1, max_size=10),
)
def test_as_of_agrees_with_a_scan_of_what_was_accepted(
    ranges: list[tuple[int, int | None]], days: list[int]
) -> None:
    origin = date(2026, 1, 1)
    registry = RuleSetRegistry()
    accepted: list[tuple[date, date | None, RuleSet]] = []
    for i, (start, length) in enumerate(ranges):
        begin = origin + timedelta(days=start)
        end = None if length is None else begin + timedelta(days=length)
        end_text = None if end is None else end.isoformat()
        rs = version(f"1.{i}.0", begin.isoformat(), end_text, npl_from=10 + i)
        clash = [a for a in accepted if a[0] < (end or date.max) and begin < (a[1] or date.max)]
        if clash:
            with pytest.raises(RuleSetOverlapError) as info:
                registry.add(rs)
            assert info.value.refs[0] == rs.ref
            assert info.value.refs[1] in {a[2].ref for a in clash}
        else:
            registry.add(rs)
            accepted.append((begin, end, rs))
    for offset in days:
        day = origin + timedelta(days=offset)
        in_force = [rs for b, e, rs in accepted if b <= day and (e is None or day < e)]
        assert len(in_force) <= 1
        if in_force:
            assert registry.as_of(day) is in_force[0]
        else:
            with pytest.raises(RuleSetNotFoundError):
                registry.as_of(day)
