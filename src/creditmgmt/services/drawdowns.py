"""Money movements on facilities (用信): drawdowns, repayments, two-step reservations.

A drawdown checks, in one unit of work, every node on the path to the root (product,
customer master, group limit: status, term and headroom, by `LimitTree`) and the
concentration caps of the rule set for the customer and its group; then it books the loan.
Every movement takes an idempotency key: the same key again returns the first result and
moves nothing. `MovementCalls` holds the desk's calls.
"""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.facility import Facility, FacilityLevel, LimitTree
from creditmgmt.domain.ids import DrawdownId, FacilityId
from creditmgmt.domain.loan import (
    Allocation,
    AllocationLine,
    Drawdown,
    LoanStatus,
    OverpaymentError,
    Repayment,
)
from creditmgmt.domain.money import Money
from creditmgmt.domain.schedule import Amortisation, RepaymentSchedule
from creditmgmt.ports.calendar import Roll
from creditmgmt.ports.errors import DataError
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal
from creditmgmt.services.context import Context
from creditmgmt.services.core import Call, DeskCore, Keyed
from creditmgmt.services.decisions import decide
from creditmgmt.services.errors import ConcentrationCapError
from creditmgmt.services.exposure import concentration_inputs


def check_caps(call: Call, ctx: Context, path: list[Facility], amount: Money, on: date) -> None:
    """Refuse a movement that takes the customer or its group past a concentration cap.

    Raises:
        ConcentrationCapError: names the counterparty, the exposure after and the cap.
    """
    if ctx.capital is None:
        return
    rules = ctx.rules.as_of(on)
    for node in path:
        if node.level is FacilityLevel.PRODUCT:
            continue
        kind = "group" if node.level is FacilityLevel.GROUP else "customer"
        exposure = node.used + amount
        loans = (node.used if kind == "group" else node.drawn) + amount
        caps = decide(
            call, rules, "concentration", concentration_inputs(kind, exposure, loans, ctx.capital)
        )
        if caps.outputs["breach"]:
            who = node.group_id if kind == "group" else node.customer_id
            raise ConcentrationCapError(
                f"{call.name} {amount} on {path[-1].id} would take {kind} {who} to an exposure of "
                f"{exposure} (loans {loans}) against a cap of {caps.outputs['limit']} "
                f"{amount.currency} (headroom {caps.outputs['headroom']}; {rules.ref})"
            )


def _default_schedule(ctx: Context, leaf: Facility, amount: Money, on: date) -> RepaymentSchedule:
    span = relativedelta(leaf.maturity_date, on)
    months = max(1, span.years * 12 + span.months)
    return RepaymentSchedule.build(
        principal=amount,
        annual_rate=ctx.default_annual_rate,
        start=on,
        term_months=months,
        amortisation=Amortisation.BULLET,
        roll=lambda day: ctx.calendar.roll(day, Roll.MODIFIED_FOLLOWING),
    )


def allocation_to_json(allocation: Allocation) -> dict[str, object]:
    return {
        "currency": allocation.currency,
        "lines": [
            [
                line.sequence,
                str(line.fees.amount),
                str(line.interest.amount),
                str(line.principal.amount),
            ]
            for line in allocation.lines
        ],
    }


def allocation_from_json(data: dict[str, object]) -> Allocation:
    """The allocation `allocation_to_json` stored (a repeated repayment key's result).

    Raises:
        DataError: a stored result that is not such a document.
    """
    raw = data.get("lines") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise DataError(f"a stored allocation needs a list of lines, got {data!r}")
    currency = str(data["currency"])
    return Allocation(
        tuple(
            AllocationLine(
                int(seq),
                Money.of(fees, currency),
                Money.of(interest, currency),
                Money.of(principal, currency),
            )
            for seq, fees, interest, principal in raw
        ),
        currency,
    )


class MovementCalls(DeskCore):
    """Desk calls that move money on facilities; each takes an idempotency `key`."""

    def draw(
        self,
        by: Principal,
        facility_id: FacilityId,
        amount: Money,
        *,
        key: str,
        schedule: RepaymentSchedule | None = None,
    ) -> DrawdownId:
        """Draw `amount` on a facility and book the loan (bullet at the facility's maturity,
        rolled to a working day by the modified-following rule of the desk's calendar, unless
        a schedule for exactly `amount` starting today is given); a repeated `key` returns the
        first drawdown and moves nothing.

        Raises:
            PermissionDeniedError, LimitExceededError (names the node and amounts),
            ConcentrationCapError, FacilityNotActiveError (frozen, suspended, ...),
            FacilityOutsideTermError, IdempotencyKeyError, NotFoundError,
            CurrencyMismatchError, InvalidValueError (a group limit; a schedule for another
            amount or date).
        """
        return self._draw(by, facility_id, amount, key, schedule, reserved=False)

    def repay(
        self,
        by: Principal,
        facility_id: FacilityId,
        amount: Money,
        *,
        key: str,
        on: date | None = None,
    ) -> Allocation:
        """Apply a repayment (on `on`, today by default) to the facility's performing loans,
        oldest loan first (each loan: installments oldest first, fees then interest then
        principal); the principal repaid comes off drawn on the whole path (a revolving limit
        regains headroom). A repeated `key` returns the first allocation and moves nothing.

        Raises:
            PermissionDeniedError, OverpaymentError (more than everything owed on the
            facility), IdempotencyKeyError, NotFoundError, CurrencyMismatchError,
            FacilityNotActiveError (closed or cancelled path).
        """

        def work(uow: UnitOfWork, call: Call) -> Allocation:
            day = on or self._ctx.clock.today()
            path = uow.facilities.path_to_root(facility_id)
            loans = sorted(
                uow.drawdowns.find(facility_id=facility_id, status=LoanStatus.PERFORMING),
                key=lambda d: (d.drawn_on, d.id),
            )
            owed = Money.sum((d.total_owed for d in loans), amount.currency)
            if amount > owed or not amount.is_positive:
                raise OverpaymentError(
                    f"repayment {amount} on facility {facility_id} is not within the {owed} "
                    "owed on it"
                )
            remaining = amount
            lines: list[AllocationLine] = []
            for loan in loans:
                if remaining.is_zero:
                    break
                part = remaining.min(loan.total_owed)
                if part.is_zero:
                    continue
                allocation = loan.apply(Repayment(part, day, key))
                lines.extend(allocation.lines)
                remaining -= part
                call.touch(loan)
            result = Allocation(tuple(lines), amount.currency)
            if result.principal.is_positive:
                LimitTree(path).repay(facility_id, result.principal, on=day)
                call.touch(*path)
            call.note(amount=str(amount), principal=str(result.principal))
            return result

        return self._write(
            "repay",
            by,
            work,
            subject=f"facility:{facility_id}",
            keyed=Keyed(
                key,
                {"amount": str(amount), "on": None if on is None else on.isoformat()},
                allocation_to_json,
                allocation_from_json,
            ),
        )

    def reserve(self, by: Principal, facility_id: FacilityId, amount: Money, *, key: str) -> str:
        """Earmark headroom on the path (a pending drawdown or guarantee): step one of
        reserve → commit or release; returns the key.

        Raises:
            PermissionDeniedError, LimitExceededError, ConcentrationCapError,
            FacilityNotActiveError, FacilityOutsideTermError, IdempotencyKeyError,
            NotFoundError.
        """

        def work(uow: UnitOfWork, call: Call) -> str:
            on = self._ctx.clock.today()
            path = uow.facilities.path_to_root(facility_id)
            check_caps(call, self._ctx, path, amount, on)
            LimitTree(path).reserve(facility_id, amount, on=on)
            call.touch(*path)
            call.note(amount=str(amount))
            return key

        return self._write(
            "reserve",
            by,
            work,
            subject=f"facility:{facility_id}",
            keyed=Keyed(key, {"amount": str(amount)}, str, str),
        )

    def commit_reservation(
        self,
        by: Principal,
        facility_id: FacilityId,
        amount: Money,
        *,
        key: str,
        schedule: RepaymentSchedule | None = None,
    ) -> DrawdownId:
        """Turn a reservation into a drawdown in one unit of work (release, then draw).

        Raises:
            PermissionDeniedError, RepaymentExceedsDrawnError (more than reserved), and the
            refusals of `draw`.
        """
        return self._draw(by, facility_id, amount, key, schedule, reserved=True)

    def _draw(
        self,
        by: Principal,
        facility_id: FacilityId,
        amount: Money,
        key: str,
        schedule: RepaymentSchedule | None,
        *,
        reserved: bool,
    ) -> DrawdownId:
        """The keyed `draw` call of `draw` and `commit_reservation`: a `reserved` amount is a
        reservation of the same node being used, released first (and its key's request says
        so); then the path and the concentration caps are checked and the loan is booked."""
        request: dict[str, object] = {"amount": str(amount)}
        if reserved:
            request["reserved"] = True

        def work(uow: UnitOfWork, call: Call) -> DrawdownId:
            on = self._ctx.clock.today()
            path = uow.facilities.path_to_root(facility_id)
            leaf = path[-1]
            if leaf.customer_id is None:
                raise InvalidValueError(
                    f"facility {facility_id} is a group limit: draw on a member's"
                )
            booked = schedule
            if booked is None:
                booked = _default_schedule(self._ctx, leaf, amount, on)
            elif booked.principal != amount or booked.start != on:
                raise InvalidValueError(
                    f"the schedule is for {booked.principal} from {booked.start}; the drawdown "
                    f"is {amount} on {on}"
                )
            limits = LimitTree(path)
            if reserved:
                limits.release(facility_id, amount, on=on)
            check_caps(call, self._ctx, path, amount, on)
            loan = Drawdown.book(
                self._ctx.ids,
                facility_id=facility_id,
                customer_id=leaf.customer_id,
                schedule=booked,
            )
            limits.draw(facility_id, amount, on=on, drawdown_id=loan.id)
            uow.drawdowns.add(loan)
            call.touch(*path, loan)
            call.note(amount=str(amount))
            return loan.id

        return self._write(
            "draw",
            by,
            work,
            subject=f"facility:{facility_id}",
            keyed=Keyed(key, request, str, DrawdownId),
        )

    def release(self, by: Principal, facility_id: FacilityId, amount: Money, *, key: str) -> None:
        """Release a reservation.

        Raises:
            PermissionDeniedError, RepaymentExceedsDrawnError (more than reserved),
            FacilityNotActiveError, IdempotencyKeyError, NotFoundError.
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            path = uow.facilities.path_to_root(facility_id)
            LimitTree(path).release(facility_id, amount, on=self._ctx.clock.today())
            call.touch(*path)
            call.note(amount=str(amount))

        self._write(
            "release",
            by,
            work,
            subject=f"facility:{facility_id}",
            keyed=Keyed(key, {"amount": str(amount)}, lambda _: None, lambda _: None),
        )
