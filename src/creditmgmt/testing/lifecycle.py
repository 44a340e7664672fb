"""A Hypothesis state machine of the facility limit tree, shipped for testers.

It drives a group tree (group limit → two customer master limits → two product sub-limits
each, the sub-limits running three months longer than their masters) through random valid *and* invalid operations: draw, repay, reserve, release, limit
changes, every status change (activate, freeze, unfreeze, suspend, resume, expire, close,
cancel), drawdowns in another currency and time passing beyond maturity.

Each operation is checked against an independent model of the rules in DOMAIN.md: the machine
predicts whether the operation must be accepted or refused, and

- an accepted operation must have been predicted valid and must change exactly what it says
  (a drawdown raises `drawn` by the amount on every node of the path, and nothing else);
- a refused operation must have been predicted invalid, must raise a `DomainError` and must
  leave every node — and every node's recorded events — exactly as it was;
- after every step the tree invariants hold (`LimitTree.violations()` is empty), no money is
  negative and closed or cancelled nodes hold nothing.

Use it as is:

    from creditmgmt.testing.lifecycle import FacilityLifecycle
    TestFacilityLifecycle = FacilityLifecycle.TestCase

or subclass it and add rules that call your own services around the same tree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from creditmgmt.domain.errors import DomainError
from creditmgmt.domain.facility import Facility, FacilityStatus
from creditmgmt.domain.ids import FacilityId
from creditmgmt.domain.money import Money
from creditmgmt.testing.builders import SequentialIds, a_facility_tree

_S = FacilityStatus
_amounts = st.one_of(
    st.decimals(min_value=Decimal("-100"), max_value=Decimal("12000000"), places=2),
    st.sampled_from([Decimal("0"), Decimal("0.01"), Decimal("1000000"), Decimal("2000000")]),
)
_NODE = st.integers(0, 6)

#: status action → the statuses it may start from, and where it goes (DOMAIN.md lifecycle).
STATUS_RULES: dict[str, tuple[frozenset[FacilityStatus], FacilityStatus]] = {
    "activate": (frozenset({_S.APPROVED}), _S.ACTIVE),
    "freeze": (frozenset({_S.ACTIVE, _S.SUSPENDED}), _S.FROZEN),
    "unfreeze": (frozenset({_S.FROZEN}), _S.ACTIVE),
    "suspend": (frozenset({_S.ACTIVE}), _S.SUSPENDED),
    "resume": (frozenset({_S.SUSPENDED}), _S.ACTIVE),
    "expire": (frozenset({_S.ACTIVE, _S.FROZEN, _S.SUSPENDED}), _S.EXPIRED),
    "close": (frozenset({_S.ACTIVE, _S.FROZEN, _S.SUSPENDED}), _S.CLOSED),
    "cancel": (frozenset({_S.APPROVED, _S.ACTIVE, _S.FROZEN, _S.SUSPENDED}), _S.CANCELLED),
}

Snapshot = list[tuple[object, ...]]


class _Move(Protocol):
    """`LimitTree.draw`, `reserve`, `repay` or `release`."""

    def __call__(self, facility_id: FacilityId, amount: Money, /, *, on: date) -> None: ...


def _snapshot(nodes: Sequence[Facility]) -> Snapshot:
    return [
        (
            n.id,
            n.status,
            n.limit,
            n.drawn,
            n.reserved,
            n.cumulative_drawn,
            n.own_drawn,
            n.own_reserved,
            len(n.pending_events),
        )
        for n in nodes
    ]


class FacilityLifecycle(RuleBasedStateMachine):
    """Random operations on one limit tree, checked against a model of the rules."""

    #: Where time stops: after the sub-limits' maturity, so expiry and run-off happen.
    horizon_days = 500

    def __init__(self) -> None:
        super().__init__()
        # sub-limits outlive their masters by three months: the term of every node counts
        self.build = a_facility_tree(SequentialIds(), product_term_months=15)
        self.tree = self.build.limits
        self.start = self.build.root.start_date
        self.day = self.start
        self.currency = self.build.root.currency
        self.refused = 0
        self.accepted = 0

    # the model ---------------------------------------------------------------------------
    def _money(self, amount: Decimal) -> Money:
        return Money(amount, self.currency)

    def _node(self, index: int) -> Facility:
        all_nodes = self.build.nodes
        return all_nodes[index % len(all_nodes)]

    def _path(self, node: Facility) -> list[Facility]:
        return self.tree.path(node.id)

    def _children(self, node: Facility) -> list[Facility]:
        return [n for n in self.build.nodes if n.parent_id == node.id]

    def _movable(self, node: Facility, amount: Decimal, day: date) -> bool:
        """May `amount` be drawn or reserved on `node` on `day`?"""
        money = self._money(amount)
        return money.is_positive and all(
            n.status is _S.ACTIVE
            and n.start_date <= day <= n.maturity_date
            and money <= n.available
            for n in self._path(node)
        )

    def _not_ended(self, node: Facility) -> bool:
        return all(n.status not in (_S.CLOSED, _S.CANCELLED) for n in self._path(node))

    def _limit_change_ok(self, node: Facility, amount: Decimal) -> bool:
        new = self._money(amount)
        if new.is_negative or node.status.is_terminal or new < node.used:
            return False
        kids = Money.sum((k.limit for k in self._children(node)), self.currency)
        if node.enforces_children_within_limit and kids > new:
            return False
        if node.parent_id is not None:
            parent = self.tree.node(node.parent_id)
            siblings = Money.sum(
                (k.limit for k in self._children(parent) if k.id != node.id), self.currency
            )
            if parent.enforces_children_within_limit and siblings + new > parent.limit:
                return False
        return True

    def _status_ok(self, node: Facility, action: str) -> bool:
        sources, _ = STATUS_RULES[action]
        if node.status not in sources:
            return False
        if action in ("close", "cancel") and not node.utilisation.is_zero:
            return False
        if action == "expire" and self.day < node.maturity_date:
            return False
        return not (action == "activate" and self.day > node.maturity_date)

    # checking ----------------------------------------------------------------------------
    def _attempt(
        self,
        operation: Callable[[], None],
        *,
        valid: bool,
        expect: Callable[[Snapshot], Snapshot] | None = None,
    ) -> None:
        """Run `operation`; it must succeed iff `valid`, with the effect `expect` predicts."""
        before = _snapshot(self.tree.nodes)
        try:
            operation()
        except DomainError as refusal:
            self.refused += 1
            if valid:
                raise AssertionError(f"a valid operation was refused: {refusal}") from refusal
            assert _snapshot(self.tree.nodes) == before, "a refused operation changed the tree"
        else:
            self.accepted += 1
            assert valid, "an invalid operation was accepted"
            if expect is not None:
                assert _snapshot(self.tree.nodes) == expect(before)

    def _moved(self, path: Sequence[Facility], **deltas: Money) -> Callable[[Snapshot], Snapshot]:
        """The snapshot after adding `deltas` to fields of the path's nodes (own_* on the leaf)."""
        fields = ("drawn", "reserved", "cumulative_drawn", "own_drawn", "own_reserved")
        on_path = {n.id for n in path}
        leaf = path[-1].id

        def apply(before: Snapshot) -> Snapshot:
            after: Snapshot = []
            for row in before:
                values = list(row)
                if row[0] in on_path:
                    for i, name in enumerate(fields, start=3):
                        if name in deltas and (not name.startswith("own_") or row[0] == leaf):
                            values[i] = values[i] + deltas[name]  # type: ignore[operator]
                    if row[0] == leaf:
                        values[8] = values[8] + 1  # type: ignore[operator]  # one event, on the leaf
                after.append(tuple(values))
            return after

        return apply

    def _put(self, index: int, amount: Decimal, move: _Move, *held: str) -> None:
        """Draw or reserve: allowed where the node may move; adds to the `held` fields."""
        node = self._node(index)
        valid = self._movable(node, amount, self.day)
        money = self._money(amount)
        self._attempt(
            lambda: move(node.id, money, on=self.day),
            valid=valid,
            expect=self._moved(self._path(node), **dict.fromkeys(held, money)) if valid else None,
        )

    def _take_back(self, index: int, amount: Decimal, move: _Move, held: str) -> None:
        """Repay or release: allowed up to what the node holds itself (`own_<held>`), on a
        node not ended; takes it off `held` on the path."""
        node = self._node(index)
        money = self._money(amount)
        own = f"own_{held}"
        valid = money.is_positive and money <= getattr(node, own) and self._not_ended(node)
        self._attempt(
            lambda: move(node.id, money, on=self.day),
            valid=valid,
            expect=self._moved(self._path(node), **{held: -money, own: -money}) if valid else None,
        )

    # rules -------------------------------------------------------------------------------
    @rule(index=_NODE, amount=_amounts)
    def draw(self, index: int, amount: Decimal) -> None:
        self._put(index, amount, self.tree.draw, "drawn", "cumulative_drawn", "own_drawn")

    @rule(index=_NODE, amount=_amounts)
    def repay(self, index: int, amount: Decimal) -> None:
        self._take_back(index, amount, self.tree.repay, "drawn")

    @rule(index=_NODE)
    def repay_everything_drawn_here(self, index: int) -> None:
        node = self._node(index)
        if node.own_drawn.is_positive:
            self.repay(index, node.own_drawn.amount)

    @rule(index=_NODE, amount=_amounts)
    def reserve(self, index: int, amount: Decimal) -> None:
        self._put(index, amount, self.tree.reserve, "reserved", "own_reserved")

    @rule(index=_NODE, amount=_amounts)
    def release(self, index: int, amount: Decimal) -> None:
        self._take_back(index, amount, self.tree.release, "reserved")

    @rule(index=_NODE, amount=_amounts)
    def change_limit(self, index: int, amount: Decimal) -> None:
        node = self._node(index)
        valid = self._limit_change_ok(node, amount)
        self._attempt(
            lambda: self.tree.change_limit(node.id, self._money(amount), on=self.day, reason="t"),
            valid=valid,
        )
        if valid:
            assert node.limit == self._money(amount)

    @rule(index=_NODE, action=st.sampled_from(sorted(STATUS_RULES)))
    def change_status(self, index: int, action: str) -> None:
        node = self._node(index)
        valid = self._status_ok(node, action)
        if action in ("activate", "expire"):
            self._attempt(lambda: getattr(node, action)(on=self.day), valid=valid)
        else:
            self._attempt(lambda: getattr(node, action)(on=self.day, reason="t"), valid=valid)
        if valid:
            assert node.status is STATUS_RULES[action][1]

    @rule(index=_NODE)
    def draw_in_another_currency(self, index: int) -> None:
        node = self._node(index)
        other = "USD" if self.currency != "USD" else "EUR"
        self._attempt(
            lambda: self.tree.draw(node.id, Money.of("1.00", other), on=self.day), valid=False
        )

    @rule(index=_NODE, offset=st.integers(-30, 500), amount=_amounts)
    def draw_on_another_day(self, index: int, offset: int, amount: Decimal) -> None:
        """A drawdown dated anywhere from before the start to after every maturity."""
        node = self._node(index)
        day = self.start + timedelta(days=offset)
        valid = self._movable(node, amount, day)
        money = self._money(amount)
        self._attempt(
            lambda: self.tree.draw(node.id, money, on=day),
            valid=valid,
            expect=self._moved(
                self._path(node), drawn=money, cumulative_drawn=money, own_drawn=money
            )
            if valid
            else None,
        )

    @rule(days=st.integers(1, 60))
    def time_passes(self, days: int) -> None:
        self.day = min(self.day + timedelta(days=days), self.start + timedelta(self.horizon_days))

    # invariants --------------------------------------------------------------------------
    @invariant()
    def tree_invariants_hold(self) -> None:
        assert self.tree.violations() == []

    @invariant()
    def money_never_negative(self) -> None:
        for n in self.tree.nodes:
            for amount in (n.limit, n.drawn, n.reserved, n.own_drawn, n.own_reserved):
                assert not amount.is_negative

    @invariant()
    def ended_nodes_hold_nothing(self) -> None:
        for n in self.tree.nodes:
            if n.status in (_S.CLOSED, _S.CANCELLED):
                assert n.utilisation.is_zero
