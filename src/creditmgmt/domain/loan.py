"""Drawn loans (借据): a schedule, what has been paid against it, and days past due.

Allocation of a repayment (还款冲销顺序), exactly: installments in due-date order (oldest
first); within an installment fees, then interest, then principal; a payment larger than
everything still owed on the whole schedule is refused (`OverpaymentError`) — prepayment is a
separate, explicit operation of the host's product, not a side effect.

Days past due (逾期天数) as of a business date: the days since the due date of the oldest
installment not fully paid whose due date is before the as-of date. On the due date itself the
installment is not yet past due (0); the day after, it is 1 day past due.

State is bounded by the schedule length (paid amounts per installment, not a growing list of
movements: each repayment is a `RepaymentReceived` event), so the daily run costs the same for
a loan with 10 or 1,000 repayments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

import attrs

from creditmgmt.domain.errors import DomainError, InvalidTransitionError
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import CustomerId, DrawdownId, FacilityId, IdSource
from creditmgmt.domain.loan_risk import LoanRisk
from creditmgmt.domain.money import Money, check_positive
from creditmgmt.domain.schedule import Installment, RepaymentSchedule
from creditmgmt.domain.text import CODE_MAX, REF_MAX, text


class OverpaymentError(DomainError):
    """A repayment exceeds everything still owed on the loan."""

    default_message = "repayment exceeds what is owed"


class LoanStatus(StrEnum):
    PERFORMING = "performing"
    SETTLED = "settled"
    WRITTEN_OFF = "written_off"


@attrs.frozen
class Repayment:
    """Money received from the borrower on a business date."""

    amount: Money
    received_on: date
    reference: str = attrs.field(default="", validator=text(REF_MAX))

    def __attrs_post_init__(self) -> None:
        check_positive("repayment amount", self.amount)


@attrs.frozen
class InstallmentPaid:
    """What has been paid so far against one installment."""

    fees: Money
    interest: Money
    principal: Money


@attrs.frozen
class AllocationLine:
    sequence: int
    fees: Money
    interest: Money
    principal: Money


@attrs.frozen
class Allocation:
    """How one repayment was applied, installment by installment."""

    lines: tuple[AllocationLine, ...]
    currency: str = attrs.field(validator=text(CODE_MAX))

    @property
    def fees(self) -> Money:
        return Money.sum((line.fees for line in self.lines), self.currency)

    @property
    def interest(self) -> Money:
        return Money.sum((line.interest for line in self.lines), self.currency)

    @property
    def principal(self) -> Money:
        return Money.sum((line.principal for line in self.lines), self.currency)

    @property
    def total(self) -> Money:
        return self.fees + self.interest + self.principal


@domain_event
class DrawdownBooked(DomainEvent):
    facility_id: str
    amount: Money
    on: date


@domain_event
class RepaymentReceived(DomainEvent):
    amount: Money
    on: date
    fees: Money
    interest: Money
    principal: Money
    reference: str


@domain_event
class LoanStatusChanged(DomainEvent):
    status: LoanStatus
    on: date


@domain_event
class LoanRestructured(DomainEvent):
    on: date


@attrs.define(kw_only=True)
class Drawdown(Aggregate):
    """A loan drawn under a facility. Book it with `Drawdown.book(...)`; record the limit
    movement with `LimitTree.draw` in the same unit of work."""

    id: DrawdownId
    facility_id: FacilityId
    customer_id: CustomerId
    amount: Money
    drawn_on: date
    schedule: RepaymentSchedule
    paid: tuple[InstallmentPaid, ...]
    status: LoanStatus = LoanStatus.PERFORMING
    last_payment_on: date | None = None
    #: the date the loan's terms were last adjusted (重组); None once observation is over
    restructured_on: date | None = None
    #: what the daily run last concluded (see `domain.loan_risk`); None before the first run
    risk: LoanRisk | None = None

    @classmethod
    def book(
        cls,
        ids: IdSource,
        *,
        facility_id: FacilityId,
        customer_id: CustomerId,
        schedule: RepaymentSchedule,
    ) -> Drawdown:
        """A new performing loan for the schedule's principal, drawn on its start date."""
        zero = Money.zero(schedule.principal.currency)
        loan = cls(
            id=DrawdownId.new(ids),
            facility_id=facility_id,
            customer_id=customer_id,
            amount=schedule.principal,
            drawn_on=schedule.start,
            schedule=schedule,
            paid=tuple(InstallmentPaid(zero, zero, zero) for _ in schedule.installments),
        )
        loan._record(
            DrawdownBooked(
                aggregate_id=str(loan.id),
                facility_id=str(facility_id),
                amount=loan.amount,
                on=loan.drawn_on,
            )
        )
        return loan

    @property
    def currency(self) -> str:
        return self.amount.currency

    # what is owed ------------------------------------------------------------------------
    def _owed(self, inst: Installment, paid: InstallmentPaid) -> tuple[Money, Money, Money]:
        return inst.fees - paid.fees, inst.interest - paid.interest, inst.principal - paid.principal

    def _is_settled_installment(self, inst: Installment, paid: InstallmentPaid) -> bool:
        # amounts of one currency compared directly (the daily run asks this of every loan)
        return (
            inst.principal.amount == paid.principal.amount
            and inst.interest.amount == paid.interest.amount
            and inst.fees.amount == paid.fees.amount
        )

    @property
    def outstanding_principal(self) -> Money:
        owed = sum(
            (
                i.principal.amount - p.principal.amount
                for i, p in zip(self.schedule.installments, self.paid, strict=True)
            ),
            Decimal(0),
        )
        return Money.of(owed, self.currency)

    @property
    def total_owed(self) -> Money:
        return Money.sum(
            (sum(self._owed(i, p), Money.zero(self.currency)) for i, p in self._pairs()),
            self.currency,
        )

    def _pairs(self) -> list[tuple[Installment, InstallmentPaid]]:
        return list(zip(self.schedule.installments, self.paid, strict=True))

    def arrears(self, as_of: date) -> Money:
        """Everything due before `as_of` and not yet paid."""
        return Money.sum(
            (
                sum(self._owed(i, p), Money.zero(self.currency))
                for i, p in self._pairs()
                if i.due_date < as_of
            ),
            self.currency,
        )

    def oldest_unpaid_due_date(self) -> date | None:
        for inst, paid in self._pairs():
            if not self._is_settled_installment(inst, paid):
                return inst.due_date
        return None

    def next_due_date(self, as_of: date) -> date | None:
        """The first due date on or after `as_of` of an installment not fully paid."""
        for inst, paid in self._pairs():
            if inst.due_date >= as_of and not self._is_settled_installment(inst, paid):
                return inst.due_date
        return None

    def dpd(self, as_of: date) -> int:
        """Days past due of the oldest unpaid installment as of `as_of` (0 when none is due).

        A written-off loan keeps counting: writing a debt off the books does not cure it.
        """
        oldest = self.oldest_unpaid_due_date()
        if oldest is None or oldest >= as_of:
            return 0
        return (as_of - oldest).days

    # movements ---------------------------------------------------------------------------
    def _ensure_performing(self) -> None:
        """Raises `InvalidTransitionError` once the loan is settled or written off."""
        if self.status is not LoanStatus.PERFORMING:
            raise InvalidTransitionError(f"loan {self.id} is {self.status.value}")

    def _end(self, status: LoanStatus, on: date) -> None:
        """Settled or written off on `on`: the status and its `LoanStatusChanged`."""
        self.status = status
        self._record(LoanStatusChanged(aggregate_id=str(self.id), status=status, on=on))

    def apply(self, repayment: Repayment) -> Allocation:
        """Allocate a repayment (see the module doc) and record `RepaymentReceived`.

        Raises:
            InvalidTransitionError: the loan is settled or written off.
            CurrencyMismatchError: a repayment in another currency.
            OverpaymentError: more than everything still owed (names the loan and amounts).
        """
        self._ensure_performing()
        remaining = repayment.amount
        owed = self.total_owed
        if remaining > owed:  # also checks the currency
            raise OverpaymentError(
                f"repayment {repayment.amount} on loan {self.id} exceeds the {owed} still owed"
            )
        new_paid: list[InstallmentPaid] = []
        lines: list[AllocationLine] = []
        for inst, paid in self._pairs():
            fees_due, interest_due, principal_due = self._owed(inst, paid)
            f = remaining.min(fees_due)
            remaining -= f
            i = remaining.min(interest_due)
            remaining -= i
            p = remaining.min(principal_due)
            remaining -= p
            new_paid.append(InstallmentPaid(paid.fees + f, paid.interest + i, paid.principal + p))
            if not (f + i + p).is_zero:
                lines.append(AllocationLine(inst.sequence, f, i, p))
        allocation = Allocation(tuple(lines), self.currency)
        self.paid = tuple(new_paid)
        self.last_payment_on = repayment.received_on
        self._record(
            RepaymentReceived(
                aggregate_id=str(self.id),
                amount=repayment.amount,
                on=repayment.received_on,
                fees=allocation.fees,
                interest=allocation.interest,
                principal=allocation.principal,
                reference=repayment.reference,
            )
        )
        if self.total_owed.is_zero:
            self._end(LoanStatus.SETTLED, repayment.received_on)
        return allocation

    def restructure(self, *, on: date) -> None:
        """Mark the loan restructured on `on`: the daily run keeps it at least special mention
        until its observation period (from the first due date after `on`) is complete.

        Raises:
            InvalidTransitionError: the loan is settled or written off.
        """
        self._ensure_performing()
        self.restructured_on = on
        if self.risk is not None:
            self.risk = attrs.evolve(self.risk, observation_start=None)
        self._record(LoanRestructured(aggregate_id=str(self.id), on=on))

    def conclude(self, risk: LoanRisk, *, observation_over: bool = False) -> None:
        """Keep the daily run's conclusion; `observation_over` ends the restructuring mark
        (the observation period is complete)."""
        if observation_over:
            self.restructured_on = None
        self.risk = risk

    def write_off(self, *, on: date) -> None:
        """Write the loan off (核销); terminal.

        Raises:
            InvalidTransitionError: settled or written off already.
        """
        self._ensure_performing()
        self._end(LoanStatus.WRITTEN_OFF, on)
