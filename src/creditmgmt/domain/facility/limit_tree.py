"""The limit tree: operations over facility nodes that keep the tree's invariants.

Drawn and reserved amounts roll up: a drawdown on a product node raises `drawn` on that node
and on every ancestor, so every node can be checked on its own and the store serialises
concurrent drawdowns through the version of every node on the path. A repayment or release
applies to the node the money was drawn or reserved on, so the roll-up
`drawn = own_drawn + Σ children's drawn` holds at every node.

Invariants (DOMAIN.md), enforced by `LimitTree`:
- drawn + reserved ≤ limit at every node (non-revolving nodes: cumulative drawn + reserved ≤
  limit, because repaying a non-revolving loan does not restore headroom);
- the sum of children's limits ≤ the parent's limit under a `group` node, and under a customer
  master node unless it sets `allow_overbooked_sublimits`;
- one currency per tree; money never negative;
- closed, cancelled and expired nodes are terminal. Expired nodes accept repayments of what was
  drawn before expiry (run-off) and nothing else; closed and cancelled accept nothing.

Every refused operation raises a named `DomainError` and leaves every node unchanged: all checks
run before the first mutation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from creditmgmt.domain.errors import (
    CurrencyMismatchError,
    DomainError,
    NegativeAmountError,
)
from creditmgmt.domain.facility.node import (
    _PARENT_LEVEL,
    AmountReleased,
    AmountReserved,
    DrawdownMade,
    Facility,
    FacilityNotActiveError,
    FacilityStatus,
    LimitChanged,
    PrincipalRepaid,
    TreeStructureError,
)
from creditmgmt.domain.ids import DrawdownId, FacilityId
from creditmgmt.domain.money import Money, check_positive
from creditmgmt.domain.text import NOTE_MAX, check_text

# LimitTree's movements write amounts they have just shown to be non-negative (a valid amount
# plus a positive one; a valid amount minus at most itself, checked before the first write),
# so they skip the attrs setattr hook that would re-run Facility's non-negative validator on
# every node.
_write_checked = object.__setattr__


# Errors --------------------------------------------------------------------------------------
class LimitExceededError(DomainError):
    """A drawdown or reservation exceeds the headroom of a node on its path."""

    default_message = "limit exceeded"


class SubLimitExceedsParentError(DomainError):
    """Children's limits would add up to more than their parent's limit."""

    default_message = "sub-limits exceed the parent limit"


class LimitBelowUtilisationError(DomainError):
    """A limit would be cut below what is already drawn and reserved."""

    default_message = "limit below utilisation"


class FacilityOutsideTermError(DomainError):
    """A drawdown before the start or after the maturity of the facility."""

    default_message = "outside the facility term"


class RepaymentExceedsDrawnError(DomainError):
    """A repayment or release larger than what is drawn or reserved."""

    default_message = "more than outstanding"


class LimitTree:
    """Operations that keep the limit-tree invariants over a set of loaded nodes.

    Give it the nodes an operation needs: the path root → node for movements; the complete
    tree (`complete=True`) for limit changes and attaching children, which must see every
    sibling. Nodes are mutated in place; nothing is mutated when an operation is refused.

    Raises:
        TreeStructureError: nodes that do not link up, several currencies' worth of roots, or
            an operation that needs a node that was not given.
    """

    def __init__(self, nodes: Iterable[Facility], *, complete: bool = False) -> None:
        self._nodes: dict[FacilityId, Facility] = {}
        for n in nodes:
            if n.id in self._nodes:
                raise TreeStructureError(f"facility {n.id} given twice")
            self._nodes[n.id] = n
        self.complete = complete
        currencies = {n.currency for n in self._nodes.values()}
        if len(currencies) > 1:
            raise CurrencyMismatchError(
                f"one limit tree holds one currency; got {', '.join(sorted(currencies))}"
            )
        if complete:
            for n in self._nodes.values():
                if n.parent_id is not None and n.parent_id not in self._nodes:
                    raise TreeStructureError(f"parent {n.parent_id} of facility {n.id} not given")

    @property
    def nodes(self) -> list[Facility]:
        return list(self._nodes.values())

    def node(self, facility_id: FacilityId) -> Facility:
        """The node with `facility_id`.

        Raises:
            TreeStructureError: it was not given to this tree.
        """
        try:
            return self._nodes[facility_id]
        except KeyError:
            raise TreeStructureError(f"facility {facility_id} is not in this tree") from None

    def path(self, facility_id: FacilityId) -> list[Facility]:
        """The nodes root → `facility_id`.

        Raises:
            TreeStructureError: an ancestor was not given (or the links form a cycle).
        """
        chain = [self.node(facility_id)]
        while chain[-1].parent_id is not None:
            parent_id = chain[-1].parent_id
            if parent_id not in self._nodes:
                raise TreeStructureError(
                    f"ancestor {parent_id} of facility {facility_id} was not given"
                )
            if len(chain) > len(self._nodes):
                raise TreeStructureError(f"the parent links above {facility_id} form a cycle")
            chain.append(self._nodes[parent_id])
        chain.reverse()
        return chain

    def children(self, facility_id: FacilityId) -> list[Facility]:
        """The direct children of a node.

        Raises:
            TreeStructureError: the tree was not built complete.
        """
        self._need_complete("list children")
        return [n for n in self._nodes.values() if n.parent_id == facility_id]

    def _need_complete(self, what: str) -> None:
        if not self.complete:
            raise TreeStructureError(f"to {what}, build the LimitTree from the complete tree")

    def _check_amount(self, amount: Money, what: str) -> None:
        check_positive(what, amount)
        currency = next(iter(self._nodes.values())).currency
        if amount.currency != currency:
            raise CurrencyMismatchError(
                f"{what} {amount} differs from the tree currency {currency} (convert it first)"
            )

    def _check_active_path(self, path: Sequence[Facility], what: str) -> None:
        for n in path:
            if n.status is not FacilityStatus.ACTIVE:
                raise FacilityNotActiveError(
                    f"cannot {what} on {path[-1].id}: facility {n.id} is {n.status.value}"
                )

    def _check_not_ended(self, path: Sequence[Facility], what: str) -> None:
        for n in path:
            if n.status in (FacilityStatus.CLOSED, FacilityStatus.CANCELLED):
                raise FacilityNotActiveError(
                    f"cannot {what} on {path[-1].id}: facility {n.id} is {n.status.value}"
                )

    def _check_term(self, path: Sequence[Facility], on: date, what: str) -> None:
        for n in path:
            if not n.is_within_term(on):
                raise FacilityOutsideTermError(
                    f"{what} on {on} on {path[-1].id} is outside the term of facility {n.id} "
                    f"({n.start_date} to {n.maturity_date})"
                )

    def _check_headroom(self, path: Sequence[Facility], amount: Money, what: str) -> None:
        # `amount` is positive (`_check_amount` ran first), so exceeding the headroom
        # `limit - used` is exceeding `available`, its floor at zero
        for n in path:
            if amount > n.limit - n.used:
                raise LimitExceededError(
                    f"{what} of {amount} on {path[-1].id} exceeds the headroom of facility {n.id}"
                    f" ({n.level.value}): limit {n.limit}, used {n.used}, available {n.available}"
                )

    def _path_taking(
        self, facility_id: FacilityId, amount: Money, on: date, verb: str, what: str
    ) -> list[Facility]:
        """The path root → node for a node that is to take `amount` more (drawn or reserved):
        a valid amount, every node on the path active, within its term and with headroom."""
        self._check_amount(amount, what)
        path = self.path(facility_id)
        self._check_active_path(path, verb)
        self._check_term(path, on, what)
        self._check_headroom(path, amount, what)
        return path

    # movements --------------------------------------------------------------------------------
    def draw(
        self,
        facility_id: FacilityId,
        amount: Money,
        *,
        on: date,
        drawdown_id: DrawdownId | None = None,
    ) -> None:
        """Draw `amount` on a node: every node on the path must be active, within its term
        (start ≤ `on` ≤ maturity) and have headroom.

        Raises:
            InvalidValueError, CurrencyMismatchError, FacilityNotActiveError,
            FacilityOutsideTermError, LimitExceededError, TreeStructureError.
        """
        path = self._path_taking(facility_id, amount, on, "draw", "drawdown")
        leaf = path[-1]
        for n in path:
            _write_checked(n, "drawn", n.drawn + amount)
            _write_checked(n, "cumulative_drawn", n.cumulative_drawn + amount)
        _write_checked(leaf, "own_drawn", leaf.own_drawn + amount)
        leaf._record(
            DrawdownMade(
                aggregate_id=str(leaf.id),
                amount=amount,
                on=on,
                drawdown_id=None if drawdown_id is None else str(drawdown_id),
            )
        )

    def repay(self, facility_id: FacilityId, principal: Money, *, on: date) -> None:
        """Reduce drawn on the path by repaid principal (revolving nodes regain headroom).

        Raises:
            InvalidValueError, CurrencyMismatchError, RepaymentExceedsDrawnError,
            FacilityNotActiveError (closed or cancelled nodes), TreeStructureError.
        """
        leaf = self._take_back(
            facility_id,
            principal,
            held="drawn",
            action="repay",
            what="repayment",
            hint=" (repay on the node that was drawn)",
        )
        leaf._record(PrincipalRepaid(aggregate_id=str(facility_id), amount=principal, on=on))

    def reserve(self, facility_id: FacilityId, amount: Money, *, on: date) -> None:
        """Earmark headroom (an approved but not yet drawn amount, a pending guarantee).

        Every node on the path must be active, within its term and have headroom.

        Raises:
            InvalidValueError, CurrencyMismatchError, FacilityNotActiveError,
            FacilityOutsideTermError, LimitExceededError, TreeStructureError.
        """
        path = self._path_taking(facility_id, amount, on, "reserve", "reservation")
        for n in path:
            _write_checked(n, "reserved", n.reserved + amount)
        _write_checked(path[-1], "own_reserved", path[-1].own_reserved + amount)
        path[-1]._record(AmountReserved(aggregate_id=str(facility_id), amount=amount, on=on))

    def release(self, facility_id: FacilityId, amount: Money, *, on: date) -> None:
        """Release a reservation (allowed on frozen, suspended and expired nodes too).

        Raises:
            InvalidValueError, CurrencyMismatchError, RepaymentExceedsDrawnError,
            FacilityNotActiveError (a closed or cancelled node on the path), TreeStructureError.
        """
        leaf = self._take_back(
            facility_id, amount, held="reserved", action="release", what="release"
        )
        leaf._record(AmountReleased(aggregate_id=str(facility_id), amount=amount, on=on))

    def _take_back(
        self,
        facility_id: FacilityId,
        amount: Money,
        *,
        held: str,
        action: str,
        what: str,
        hint: str = "",
    ) -> Facility:
        """Subtract `amount` from `held` ("drawn" or "reserved") on every node of the path to
        `facility_id` and from what is held directly (`own_drawn`, `own_reserved`) on that
        node, once the amount, the statuses and every node's holding are checked; returns the
        node.

        Raises:
            InvalidValueError, CurrencyMismatchError, TreeStructureError,
            FacilityNotActiveError: a closed or cancelled node on the path.
            RepaymentExceedsDrawnError: the node or one above it holds less (nothing is changed).
        """
        self._check_amount(amount, what)
        path = self.path(facility_id)
        self._check_not_ended(path, action)  # the status first: a closed node holds nothing
        own = f"own_{held}"
        held_here: Money = getattr(path[-1], own)
        if amount > held_here:
            raise RepaymentExceedsDrawnError(
                f"{what} of {amount} exceeds the {held_here} {held} directly on "
                f"facility {facility_id}{hint}"
            )
        for n in path:
            on_node: Money = getattr(n, held)
            if amount > on_node:
                raise RepaymentExceedsDrawnError(
                    f"{what} of {amount} exceeds {on_node} {held} on facility {n.id}"
                )
        for n in path:
            _write_checked(n, held, getattr(n, held) - amount)
        _write_checked(path[-1], own, held_here - amount)
        return path[-1]

    # structure --------------------------------------------------------------------------------
    def _check_children_fit(self, parent: Facility, children_limits: Money) -> None:
        if parent.enforces_children_within_limit and children_limits > parent.limit:
            raise SubLimitExceedsParentError(
                f"sub-limits under facility {parent.id} would total {children_limits}, "
                f"more than its limit {parent.limit}"
            )

    def _check_fits_under(self, parent: Facility, node: Facility, as_parent: str) -> None:
        """`node` may sit under `parent`: the parent is not terminal, the currencies match and
        the limits under the parent, `node`'s included, fit its limit."""
        if parent.status.is_terminal:
            raise TreeStructureError(f"parent {parent.id} is {parent.status.value}")
        if node.currency != parent.currency:
            raise CurrencyMismatchError(
                f"facility {node.id} is in {node.currency}, {as_parent} {parent.id} in "
                f"{parent.currency}"
            )
        siblings = Money.sum((c.limit for c in self.children(parent.id)), parent.currency)
        self._check_children_fit(parent, siblings + node.limit)

    def attach(self, child: Facility) -> None:
        """Add a new node under its parent (already in the tree).

        Raises:
            TreeStructureError: the tree is not complete, or the parent is unknown or terminal.
            CurrencyMismatchError, SubLimitExceedsParentError.
        """
        self._need_complete("attach a node")
        if child.id in self._nodes:
            raise TreeStructureError(f"facility {child.id} is already in the tree")
        if child.parent_id is None:
            raise TreeStructureError(f"facility {child.id} has no parent to attach to")
        parent = self.node(child.parent_id)
        if not child.utilisation.is_zero:
            raise TreeStructureError(f"facility {child.id} must be attached before any movement")
        self._check_fits_under(parent, child, "its parent")
        self._nodes[child.id] = child

    def adopt(self, subtree: Sequence[Facility], *, under: FacilityId) -> None:
        """Move an existing tree — its root first, e.g. a customer's master limit with its
        sub-limits — under a node of this tree (forming a group, 统一授信): the root gets its
        new parent, every node the parent's group, and what the subtree has drawn and
        reserved rolls up the new path.

        Raises:
            TreeStructureError: this tree is not complete; the subtree is empty, already here,
                or its root has a parent or a level that cannot sit under the parent's; the
                parent is unknown or terminal.
            CurrencyMismatchError, SubLimitExceedsParentError.
        """
        self._need_complete("adopt a tree")
        if not subtree:
            raise TreeStructureError("there is no tree to adopt")
        root = subtree[0]
        if any(n.id in self._nodes for n in subtree):
            raise TreeStructureError(f"facility {root.id} is already in the tree")
        if root.parent_id is not None:
            raise TreeStructureError(f"facility {root.id} already sits under {root.parent_id}")
        parent = self.node(under)
        if _PARENT_LEVEL.get(root.level) is not parent.level:
            raise TreeStructureError(
                f"a {root.level.value} node cannot sit under {parent.level.value} node {parent.id}"
            )
        self._check_fits_under(parent, root, "its new parent")
        path = self.path(parent.id)
        root.parent_id = parent.id
        if parent.group_id is not None:
            for n in subtree:
                n.group_id = parent.group_id
        for n in path:
            _write_checked(n, "drawn", n.drawn + root.drawn)
            _write_checked(n, "reserved", n.reserved + root.reserved)
            _write_checked(n, "cumulative_drawn", n.cumulative_drawn + root.cumulative_drawn)
        for n in subtree:
            self._nodes[n.id] = n

    def change_limit(
        self, facility_id: FacilityId, new_limit: Money, *, on: date, reason: str
    ) -> None:
        """Raise or cut a node's limit (额度调整).

        Raises:
            TreeStructureError: the tree is not complete.
            FacilityNotActiveError: the node is terminal.
            LimitBelowUtilisationError: below what is drawn and reserved.
            SubLimitExceedsParentError: its children would no longer fit, or it would no longer
                fit with its siblings under its parent.
            CurrencyMismatchError, NegativeAmountError.
        """
        self._need_complete("change a limit")
        check_text(reason, "reason", max_length=NOTE_MAX)
        node = self.node(facility_id)
        if new_limit.currency != node.currency:
            raise CurrencyMismatchError(
                f"new limit {new_limit} differs from the currency of facility {node.id}"
            )
        if new_limit.is_negative:
            raise NegativeAmountError(f"limit must not be negative, got {new_limit}")
        if node.status.is_terminal:
            raise FacilityNotActiveError(f"facility {node.id} is {node.status.value}")
        if new_limit < node.used:
            raise LimitBelowUtilisationError(
                f"new limit {new_limit} of facility {node.id} is below its use {node.used}"
            )
        children = Money.sum((c.limit for c in self.children(node.id)), node.currency)
        if node.enforces_children_within_limit and children > new_limit:
            raise SubLimitExceedsParentError(
                f"facility {node.id}: sub-limits total {children}, more than the new limit "
                f"{new_limit}"
            )
        if node.parent_id is not None:
            parent = self.node(node.parent_id)
            siblings = Money.sum(
                (c.limit for c in self.children(parent.id) if c.id != node.id), node.currency
            )
            self._check_children_fit(parent, siblings + new_limit)
        previous, node.limit = node.limit, new_limit
        node._record(
            LimitChanged(
                aggregate_id=str(node.id), previous=previous, limit=new_limit, on=on, reason=reason
            )
        )

    def violations(self) -> list[str]:
        """Every broken invariant, as readable lines (empty when the tree is sound)."""
        found: list[str] = []
        for n in self._nodes.values():
            if n.used > n.limit:
                found.append(f"{n.id}: used {n.used} > limit {n.limit}")
            if n.drawn > n.cumulative_drawn:
                found.append(f"{n.id}: drawn {n.drawn} > cumulative drawn {n.cumulative_drawn}")
            if self.complete:
                kids = self.children(n.id)
                drawn = Money.sum((k.drawn for k in kids), n.currency) + n.own_drawn
                reserved = Money.sum((k.reserved for k in kids), n.currency) + n.own_reserved
                if drawn != n.drawn or reserved != n.reserved:
                    found.append(
                        f"{n.id}: drawn {n.drawn} / reserved {n.reserved} do not roll up from its "
                        f"own movements and its children ({drawn} / {reserved})"
                    )
                if kids:
                    limits = Money.sum((k.limit for k in kids), n.currency)
                    if n.enforces_children_within_limit and limits > n.limit:
                        found.append(f"{n.id}: sub-limits {limits} > limit {n.limit}")
        return found
