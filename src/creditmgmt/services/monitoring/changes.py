"""The changes of one customer's daily monitoring: `apply` makes what `assess_customer` found
due (`CustomerOutcome`) on the aggregates of the unit of work, only where something moved —
new classification entries, risk events and tasks, concluded loans, expired and frozen
facilities — and says what it changed (`Applied`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import attrs

from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.ids import IdSource, TaskId, UserId
from creditmgmt.domain.interaction import FollowUpTask
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.ports.calendar import BusinessCalendar, WeekendCalendar
from creditmgmt.services.monitoring.assess import CustomerOutcome


@attrs.define
class Applied:
    """What `apply` changed for one customer (for the summary and the audit entry)."""

    touched: list[Any] = attrs.field(factory=list)
    changed_facilities: set[str] = attrs.field(factory=set)
    new_events: int = 0
    collections: int = 0
    reminders: int = 0
    reviews: int = 0
    classifications: int = 0

    def added(self, add: Callable[[Any], None], aggregate: Any) -> None:
        """Store a new aggregate (`add`) and count it touched."""
        add(aggregate)
        self.touched.append(aggregate)

    def moved(self, facility: Facility) -> None:
        """A facility whose state moved (expired, frozen)."""
        self.touched.append(facility)
        self.changed_facilities.add(str(facility.id))


_WEEKDAYS = WeekendCalendar()


def apply(
    outcome: CustomerOutcome,
    *,
    ids: IdSource,
    now: datetime,
    as_of: date,
    existing_tasks: set[TaskId],
    add: Callable[[Any], None],
    fresh: Callable[[Any], Any] = lambda read: read,
    calendar: BusinessCalendar | None = None,
) -> Applied:
    """Make the outcome's changes; `fresh` gives the writing unit's copy of an aggregate the
    run read (raising `ConflictError` when it moved), `add` stores a new aggregate. Review
    deadlines count the working days of `calendar` (Monday to Friday when None).

    Raises:
        CreditMgmtError: a change the domain refuses (nothing partial is kept: the caller
            discards the unit of work).
    """
    done = Applied()
    customer = outcome.customer
    if customer.monitoring != outcome.mark:
        fresh(customer).note_monitoring(outcome.mark)
        done.touched.append(customer)
    for lo in outcome.loans:
        if not lo.changed:
            continue
        loan = fresh(lo.loan)
        previous = loan.risk
        moved = previous is None or (
            previous.category,
            previous.stage,
            previous.provision,
        ) != (lo.risk.category, lo.risk.stage, lo.risk.provision)
        loan.conclude(lo.risk, observation_over=lo.observation_over)
        done.touched.append(loan)
        done.changed_facilities.add(str(lo.facility.id))
        if moved:
            entry = ClassificationEntry.decide(
                ids,
                customer_id=customer.id,
                facility_id=lo.facility.id,
                drawdown_id=lo.loan.id,
                as_of=as_of,
                category=lo.risk.category,
                previous_category=None if previous is None else previous.category,
                stage=lo.risk.stage,
                dpd=lo.dpd,
                provision=lo.risk.provision,
                ruleset_ref=outcome.ruleset_ref,
                reason="daily run",
            )
            done.added(add, entry)
            done.classifications += 1
    assignee = customer.relationship_manager or UserId("usr_system")
    for due in outcome.events:
        days = calendar or _WEEKDAYS
        event = RiskEvent.raise_(
            ids,
            type=due.trigger,
            severity=due.severity,
            customer_id=customer.id,
            detected_at=now,
            business_date=as_of,
            rule_ref=f"{outcome.ruleset_ref}/{due.trigger}",
            reason_code=due.reason,
            review_due=days.add_business_days(as_of, due.review_within)
            if due.review_within
            else None,
        )
        done.added(add, event)
        done.new_events += 1
        if event.review_due is not None:
            done.reviews += 1
    for task in outcome.tasks:
        if task.id in existing_tasks:
            continue
        existing_tasks.add(task.id)
        made = FollowUpTask.schedule(
            ids,
            customer_id=customer.id,
            title=task.title,
            due=task.due,
            assignee=assignee,
            reminder_lead_days=0,
            task_id=task.id,
        )
        done.added(add, made)
        if task.kind == "collections":
            done.collections += 1
        elif task.kind == "reminder":
            done.reminders += 1
        else:
            done.reviews += 1
    for read in outcome.expire:
        facility = fresh(read)
        facility.expire(on=as_of)
        done.moved(facility)
    expired = {f.id for f in outcome.expire}
    for read in outcome.freeze:
        if read.id in expired:
            continue
        facility = fresh(read)
        facility.freeze(on=as_of, reason="daily run: undrawn limits frozen")
        done.moved(facility)
    return done
