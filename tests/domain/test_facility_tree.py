from __future__ import annotations

from datetime import date, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain import (
    CollateralId,
    CurrencyMismatchError,
    CustomerId,
    Facility,
    FacilityLevel,
    FacilityNotActiveError,
    FacilityStatus,
    GroupId,
    GuaranteeId,
    InvalidTransitionError,
    InvalidValueError,
    LimitExceededError,
    LimitTree,
    NegativeAmountError,
    ProductType,
    SubLimitExceedsParentError,
)
from creditmgmt.domain.facility import (
    FacilityOutsideTermError,
    LimitBelowUtilisationError,
    RepaymentExceedsDrawnError,
    TreeStructureError,
)
from creditmgmt.testing.builders import M, SequentialIds, a_facility_tree

DAY = date(2026, 3, 2)


def test_drawdown_rolls_up_the_tree_and_records_an_event() -> None:
    t = a_facility_tree()
    wc = t.products[0]
    t.limits.draw(wc.id, M("500000.00 CNY"), on=DAY)
    assert wc.drawn == M("500000.00 CNY")
    assert t.masters[0].drawn == M("500000.00 CNY")
    assert t.root.drawn == M("500000.00 CNY")
    assert t.masters[1].drawn == M("0.00 CNY")
    assert wc.available == M("1500000.00 CNY")
    assert [e.event_type for e in wc.pending_events][-1] == "DrawdownMade"
    assert t.limits.violations() == []


def test_drawdown_refused_when_any_ancestor_lacks_headroom_and_nothing_changes() -> None:
    t = a_facility_tree()  # master 0: 4.0M over working capital 2.0M + term loan 1.0M
    t.limits.draw(t.products[0].id, M("2000000.00 CNY"), on=DAY)
    t.limits.draw(t.masters[0].id, M("1500000.00 CNY"), on=DAY)  # drawn on the master itself
    before = [(n.drawn, n.reserved) for n in t.nodes]
    with pytest.raises(LimitExceededError, match=r"available 500000\.00 CNY") as err:
        t.limits.draw(t.products[1].id, M("500000.01 CNY"), on=DAY)
    assert str(t.masters[0].id) in str(err.value)
    assert [(n.drawn, n.reserved) for n in t.nodes] == before


def test_group_limit_caps_all_members_together() -> None:
    t = a_facility_tree(group_limit="7000000.00")  # masters 4.0M + 3.0M
    t.limits.draw(t.root.id, M("1000000.00 CNY"), on=DAY)  # group-level drawing
    t.limits.draw(t.products[0].id, M("2000000.00 CNY"), on=DAY)
    t.limits.draw(t.masters[0].id, M("2000000.00 CNY"), on=DAY)
    t.limits.draw(t.products[2].id, M("2000000.00 CNY"), on=DAY)
    with pytest.raises(LimitExceededError, match=str(t.root.id)):
        t.limits.reserve(t.products[3].id, M("0.01 CNY"), on=DAY)
    assert t.limits.violations() == []


def test_sum_of_member_limits_within_group_limit() -> None:
    ids = SequentialIds()
    t = a_facility_tree(ids, group_limit="7000000.00")
    extra = Facility.open(
        ids,
        level=FacilityLevel.CUSTOMER,
        parent=t.root,
        customer_id=t.customers[0].id,
        limit=M("0.01 CNY"),
        start=DAY,
        term_months=12,
    )
    with pytest.raises(SubLimitExceedsParentError, match=r"7000000\.01 CNY"):
        t.limits.attach(extra)
    with pytest.raises(SubLimitExceedsParentError):
        t.limits.change_limit(t.masters[0].id, M("4000000.01 CNY"), on=DAY, reason="raise")
    t.limits.change_limit(t.root.id, M("8000000.00 CNY"), on=DAY, reason="group review")
    t.limits.change_limit(t.masters[0].id, M("5000000.00 CNY"), on=DAY, reason="raise")
    assert t.limits.violations() == []


def test_overbooked_product_sub_limits_allowed_only_when_the_master_says_so() -> None:
    ids = SequentialIds()
    root = Facility.open(
        ids,
        level=FacilityLevel.CUSTOMER,
        limit=M("1000.00 CNY"),
        start=DAY,
        term_months=12,
        customer_id=CustomerId("cus_1"),
        allow_overbooked_sublimits=True,
    )
    tree = LimitTree([root], complete=True)
    for product in (ProductType.WORKING_CAPITAL, ProductType.TRADE_FINANCE):
        tree.attach(
            Facility.open(
                ids,
                level=FacilityLevel.PRODUCT,
                parent=root,
                product_type=product,
                limit=M("800.00 CNY"),
                start=DAY,
                term_months=12,
            )
        )
    for n in tree.nodes:
        n.activate(on=DAY)
    first, second = tree.children(root.id)
    tree.draw(first.id, M("800.00 CNY"), on=DAY)
    with pytest.raises(LimitExceededError, match=str(root.id)):
        tree.draw(second.id, M("200.01 CNY"), on=DAY)


def test_frozen_ancestor_blocks_drawdowns_below_it() -> None:
    t = a_facility_tree()
    t.masters[0].freeze(on=DAY, reason="31 DPD")
    with pytest.raises(FacilityNotActiveError, match="frozen"):
        t.limits.draw(t.products[0].id, M("1.00 CNY"), on=DAY)
    t.masters[0].unfreeze(on=DAY, reason="cured")
    t.limits.draw(t.products[0].id, M("1.00 CNY"), on=DAY)


def test_non_revolving_repayment_does_not_restore_headroom() -> None:
    t = a_facility_tree()
    term = t.products[1]
    assert term.product_type is ProductType.TERM_LOAN
    assert not term.revolving
    t.limits.draw(term.id, M("1000000.00 CNY"), on=DAY)
    t.limits.repay(term.id, M("400000.00 CNY"), on=DAY)
    assert term.drawn == M("600000.00 CNY")
    assert term.available == M("0.00 CNY")
    with pytest.raises(LimitExceededError):
        t.limits.draw(term.id, M("0.01 CNY"), on=DAY)
    revolving = t.products[0]
    t.limits.draw(revolving.id, M("2000000.00 CNY"), on=DAY)
    t.limits.repay(revolving.id, M("500000.00 CNY"), on=DAY)
    assert revolving.available == M("500000.00 CNY")


def test_repay_and_release_apply_to_the_node_that_was_used() -> None:
    t = a_facility_tree()
    t.limits.draw(t.products[0].id, M("100.00 CNY"), on=DAY)
    with pytest.raises(RepaymentExceedsDrawnError, match="directly"):
        t.limits.repay(t.masters[0].id, M("100.00 CNY"), on=DAY)
    with pytest.raises(RepaymentExceedsDrawnError):
        t.limits.release(t.products[0].id, M("0.01 CNY"), on=DAY)


def test_limit_cannot_be_cut_below_utilisation() -> None:
    t = a_facility_tree()
    t.limits.draw(t.products[0].id, M("1500000.00 CNY"), on=DAY)
    with pytest.raises(LimitBelowUtilisationError, match=r"1500000\.00"):
        t.limits.change_limit(t.products[0].id, M("1499999.99 CNY"), on=DAY, reason="cut")


def test_drawdown_outside_term_and_in_other_currency_refused() -> None:
    t = a_facility_tree()
    with pytest.raises(FacilityOutsideTermError):
        t.limits.draw(t.products[0].id, M("1.00 CNY"), on=date(2028, 1, 1))
    with pytest.raises(CurrencyMismatchError):
        t.limits.draw(t.products[0].id, M("1.00 USD"), on=DAY)


def test_terminal_states_are_final() -> None:
    t = a_facility_tree()
    node = t.products[0]
    t.limits.draw(node.id, M("1.00 CNY"), on=DAY)
    with pytest.raises(InvalidTransitionError, match="still has"):
        node.close(on=DAY, reason="done")
    t.limits.repay(node.id, M("1.00 CNY"), on=DAY)
    node.close(on=DAY, reason="done")
    assert node.status is FacilityStatus.CLOSED
    for action in (node.freeze, node.suspend, node.close, node.cancel):
        with pytest.raises(InvalidTransitionError):
            action(on=DAY, reason="x")
    with pytest.raises(FacilityNotActiveError):
        t.limits.draw(node.id, M("1.00 CNY"), on=DAY)


def test_expired_facility_runs_off_but_takes_no_drawdown() -> None:
    t = a_facility_tree()
    node = t.products[0]
    t.limits.draw(node.id, M("10.00 CNY"), on=DAY)
    with pytest.raises(InvalidTransitionError, match="matures"):
        node.expire(on=DAY)
    node.expire(on=node.maturity_date)
    t.limits.repay(node.id, M("10.00 CNY"), on=node.maturity_date)
    with pytest.raises(FacilityNotActiveError):
        t.limits.draw(node.id, M("1.00 CNY"), on=node.maturity_date)


def test_maturity_is_month_end_safe() -> None:
    ids = SequentialIds()
    node = Facility.open(
        ids,
        level=FacilityLevel.GROUP,
        limit=M("1.00 CNY"),
        start=date(2024, 1, 31),
        term_months=1,
        group_id=GroupId("grp_1"),
    )
    assert node.maturity_date == date(2024, 2, 29)


def test_path_needs_every_ancestor() -> None:
    t = a_facility_tree()
    partial = LimitTree([t.products[0]])
    with pytest.raises(TreeStructureError, match="ancestor"):
        partial.draw(t.products[0].id, M("1.00 CNY"), on=DAY)
    with pytest.raises(TreeStructureError, match="complete"):
        LimitTree(t.limits.path(t.products[0].id)).change_limit(
            t.products[0].id, M("1.00 CNY"), on=DAY, reason="x"
        )


_AMOUNT_FIELDS = ("drawn", "reserved", "cumulative_drawn", "own_drawn", "own_reserved")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["draw", "repay", "reserve", "release"]),
            st.integers(0, 3),
            st.decimals(min_value="0.01", max_value="3000000", places=2),
        ),
        max_size=30,
    )
)
def test_tree_invariants_hold_after_any_sequence(ops: list[tuple[str, int, object]]) -> None:
    t = a_facility_tree()
    for op, index, amount in ops:
        node = t.products[index]
        before = [(n.drawn, n.reserved, n.cumulative_drawn) for n in t.nodes]
        try:
            getattr(t.limits, op)(node.id, M(f"{amount} CNY"), on=DAY)
        except (LimitExceededError, RepaymentExceedsDrawnError):
            assert [(n.drawn, n.reserved, n.cumulative_drawn) for n in t.nodes] == before
        assert t.limits.violations() == []
        # movements write amounts without the setattr validator: they must stay non-negative
        for n in t.nodes:
            for name in _AMOUNT_FIELDS:
                assert not getattr(n, name).is_negative, (n.id, name)


# The facility lifecycle of DOMAIN.md: approved → active ⇄ frozen → expired | closed |
# cancelled; active may be suspended by risk events; terminal states are final.
_S = FacilityStatus
ALLOWED = {
    ("activate", _S.APPROVED): _S.ACTIVE,
    ("cancel", _S.APPROVED): _S.CANCELLED,
    ("freeze", _S.ACTIVE): _S.FROZEN,
    ("freeze", _S.SUSPENDED): _S.FROZEN,
    ("unfreeze", _S.FROZEN): _S.ACTIVE,
    ("suspend", _S.ACTIVE): _S.SUSPENDED,
    ("resume", _S.SUSPENDED): _S.ACTIVE,
    **{("expire", s): _S.EXPIRED for s in (_S.ACTIVE, _S.FROZEN, _S.SUSPENDED)},
    **{("close", s): _S.CLOSED for s in (_S.ACTIVE, _S.FROZEN, _S.SUSPENDED)},
    **{("cancel", s): _S.CANCELLED for s in (_S.ACTIVE, _S.FROZEN, _S.SUSPENDED)},
}
ACTIONS = ("activate", "cancel", "freeze", "unfreeze", "suspend", "resume", "expire", "close")


def _call(node: Facility, action: str, on: date) -> None:
    if action in ("activate", "expire"):
        getattr(node, action)(on=on)
    else:
        getattr(node, action)(on=on, reason="test")


@pytest.mark.parametrize("status", list(FacilityStatus))
@pytest.mark.parametrize("action", ACTIONS)
def test_status_machine_allows_exactly_the_documented_transitions(
    status: FacilityStatus, action: str
) -> None:
    node = a_facility_tree(activate=False).products[0]
    node.status = status
    events_before = len(node.pending_events)
    target = ALLOWED.get((action, status))
    if target is None:
        with pytest.raises(InvalidTransitionError, match=str(node.id)):
            _call(node, action, node.maturity_date)
        assert node.status is status
        assert len(node.pending_events) == events_before
    else:
        _call(node, action, node.maturity_date)
        assert node.status is target
        event = node.pending_events[-1]
        if target is _S.ACTIVE and status is _S.APPROVED:
            assert event.event_type == "FacilityActivated"
        else:
            assert event.event_type == "FacilityStatusChanged"
            assert (event.previous, event.status) == (status, target)  # type: ignore[attr-defined]


def test_activation_is_only_from_approved_and_within_the_term() -> None:
    t = a_facility_tree()
    node = t.products[0]
    node.freeze(on=DAY, reason="31 DPD")
    with pytest.raises(InvalidTransitionError, match="unfreeze"):
        node.activate(on=DAY)  # activation must not silently lift a freeze
    assert node.status is FacilityStatus.FROZEN
    late = a_facility_tree(activate=False).products[0]
    with pytest.raises(InvalidTransitionError, match="matured"):
        late.activate(on=date(2027, 1, 6))


def test_cancel_withdraws_an_unused_limit_but_not_one_with_money_on_it() -> None:
    t = a_facility_tree()
    used, unused = t.products[0], t.products[1]
    t.limits.reserve(used.id, M("10.00 CNY"), on=DAY)
    with pytest.raises(InvalidTransitionError, match=r"10\.00 CNY reserved"):
        used.cancel(on=DAY, reason="risk appetite")
    assert used.status is FacilityStatus.ACTIVE
    unused.freeze(on=DAY, reason="review")
    unused.cancel(on=DAY, reason="risk appetite")
    assert unused.status is FacilityStatus.CANCELLED
    with pytest.raises(FacilityNotActiveError, match="cancelled"):
        t.limits.reserve(unused.id, M("1.00 CNY"), on=DAY)


def test_closed_or_cancelled_nodes_accept_no_release_or_repayment() -> None:
    t = a_facility_tree()
    node = t.products[0]
    node.close(on=DAY, reason="no longer needed")
    for op in (t.limits.release, t.limits.repay):
        # the status is checked before the amount: the refusal names the closed node
        with pytest.raises(FacilityNotActiveError, match=f"facility {node.id} is closed"):
            op(node.id, M("1.00 CNY"), on=DAY)
    # the status check names the closed node even when an amount would also be refused
    t.limits.draw(t.products[1].id, M("5.00 CNY"), on=DAY)
    t.limits.reserve(t.products[1].id, M("5.00 CNY"), on=DAY)
    t.limits.release(t.products[1].id, M("5.00 CNY"), on=DAY)
    t.limits.repay(t.products[1].id, M("5.00 CNY"), on=DAY)
    t.products[1].cancel(on=DAY, reason="x")
    with pytest.raises(FacilityNotActiveError, match="cancelled"):
        t.limits.release(t.products[1].id, M("1.00 CNY"), on=DAY)


def test_every_node_on_the_path_must_be_within_its_term() -> None:
    ids = SequentialIds()
    t = a_facility_tree(ids, term_months=12)
    longer = Facility.open(
        ids,
        level=FacilityLevel.PRODUCT,
        parent=t.masters[1],
        product_type=ProductType.TRADE_FINANCE,
        limit=M("100.00 CNY"),
        start=t.root.start_date,
        term_months=48,  # a sub-limit that outlives its master
    )
    # sub-limits under master 1 already total 3.0M = its limit: make room first
    t.limits.change_limit(t.products[3].id, M("999900.00 CNY"), on=DAY, reason="room")
    t.limits.attach(longer)
    longer.activate(on=DAY)
    after_master = t.masters[1].maturity_date + timedelta(days=1)
    assert longer.is_within_term(after_master)  # only its ancestors have ended
    with pytest.raises(FacilityOutsideTermError, match=str(t.root.id)):
        t.limits.draw(longer.id, M("1.00 CNY"), on=after_master)
    with pytest.raises(FacilityOutsideTermError, match=str(t.root.id)):
        t.limits.reserve(longer.id, M("1.00 CNY"), on=after_master)
    with pytest.raises(FacilityOutsideTermError):
        t.limits.draw(longer.id, M("1.00 CNY"), on=t.root.start_date - timedelta(days=1))


def test_a_node_holds_one_currency() -> None:
    node = a_facility_tree().products[0]
    with pytest.raises(CurrencyMismatchError, match=r"drawn 1\.00 USD"):
        attrs.evolve(node, drawn=M("1.00 USD"))
    with pytest.raises(InvalidValueError, match="maturity"):
        attrs.evolve(node, maturity_date=node.start_date)
    with pytest.raises(NegativeAmountError, match="limit"):
        attrs.evolve(node, limit=M("-1.00 CNY"))


def test_collateral_and_guarantee_links_are_kept_once() -> None:
    node = a_facility_tree().products[0]
    node.link_collateral(CollateralId("col_1"))
    node.link_collateral(CollateralId("col_1"))
    node.link_guarantee(GuaranteeId("gua_1"))
    assert (node.collateral_ids, node.guarantee_ids) == (
        (CollateralId("col_1"),),
        (GuaranteeId("gua_1"),),
    )
    node.unlink_collateral(CollateralId("col_1"))
    node.unlink_guarantee(GuaranteeId("gua_1"))
    assert (node.collateral_ids, node.guarantee_ids) == ((), ())


def test_adopt_moves_a_drawn_master_under_a_group_and_rolls_it_up() -> None:
    from creditmgmt.domain import FacilityLevel, GroupId, ProductType

    ids = SequentialIds(500)
    day = date(2026, 1, 5)
    master = Facility.open(
        ids, level=FacilityLevel.CUSTOMER, limit=M("400.00 CNY"), start=day, term_months=12,
        customer_id=CustomerId("cus_a"),
    )  # fmt: skip
    product = Facility.open(
        ids, level=FacilityLevel.PRODUCT, limit=M("300.00 CNY"), start=day, term_months=12,
        parent=master, product_type=ProductType.WORKING_CAPITAL,
    )  # fmt: skip
    own = LimitTree([master], complete=True)
    own.attach(product)
    for node in (master, product):
        node.activate(on=day)
    own.draw(product.id, M("120.00 CNY"), on=day)
    own.reserve(product.id, M("30.00 CNY"), on=day)
    root = Facility.open(
        ids, level=FacilityLevel.GROUP, limit=M("500.00 CNY"), start=day, term_months=12,
        group_id=GroupId("grp_g"),
    )  # fmt: skip
    root.activate(on=day)
    group = LimitTree([root], complete=True)
    with pytest.raises(TreeStructureError, match="already sits under"):
        group.adopt([product], under=root.id)
    another_group = Facility.open(
        ids, level=FacilityLevel.GROUP, limit=M("1.00 CNY"), start=day, term_months=12,
        group_id=GroupId("grp_h"),
    )  # fmt: skip
    with pytest.raises(TreeStructureError, match="a group node cannot sit under group"):
        group.adopt([another_group], under=root.id)
    group.adopt([master, product], under=root.id)
    assert master.parent_id == root.id
    assert {n.group_id for n in (master, product)} == {GroupId("grp_g")}
    assert (root.drawn, root.reserved) == (M("120.00 CNY"), M("30.00 CNY"))
    assert group.violations() == []
    with pytest.raises(TreeStructureError, match="already in the tree"):
        group.adopt([master, product], under=root.id)
    other = Facility.open(
        ids, level=FacilityLevel.CUSTOMER, limit=M("100.01 CNY"), start=day, term_months=12,
        customer_id=CustomerId("cus_b"),
    )  # fmt: skip
    before = attrs.asdict(root)
    with pytest.raises(SubLimitExceedsParentError, match=r"500\.01 CNY"):
        group.adopt([other], under=root.id)
    assert attrs.asdict(root) == before and other.parent_id is None
