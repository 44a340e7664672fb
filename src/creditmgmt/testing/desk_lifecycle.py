"""A Hypothesis state machine of the credit process through the desk, on any store.

It onboards customers, takes applications through assess → approve → activate, draws,
repays, freezes, unfreezes and closes facilities and moves the business date, each through
`CreditDesk` — so it exercises the store underneath as a host application would. An
independent model predicts every call's outcome (accepted, or which refusal); after every
step it checks:

- no node over its limit, the group root within its limit (`LimitTree.violations()` empty);
- money conserved: each facility's drawn = its drawdowns − principal repaid (= the loans'
  outstanding principal) and equals the model's figure;
- DPD as the schedule says (0 before the first unpaid due date, days since it after);
- closed facilities stay closed and hold nothing;
- the audit chain verifies, with one entry per accepted call.

Run it on your own store in five lines:

    from creditmgmt.testing.desk import a_desk
    from creditmgmt.testing.desk_lifecycle import desk_machine

    TestMyStore = desk_machine(lambda clock: a_desk("sqlite:///book.db", clock=clock)).TestCase

The factory gets the machine's `FixedClock` and returns a fresh desk on an empty store
(each example needs its own: use a new file, schema or database per call).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from itertools import count

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.facility import (
    FacilityNotActiveError,
    FacilityOutsideTermError,
    LimitExceededError,
    LimitTree,
)
from creditmgmt.domain.ids import CustomerId, FacilityId
from creditmgmt.domain.loan import OverpaymentError
from creditmgmt.domain.money import Money
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.errors import IdempotencyKeyError
from creditmgmt.testing.desk import (
    ADMIN,
    ANALYST,
    APPROVER,
    DESK_AT,
    RISK,
    RM,
    a_desk,
    an_onboarded_customer,
)

DeskFactory = Callable[[FixedClock], CreditDesk]

_cents = st.integers(min_value=1, max_value=400_000).map(
    lambda c: Money.of(Decimal(c) / 100, "CNY")
)


class DeskLifecycle(RuleBasedStateMachine):
    """The machine; build a runnable subclass for a store with `desk_machine(factory)`."""

    make_desk: DeskFactory = staticmethod(lambda clock: a_desk(clock=clock))

    customers = Bundle("customers")
    facilities = Bundle("facilities")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FixedClock(DESK_AT)
        self.desk = type(self).make_desk(self.clock)
        self.serial = count(1)
        self.limit: dict[FacilityId, Money] = {}
        self.drawn: dict[FacilityId, Money] = {}
        self.status: dict[FacilityId, str] = {}
        self.accepted = 0
        self.tokens: dict[str, tuple[Money, object]] = {}
        self.audited_before = len(self.desk.audit_trail(ADMIN))

    def teardown(self) -> None:
        self.desk.close()

    # steps --------------------------------------------------------------------------------
    @rule(target=customers)
    def onboard(self) -> CustomerId:
        customer = an_onboarded_customer(self.desk, serial=next(self.serial))
        self.accepted += 3  # onboard and two statements
        return customer

    @rule(target=facilities, customer=customers, cents=st.integers(100_000, 2_000_000))
    def open_credit(self, customer: CustomerId, cents: int) -> FacilityId:
        amount = Money.of(Decimal(cents) / 100, "CNY")
        app = self.desk.submit_application(
            RM, customer_id=customer, product_type="working_capital", requested=amount,
            term_months=12, purpose="lifecycle", documents_required=(),
        )  # fmt: skip
        self.desk.assess(ANALYST, app, pd="0.004")
        self.desk.approve(APPROVER, app)
        try:
            facility = self.desk.activate(RM, app)
        except CreditMgmtError:
            # a second credit must fit under the customer's master limit: refused, else fine
            self.accepted += 3
            return FacilityId("fac_refused")
        self.accepted += 4
        self.limit[facility] = amount
        self.drawn[facility] = Money.zero("CNY")
        self.status[facility] = "active"
        return facility

    def _known(self, facility: FacilityId) -> bool:
        return facility in self.status

    @rule(facility=facilities, amount=_cents, key=st.integers(0, 5))
    def draw(self, facility: FacilityId, amount: Money, key: int) -> None:
        if not self._known(facility):
            return
        token = f"{facility}-{key}"
        if token in self.tokens:  # a key used before replays its first result, whatever now
            first_amount, first = self.tokens[token]
            before = self.desk.facility(RM, facility)
            if amount != first_amount:
                try:
                    self.desk.draw(RM, facility, amount, key=token)
                except IdempotencyKeyError:
                    pass
                else:
                    raise AssertionError(f"key {token} reused for {amount} was accepted")
            assert self.desk.draw(RM, facility, first_amount, key=token) == first
            assert self.desk.facility(RM, facility) == before
            return
        expect: type[CreditMgmtError] | None = None
        if self.status[facility] != "active":
            expect = FacilityNotActiveError
        elif self.clock.today() > self.desk.facility(RM, facility).maturity_date:
            expect = FacilityOutsideTermError
        elif amount > self.limit[facility] - self.drawn[facility]:
            expect = LimitExceededError
        if expect is None:
            self.tokens[token] = (amount, self.desk.draw(RM, facility, amount, key=token))
            self.drawn[facility] += amount
            self.accepted += 1
            # the same key at once again: the first result, and nothing moves
            after = self.desk.facility(RM, facility)
            assert self.desk.draw(RM, facility, amount, key=token) == self.tokens[token][1]
            assert self.desk.facility(RM, facility) == after
        else:
            try:
                self.desk.draw(RM, facility, amount, key=token)
            except expect:
                return
            raise AssertionError(f"draw of {amount} on {facility} should raise {expect.__name__}")

    @rule(facility=facilities, share=st.sampled_from([Decimal("0.1"), Decimal("0.5"), Decimal(1)]))
    def repay(self, facility: FacilityId, share: Decimal) -> None:
        if not self._known(facility) or self.status[facility] == "closed":
            return
        with self.desk.store.unit_of_work() as uow:
            owed = Money.sum(
                (d.total_owed for d in uow.drawdowns.find(facility_id=facility)), "CNY"
            )
        if owed.is_zero:
            try:
                self.desk.repay(RM, facility, Money.of("1.00", "CNY"), key=f"r-none-{facility}")
            except OverpaymentError:
                return
            raise AssertionError("a repayment on a facility that owes nothing was accepted")
        amount = (owed * share).max(Money.of("0.01", "CNY")).min(owed)
        allocation = self.desk.repay(RM, facility, amount, key=f"r-{next(self.serial)}")
        assert allocation.total == amount
        self.drawn[facility] -= allocation.principal
        self.accepted += 1

    @rule(facility=facilities)
    def freeze_or_unfreeze(self, facility: FacilityId) -> None:
        if not self._known(facility) or self.status[facility] == "closed":
            return
        if self.status[facility] == "active":
            self.desk.freeze(RISK, facility, reason="lifecycle")
            self.status[facility] = "frozen"
        else:
            self.desk.unfreeze(RISK, facility, reason="lifecycle")
            self.status[facility] = "active"
        self.accepted += 1

    @rule(facility=facilities)
    def close(self, facility: FacilityId) -> None:
        if not self._known(facility) or self.status[facility] == "closed":
            return
        if not self.drawn[facility].is_zero:
            try:
                self.desk.close(RISK, facility, reason="lifecycle")
            except CreditMgmtError:
                return
            raise AssertionError(f"{facility} closed with {self.drawn[facility]} drawn")
        self.desk.close(RISK, facility, reason="lifecycle")
        self.status[facility] = "closed"
        self.accepted += 1

    @precondition(lambda self: bool(self.status))
    @rule(days=st.sampled_from([1, 7, 31, 95]))
    def time_passes(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))

    # invariants -----------------------------------------------------------------------------
    @invariant()
    def trees_hold_and_money_is_conserved(self) -> None:
        today = self.clock.today()
        with self.desk.store.unit_of_work() as uow:
            for facility, drawn in self.drawn.items():
                path = uow.facilities.path_to_root(facility)
                tree = uow.facilities.tree(path[0].id)
                assert LimitTree(tree, complete=True).violations() == []
                node = next(n for n in tree if n.id == facility)
                loans = uow.drawdowns.find(facility_id=facility)
                outstanding = Money.sum((d.outstanding_principal for d in loans), "CNY")
                assert node.drawn == drawn == outstanding, (facility, node.drawn, drawn)
                assert node.status.value == self.status[facility]
                if self.status[facility] == "closed":
                    assert node.drawn.is_zero and node.reserved.is_zero
                for loan in loans:
                    oldest = loan.oldest_unpaid_due_date()
                    expected = 0 if oldest is None or oldest >= today else (today - oldest).days
                    assert loan.dpd(today) == expected

    @invariant()
    def the_audit_chain_verifies(self) -> None:
        result = self.desk.verify_audit()
        assert result.ok, result
        assert result.checked == self.audited_before + self.accepted


def desk_machine(factory: DeskFactory) -> type[DeskLifecycle]:
    """A `DeskLifecycle` whose every example runs on a fresh desk from `factory(clock)`;
    take `.TestCase` for pytest/unittest."""
    return type("DeskLifecycleOn", (DeskLifecycle,), {"make_desk": staticmethod(factory)})


__all__ = ["DeskFactory", "DeskLifecycle", "desk_machine"]
