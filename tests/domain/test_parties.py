from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from creditmgmt.domain import (
    Category,
    CustomerKind,
    CustomerStatus,
    InvalidIdentifierError,
    InvalidTransitionError,
    InvalidValueError,
    Segment,
    label,
)
from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.customer import Customer, region_prefix
from creditmgmt.domain.group import GroupMembershipError
from creditmgmt.domain.ids import CustomerId, FacilityId
from creditmgmt.testing import strategies as cs
from creditmgmt.testing.builders import USCC_EXAMPLES, SequentialIds, a_customer, a_group

DAY = date(2026, 2, 2)


def test_onboarding_validates_the_uscc_and_names_the_customer() -> None:
    c = a_customer(registration_id="91310000ma1fl4t01a")
    assert c.registration_id == USCC_EXAMPLES[0]
    with pytest.raises(InvalidIdentifierError, match=r"上海示例贸易有限公司.*\*{14}T01B") as e:
        a_customer(registration_id="91310000MA1FL4T01B")
    assert "91310000MA1FL4T01B" not in str(e.value)  # PII: masked to the last four
    with pytest.raises(InvalidIdentifierError, match="needs a unified social credit code"):
        a_customer(registration_id=None)
    person = a_customer(kind=CustomerKind.INDIVIDUAL, registration_id="11010519491231002X")
    assert person.registration_id == "11010519491231002X"


def test_bad_regions_names_and_industries_are_refused() -> None:
    with pytest.raises(InvalidValueError, match="home_region '3100'"):
        a_customer(home_region="3100")
    with pytest.raises(InvalidValueError, match="legal_name"):
        a_customer(legal_name="   ")
    with pytest.raises(InvalidValueError, match="industry_code"):
        a_customer(industry_code="trade")


def test_remote_customer_by_division_prefix() -> None:
    assert region_prefix("310000") == "31"
    assert region_prefix("330100") == "3301"
    assert not a_customer(home_region="310115", institution_region="310000").is_remote
    assert a_customer(home_region="330100", institution_region="310000").is_remote
    assert a_customer(home_region="330102", institution_region="330100").is_remote is False
    assert a_customer(home_region="330200", institution_region="330100").is_remote
    assert a_customer(
        home_region="310000", institution_region="310000", funds_used_region="440300"
    ).is_remote


def test_status_machine_and_terminal_exit() -> None:
    c = a_customer()
    assert c.status is CustomerStatus.PROSPECT
    c.activate(on=DAY)
    assert c.relationship_since == DAY
    c.watchlist(on=DAY, reason="covenant breach")
    c.activate(on=DAY, reason="cured")
    c.exit(on=DAY, reason="repaid and left")
    with pytest.raises(InvalidTransitionError, match="exited"):
        c.activate(on=DAY)
    with pytest.raises(InvalidTransitionError):
        c.change_segment(Segment.VIP)
    assert c.relationship_years(date(2029, 2, 1)) == 2


@given(
    st.lists(st.sampled_from(["activate", "watchlist", "exit"]), max_size=8),
)
def test_customer_never_leaves_exited(actions: list[str]) -> None:
    c = a_customer()
    for action in actions:
        status = c.status
        try:
            getattr(c, action)(on=DAY, reason="r")
        except InvalidTransitionError:
            assert c.status is status
        if status is CustomerStatus.EXITED:
            assert c.status is CustomerStatus.EXITED


def test_group_membership() -> None:
    ids = SequentialIds()
    g = a_group(ids)
    c = a_customer(ids)
    g.add_member(c.id)
    c.join_group(g.id)
    with pytest.raises(GroupMembershipError):
        g.add_member(c.id)
    other = a_group(ids, name="另一集团")
    with pytest.raises(InvalidTransitionError, match="already belongs"):
        c.join_group(other.id)
    g.remove_member(c.id)
    c.leave_group()
    assert c.group_id is None
    assert [e.event_type for e in g.pending_events] == [
        "GroupFormed",
        "GroupMemberAdded",
        "GroupMemberRemoved",
    ]


def test_categories_are_ordered_and_worst_wins() -> None:
    assert Category.worst(Category.NORMAL, Category.DOUBTFUL, Category.SUBSTANDARD) is (
        Category.DOUBTFUL
    )
    assert [c.is_npl for c in Category] == [False, False, True, True, True]
    assert label("special_mention", "zh") == "关注"
    assert label("formal_notice", "zh") == "催收通知"
    assert label("special_mention") == "special mention"
    assert label("unknown_code", "zh") == "unknown_code"


def test_classification_change_is_an_event_only_when_the_category_moves() -> None:
    ids = SequentialIds()
    kwargs: dict[str, Any] = {
        "customer_id": CustomerId("cus_1"),
        "facility_id": FacilityId("fac_1"),
        "as_of": DAY,
        "ruleset_ref": "cn-2023@1.0.0#abcdef012345",
    }
    same = ClassificationEntry.decide(
        ids, category=Category.NORMAL, previous_category=Category.NORMAL, **kwargs
    )
    moved = ClassificationEntry.decide(
        ids, category=Category.SUBSTANDARD, previous_category=Category.NORMAL, dpd=91, **kwargs
    )
    assert same.pending_events == ()
    assert moved.pending_events[0].event_type == "ClassificationChanged"
    with pytest.raises(InvalidValueError):
        ClassificationEntry.decide(ids, category=Category.LOSS, dpd=-1, **kwargs)


@given(cs.customers())
def test_generated_customers_are_valid(c: Customer) -> None:
    assert c.legal_name == c.legal_name.strip()
    if c.is_legal_person:
        assert c.registration_id is not None
        assert uscc.is_valid(c.registration_id)
    regions = [c.home_region] + ([c.funds_used_region] if c.funds_used_region else [])
    # the significant prefix drops trailing "00" pairs only: "310000" → "31", "330100" → "3301"
    area = c.institution_region
    while area.endswith("00") and len(area) > 2:
        area = area[:-2]
    assert c.is_remote == any(not r.startswith(area) for r in regions)
    if c.status is CustomerStatus.PROSPECT:
        assert c.relationship_since is None


_C = CustomerStatus
CUSTOMER_ALLOWED = {
    ("activate", _C.PROSPECT): _C.ACTIVE,
    ("activate", _C.WATCHLIST): _C.ACTIVE,
    ("watchlist", _C.ACTIVE): _C.WATCHLIST,
    **{("exit", s): _C.EXITED for s in (_C.PROSPECT, _C.ACTIVE, _C.WATCHLIST)},
}


@pytest.mark.parametrize("status", list(CustomerStatus))
@pytest.mark.parametrize("step", ["activate", "watchlist", "exit"])
def test_customer_status_machine_table(status: CustomerStatus, step: str) -> None:
    c = a_customer()
    c.status = status
    events = len(c.pending_events)
    target = CUSTOMER_ALLOWED.get((step, status))
    if target is None:
        with pytest.raises(InvalidTransitionError, match=str(c.id)):
            getattr(c, step)(on=DAY, reason="r")
        assert (c.status, len(c.pending_events)) == (status, events)
    else:
        getattr(c, step)(on=DAY, reason="r")
        assert c.status is target
        assert c.pending_events[-1].event_type == "CustomerStatusChanged"


def test_remote_customers_by_registration_or_use_of_funds() -> None:
    # a Shanghai institution: Pudong (310115) is local, Hangzhou and Beijing are remote
    assert [
        a_customer(home_region=r, institution_region="310000").is_remote
        for r in ("310115", "330100", "110000")
    ] == [False, True, True]
    # a local borrower who uses the funds in Shenzhen is remote as well
    c = a_customer()
    remote_before = c.is_remote
    assert not remote_before
    c.move_funds_use("440300")
    assert c.is_remote
    with pytest.raises(InvalidValueError, match="funds_used_region"):
        c.move_funds_use("44")
