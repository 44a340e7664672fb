"""A Hypothesis state machine of the facility limit tree, shipped for testers.

It drives a group tree (group limit → two customer master limits → product sub-limits)
through random valid *and* invalid operations: draw, repay, reserve, release, freeze,
unfreeze, suspend, resume, limit changes, close. After every step the tree invariants hold;
every refused operation must raise a `DomainError` and leave every node exactly as it was.

Use it as is:

    from creditmgmt.testing.lifecycle import FacilityLifecycle
    TestFacilityLifecycle = FacilityLifecycle.TestCase

or subclass it and add rules that call your own services around the same tree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from creditmgmt.domain.errors import DomainError
from creditmgmt.domain.facility import Facility, FacilityStatus
from creditmgmt.domain.money import Money
from creditmgmt.testing.builders import SequentialIds, a_facility_tree

_amounts = st.decimals(min_value=Decimal("-100"), max_value=Decimal("12000000"), places=2)


def _snapshot(nodes: list[Facility]) -> list[tuple[object, ...]]:
    return [(n.id, n.status, n.limit, n.drawn, n.reserved, n.cumulative_drawn) for n in nodes]


class FacilityLifecycle(RuleBasedStateMachine):
    """Random operations on one limit tree; refusals must change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.build = a_facility_tree(SequentialIds())
        self.tree = self.build.limits
        self.day = self.build.root.start_date
        self.currency = self.build.root.currency
        self.refused = 0
        self.accepted = 0

    # helpers ----------------------------------------------------------------------------
    def _money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency)

    def _attempt(self, operation: Callable[[], None]) -> None:
        before = _snapshot(self.tree.nodes)
        events_before = [len(n.pending_events) for n in self.tree.nodes]
        try:
            operation()
        except DomainError:
            self.refused += 1
            assert _snapshot(self.tree.nodes) == before, "a refused operation changed the tree"
            assert [len(n.pending_events) for n in self.tree.nodes] == events_before
        else:
            self.accepted += 1

    def _node(self, index: int) -> Facility:
        all_nodes = self.build.nodes
        return all_nodes[index % len(all_nodes)]

    # rules ------------------------------------------------------------------------------
    @rule(index=st.integers(0, 6), amount=_amounts)
    def draw(self, index: int, amount: Decimal) -> None:
        node = self._node(index)
        self._attempt(lambda: self.tree.draw(node.id, self._money(amount), on=self.day))

    @rule(index=st.integers(0, 6), amount=_amounts)
    def repay(self, index: int, amount: Decimal) -> None:
        node = self._node(index)
        self._attempt(lambda: self.tree.repay(node.id, self._money(amount), on=self.day))

    @rule(index=st.integers(0, 6), amount=_amounts)
    def reserve(self, index: int, amount: Decimal) -> None:
        node = self._node(index)
        self._attempt(lambda: self.tree.reserve(node.id, self._money(amount), on=self.day))

    @rule(index=st.integers(0, 6), amount=_amounts)
    def release(self, index: int, amount: Decimal) -> None:
        node = self._node(index)
        self._attempt(lambda: self.tree.release(node.id, self._money(amount), on=self.day))

    @rule(index=st.integers(0, 6), amount=_amounts)
    def change_limit(self, index: int, amount: Decimal) -> None:
        node = self._node(index)
        self._attempt(
            lambda: self.tree.change_limit(node.id, self._money(amount), on=self.day, reason="t")
        )

    @rule(
        index=st.integers(0, 6),
        action=st.sampled_from(["freeze", "unfreeze", "suspend", "resume", "close", "activate"]),
    )
    def change_status(self, index: int, action: str) -> None:
        node = self._node(index)
        if action in ("freeze", "unfreeze", "suspend", "resume", "close"):
            self._attempt(lambda: getattr(node, action)(on=self.day, reason="t"))
        else:
            self._attempt(lambda: node.activate(on=self.day))

    @rule(index=st.integers(0, 6))
    def draw_in_another_currency(self, index: int) -> None:
        node = self._node(index)
        other = "USD" if self.currency != "USD" else "EUR"
        self._attempt(lambda: self.tree.draw(node.id, Money.of("1.00", other), on=self.day))

    @rule(index=st.integers(0, 6))
    def draw_after_maturity(self, index: int) -> None:
        node = self._node(index)
        late = node.maturity_date + timedelta(days=1)
        self._attempt(lambda: self.tree.draw(node.id, Money.of("1.00", self.currency), on=late))

    @precondition(lambda self: self.day < date(2026, 12, 31))
    @rule(days=st.integers(1, 40))
    def time_passes(self, days: int) -> None:
        self.day = min(self.day + timedelta(days=days), date(2026, 12, 31))

    # invariants -------------------------------------------------------------------------
    @invariant()
    def tree_invariants_hold(self) -> None:
        assert self.tree.violations() == []

    @invariant()
    def money_never_negative(self) -> None:
        for n in self.tree.nodes:
            assert not n.drawn.is_negative
            assert not n.reserved.is_negative
            assert not n.limit.is_negative

    @invariant()
    def terminal_nodes_hold_nothing_new(self) -> None:
        for n in self.tree.nodes:
            if n.status is FacilityStatus.CLOSED:
                assert n.utilisation.is_zero
