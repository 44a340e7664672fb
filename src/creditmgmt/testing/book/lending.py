"""Loans of the book: drawdowns within each node's limit, and how each borrower repays.

Behaviours: most borrowers pay on the due date (some a few days early, a few up to 4 days
late — a technical overdue); `late` borrowers pay some installments 3 to 75 days late and
then catch up everything due; `arrears` borrowers stop paying from a date chosen so that days
past due as of `as_of` range from 1 to more than 360 (a third of them pay part of the first
installment they miss); `restructured` borrowers stop on a working-capital loan, which is then
refinanced by a new loan (借新还旧), and a quarter of them stop paying again.
"""

from __future__ import annotations

import heapq
import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import attrs

from creditmgmt.domain.classification import Category, ClassificationEntry
from creditmgmt.domain.credit_file import FinancialStatement
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.facility import Facility, LimitTree
from creditmgmt.domain.ids import DrawdownId, IdSource, UserId
from creditmgmt.domain.loan import Drawdown, Repayment
from creditmgmt.domain.money import Money, Rate
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.schedule import Amortisation, Frequency, RepaymentSchedule
from creditmgmt.testing.book.spec import BookSpec

CREDIT_COMMITTEE = UserId("usr_credit_committee")
#: Who decided a restructuring: a committee, not a rule set.
RESTRUCTURING_REF = "manual:credit-committee"
GOOD, LATE, ARREARS, RESTRUCTURED = "good", "late", "arrears", "restructured"
#: Days-past-due targets of borrowers who stop paying: (weight, lowest, highest).
_STOP_TARGETS = ((30, 1, 30), (25, 31, 90), (30, 91, 360), (15, 361, 720))
_ZERO = Decimal(0)


@attrs.frozen
class LoanPlan:
    """One loan to draw on a product node."""

    amount: Money
    drawn_on: date
    term_months: int
    amortisation: Amortisation
    frequency: Frequency
    rate: Rate
    restructure: bool = False


class Borrower:
    """One customer being built, and how it pays."""

    __slots__ = (
        "behaviour",
        "customer",
        "history",
        "late_episodes",
        "master",
        "products",
        "restructure",
        "stop_on",
    )

    def __init__(self, customer: Customer, behaviour: str, history: list[FinancialStatement]):
        self.customer = customer
        self.behaviour = behaviour
        self.history = history
        self.master: Facility | None = None
        self.products: list[Facility] = []
        self.stop_on: date | None = None  # stops paying installments due from this date
        self.restructure: tuple[date, date, date] | None = None  # drawn, stops, restructured
        self.late_episodes: list[tuple[Facility, date, date]] = []  # node, due, paid


class Lending:
    """Drawdowns and repayments of a chunk's borrowers (mixed into the chunk builder)."""

    spec: BookSpec
    rng: random.Random
    ids: IdSource
    ccy: str
    as_of: date
    window_start: date
    loans: list[Drawdown]
    classifications: list[ClassificationEntry]
    restructured: list[DrawdownId]
    _seq: int

    def _history(self, b: Borrower, tree: LimitTree, tree_start: date) -> None:
        """Draw the borrower's loans and run its repayments in date order up to `as_of`."""
        rng, as_of = self.rng, self.as_of
        first_day = max(tree_start, self.window_start)
        last_day = as_of - timedelta(days=15)
        if b.behaviour == ARREARS:
            bucket = rng.choices(_STOP_TARGETS, weights=[t[0] for t in _STOP_TARGETS])[0]
            target = rng.randint(bucket[1], bucket[2])
            latest_possible = (as_of - first_day).days - 35
            b.stop_on = as_of - timedelta(days=max(1, min(target, latest_possible)))
            # its loans are drawn before it stops paying and still run when it does
            first_day = max(first_day, b.stop_on - timedelta(days=300))
            last_day = max(first_day, b.stop_on - timedelta(days=35))
        elif b.behaviour == RESTRUCTURED:
            room = (as_of - timedelta(days=20) - first_day).days
            g1, g2 = rng.randint(room // 6, room // 3), rng.randint(room // 6, room // 3)
            drawn = first_day + timedelta(days=rng.randint(0, room - g1 - g2))
            b.restructure = (drawn, drawn + timedelta(days=g1), drawn + timedelta(days=g1 + g2))
        heap: list[tuple[date, int, str, Any]] = []
        for node in b.products:
            for plan in self._loan_plans(b, node, first_day, last_day):
                self._push(heap, plan.drawn_on, "draw", node, plan)
        while heap:
            on, _, op, payload = heapq.heappop(heap)
            if op == "draw":
                node, plan = payload
                loan = self._book(b, tree, node, plan)
                if plan.restructure and b.restructure is not None:
                    self._plan_repayments(heap, b, node, loan, stop_on=b.restructure[1])
                    self._push(heap, b.restructure[2], "restructure", node, loan)
                else:
                    self._plan_repayments(heap, b, node, loan, stop_on=b.stop_on)
            elif op == "pay":
                node, loan, through, hold_back = payload
                assert isinstance(through, date)
                self._pay(tree, node, loan, on, through, hold_back)
            else:
                node, loan = payload
                self._restructure(heap, b, tree, node, loan, on)
        if b.behaviour == ARREARS and b.stop_on is not None:
            watch_on = b.stop_on + timedelta(days=31)
            if watch_on < as_of:
                b.customer.watchlist(on=watch_on, reason="more than 30 days past due")

    def _push(
        self,
        heap: list[tuple[date, int, str, Any]],
        on: date,
        op: str,
        *payload: Any,
    ) -> None:
        self._seq += 1
        heapq.heappush(heap, (on, self._seq, op, payload))

    def _loan_plans(
        self, b: Borrower, node: Facility, first_day: date, last_day: date
    ) -> list[LoanPlan]:
        """The loans drawn on a product node; their total stays within the node's limit, so
        they fit whatever the order of drawdowns and repayments."""
        rng = self.rng
        product = node.product_type
        budget = int(int(node.limit.amount) * rng.uniform(0.5, 0.95))
        plans: list[LoanPlan] = []
        if product is ProductType.WORKING_CAPITAL and b.restructure is not None:
            amount = int(budget * rng.uniform(0.4, 0.7)) // 1_000 * 1_000
            plans.append(
                LoanPlan(
                    Money.of(amount, self.ccy),
                    b.restructure[0],
                    12,
                    Amortisation.BULLET,
                    Frequency.MONTHLY,
                    self._rate(product),
                    restructure=True,
                )
            )
            budget -= amount
        count = rng.randint(1, 3) if product is not ProductType.TERM_LOAN else rng.choice((1, 1, 2))
        weights = [rng.uniform(0.5, 1.0) for _ in range(count)]
        for w in weights:
            amount = int(budget * w / sum(weights)) // 1_000 * 1_000
            if amount < 10_000:
                continue
            when = first_day + timedelta(days=rng.randint(0, max(0, (last_day - first_day).days)))
            if product is ProductType.TERM_LOAN:
                term = rng.choice((24, 36, 36, 60))
                amortisation = rng.choice((Amortisation.ANNUITY, Amortisation.EQUAL_PRINCIPAL))
                frequency = Frequency.QUARTERLY if rng.random() < 0.25 else Frequency.MONTHLY
            elif product is ProductType.TRADE_FINANCE:
                term, amortisation, frequency = 6, Amortisation.BULLET, Frequency.MONTHLY
            else:
                term = rng.choice((6, 12, 12, 12))
                amortisation = rng.choice((Amortisation.BULLET, Amortisation.EQUAL_PRINCIPAL))
                frequency = Frequency.MONTHLY
            if b.behaviour == ARREARS:
                term = max(term, 12)
            plans.append(
                LoanPlan(
                    Money.of(amount, self.ccy),
                    when,
                    term,
                    amortisation,
                    frequency,
                    self._rate(product),
                )
            )
        return plans

    def _rate(self, product: ProductType | None) -> Rate:
        base = 3.95 if product is ProductType.TERM_LOAN else 3.45  # 5-year / 1-year LPR
        spread = round(self.rng.uniform(0, 2.5) * 20) / 20
        return Rate.percent(f"{base + spread:.2f}")

    def _book(self, b: Borrower, tree: LimitTree, node: Facility, plan: LoanPlan) -> Drawdown:
        schedule = RepaymentSchedule.build(
            principal=plan.amount,
            annual_rate=plan.rate,
            start=plan.drawn_on,
            term_months=plan.term_months,
            amortisation=plan.amortisation,
            frequency=plan.frequency,
        )
        loan = Drawdown.book(
            self.ids, facility_id=node.id, customer_id=b.customer.id, schedule=schedule
        )
        tree.draw(node.id, plan.amount, on=plan.drawn_on, drawdown_id=loan.id)
        self.loans.append(loan)
        return loan

    def _plan_repayments(
        self,
        heap: list[tuple[date, int, str, Any]],
        b: Borrower,
        node: Facility,
        loan: Drawdown,
        *,
        stop_on: date | None,
    ) -> None:
        """Schedule the borrower's payments of `loan` made before `as_of`: on time (a few
        days early or late), late and then caught up (`late` borrowers), or none from
        `stop_on` on (a third of those who stop pay part of the first installment missed)."""
        rng, as_of = self.rng, self.as_of
        late = b.behaviour == LATE
        coalesce = not self.spec.keep_events
        pending: tuple[date, date] | None = None
        last_paid = loan.drawn_on
        installments = loan.schedule.installments
        i = 0
        while i < len(installments):
            due = installments[i].due_date
            if due >= as_of:
                break
            if stop_on is not None and due >= stop_on:
                if rng.random() < 0.3:
                    half = installments[i].total / 2
                    if pending is not None:
                        self._push(heap, pending[0], "pay", node, loan, pending[1], None)
                        pending = None
                    self._push(heap, max(due, last_paid), "pay", node, loan, due, half)
                break
            r = rng.random()
            if late and r < 0.3:
                delay = rng.randint(3, 75)
            elif r < 0.9:
                delay = 0
            elif r < 0.97:
                delay = -rng.randint(1, 3)
            else:
                delay = rng.randint(1, 4)  # a technical overdue
            pay_on = max(due + timedelta(days=delay), last_paid)
            if pay_on >= as_of:
                break  # not paid yet
            # a late payment catches up every installment due by then
            while i + 1 < len(installments) and installments[i + 1].due_date <= pay_on:
                i += 1
            through = installments[i].due_date
            if delay >= 8:
                b.late_episodes.append((node, due, pay_on))
            if coalesce:
                pending = (pay_on, through)
            else:
                self._push(heap, pay_on, "pay", node, loan, through, None)
            last_paid = pay_on
            i += 1
        if pending is not None:
            self._push(heap, pending[0], "pay", node, loan, pending[1], None)

    def _pay(
        self,
        tree: LimitTree,
        node: Facility,
        loan: Drawdown,
        on: date,
        through: date,
        hold_back: Money | None,
    ) -> None:
        """Pay everything due on `loan` up to `through` (less `hold_back`, a partial payment)."""
        # what `loan.arrears(through + 1 day)` gives, in plain Decimals (it runs once per
        # payment, and Money arithmetic over every installment dominated the generator)
        owed = _ZERO
        for inst, paid in zip(loan.schedule.installments, loan.paid, strict=True):
            if inst.due_date > through:
                break
            owed += (
                inst.principal.amount
                + inst.interest.amount
                + inst.fees.amount
                - paid.principal.amount
                - paid.interest.amount
                - paid.fees.amount
            )
        amount = Money(owed, loan.currency)
        if hold_back is not None:
            amount = amount - hold_back
        if not amount.is_positive:
            return
        allocation = loan.apply(Repayment(amount, on))
        if allocation.principal.is_positive:
            tree.repay(node.id, allocation.principal, on=on)

    def _restructure(
        self,
        heap: list[tuple[date, int, str, Any]],
        b: Borrower,
        tree: LimitTree,
        node: Facility,
        old: Drawdown,
        on: date,
    ) -> None:
        """借新还旧: the borrower pays the old loan's interest, its principal is refinanced by a
        new 24-month loan on the same (revolving) node, recorded as a special-mention
        classification; a quarter of restructured borrowers stop paying again."""
        dpd = old.dpd(on)
        principal = old.outstanding_principal
        schedule = RepaymentSchedule.build(
            principal=principal,
            annual_rate=Rate.of(old.schedule.annual_rate.value + Decimal("0.005")),
            start=on,
            term_months=24,
            amortisation=Amortisation.EQUAL_PRINCIPAL,
        )
        new = Drawdown.book(
            self.ids, facility_id=node.id, customer_id=b.customer.id, schedule=schedule
        )
        allocation = old.apply(
            Repayment(old.total_owed, on, reference=f"restructured into {new.id}")
        )
        tree.repay(node.id, allocation.principal, on=on)
        tree.draw(node.id, principal, on=on, drawdown_id=new.id)
        self.loans.append(new)
        self.restructured.append(new.id)
        self.classifications.append(
            ClassificationEntry.decide(
                self.ids,
                customer_id=b.customer.id,
                facility_id=node.id,
                drawdown_id=new.id,
                as_of=on,
                category=Category.SPECIAL_MENTION,
                ruleset_ref=RESTRUCTURING_REF,
                dpd=dpd,
                reason=f"restructured: refinances loan {old.id} ({dpd} days past due)",
                decided_by=CREDIT_COMMITTEE,
            )
        )
        stop_on = None
        if self.rng.random() < 0.25:
            k = min(self.rng.randint(2, 6), len(schedule.installments) - 1)
            stop_on = schedule.installments[k].due_date
        self._plan_repayments(heap, b, node, new, stop_on=stop_on)
