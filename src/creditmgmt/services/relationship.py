"""Risk events in hand (acknowledge, resolve, escalate, watch list) and relationship work
(沟通记录: contacts, visits, reminders, complaints with a response deadline, surveys,
follow-up tasks) with a per-customer timeline."""

from __future__ import annotations

from datetime import date, datetime

import attrs

from creditmgmt.domain.ids import CustomerId, InteractionId, RiskEventId, TaskId, UserId
from creditmgmt.domain.interaction import Channel, FollowUpTask, Interaction, InteractionKind
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.context import Context
from creditmgmt.services.core import Call

#: Business days a complaint must be answered within [default].
COMPLAINT_RESPONSE_BUSINESS_DAYS = 5


def handle_risk_event(
    uow: UnitOfWork, call: Call, ctx: Context, event_id: RiskEventId, *, action: str, note: str
) -> None:
    """acknowledge / resolve / escalate an event (a note is kept with who and when).

    Raises:
        NotFoundError, InvalidTransitionError (e.g. resolving a resolved event),
        InvalidValueError (resolve and escalate need a note).
    """
    event = uow.risk_events.get(event_id)
    getattr(event, action)(by=call.principal.user_id, at=ctx.clock.now(), note=note)
    call.touch(event)
    call.note(note=note)


def watchlist(
    uow: UnitOfWork, call: Call, ctx: Context, customer_id: CustomerId, *, reason: str
) -> None:
    """Put a customer on the watch list (关注名单). Raises `NotFoundError`,
    `InvalidTransitionError`."""
    customer = uow.customers.get(customer_id)
    customer.watchlist(on=ctx.clock.today(), reason=reason)
    call.touch(customer)
    call.note(reason=reason)


def log_interaction(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    customer_id: CustomerId,
    *,
    kind: InteractionKind | str,
    at: datetime,
    summary: str,
    channel: Channel | str = Channel.PHONE,
    survey_score: int | None = None,
    follow_up: date | None = None,
) -> InteractionId:
    """Log a contact. A complaint also gets a response task due within
    `COMPLAINT_RESPONSE_BUSINESS_DAYS`; `follow_up` schedules a follow-up task on that date.

    Raises:
        NotFoundError, InvalidValueError (naive time, survey score outside 1..5).
    """
    uow.customers.get(customer_id)
    item = Interaction.log(
        ctx.ids,
        customer_id=customer_id,
        kind=InteractionKind(kind),
        channel=Channel(channel),
        at=at,
        by=call.principal.user_id,
        summary=summary,
        survey_score=survey_score,
    )
    uow.interactions.add(item)
    call.touch(item)
    today = ctx.clock.today()
    if item.kind is InteractionKind.COMPLAINT:
        task = FollowUpTask.schedule(
            ctx.ids,
            customer_id=customer_id,
            title=f"respond to complaint {item.id}",
            due=ctx.calendar.add_business_days(today, COMPLAINT_RESPONSE_BUSINESS_DAYS),
            assignee=call.principal.user_id,
        )
        uow.tasks.add(task)
        call.touch(task)
    if follow_up is not None:
        task = FollowUpTask.schedule(
            ctx.ids,
            customer_id=customer_id,
            title=f"follow up: {summary[:80]}",
            due=follow_up,
            assignee=call.principal.user_id,
        )
        uow.tasks.add(task)
        call.touch(task)
    return item.id


def resolve_complaint(
    uow: UnitOfWork, call: Call, ctx: Context, interaction_id: InteractionId, *, resolution: str
) -> None:
    """Answer a complaint and complete its response task.

    Raises:
        NotFoundError, InvalidTransitionError (not an open complaint).
    """
    item = uow.interactions.get(interaction_id)
    item.resolve_complaint(resolution)
    call.touch(item)
    title = f"respond to complaint {item.id}"
    for task in uow.tasks.find(customer_id=item.customer_id):
        if task.title == title and task.status.value == "open":
            task.complete(on=ctx.clock.today())
            call.touch(task)


def schedule_task(
    uow: UnitOfWork,
    call: Call,
    ctx: Context,
    customer_id: CustomerId,
    *,
    title: str,
    due: date,
    assignee: UserId | str | None = None,
) -> TaskId:
    """Schedule a follow-up (visit, call, document chase). Raises `NotFoundError`,
    `InvalidValueError`."""
    uow.customers.get(customer_id)
    task = FollowUpTask.schedule(
        ctx.ids,
        customer_id=customer_id,
        title=title,
        due=due,
        assignee=call.principal.user_id if assignee is None else UserId(str(assignee)),
    )
    uow.tasks.add(task)
    call.touch(task)
    return task.id


def complete_task(uow: UnitOfWork, call: Call, ctx: Context, task_id: TaskId) -> None:
    """Raises `NotFoundError`, `InvalidTransitionError` (already closed)."""
    task = uow.tasks.get(task_id)
    task.complete(on=ctx.clock.today())
    call.touch(task)


@attrs.frozen
class TimelineItem:
    """One dated thing that happened to or is planned for a customer."""

    on: date
    kind: str  # interaction kind, "task", "risk_event", "application"
    id: str
    summary: str
    status: str = ""


def timeline(uow: UnitOfWork, customer_id: CustomerId) -> list[TimelineItem]:
    """Interactions, tasks, risk events and applications of a customer, oldest first.

    Raises:
        NotFoundError: unknown customer.
    """
    uow.customers.get(customer_id)
    items: list[TimelineItem] = []
    for i in uow.interactions.find(customer_id=customer_id):
        status = "" if i.complaint_status is None else i.complaint_status.value
        items.append(TimelineItem(i.at.date(), i.kind.value, str(i.id), i.summary, status))
    for t in uow.tasks.find(customer_id=customer_id):
        items.append(TimelineItem(t.due, "task", str(t.id), t.title, t.status.value))
    for e in uow.risk_events.find(customer_id=customer_id):
        items.append(
            TimelineItem(
                e.business_date,
                "risk_event",
                str(e.id),
                f"{e.severity.value} {e.reason_code}",
                e.status.value,
            )
        )
    for a in uow.applications.find(customer_id=customer_id):
        first = a.trail[0].at.date() if a.trail else date.min
        items.append(
            TimelineItem(
                first,
                "application",
                str(a.id),
                f"{a.request_kind.value} {a.product_type.value} {a.requested}",
                a.status.value,
            )
        )
    return sorted(items, key=lambda item: (item.on, item.kind, item.id))


__all__ = [
    "COMPLAINT_RESPONSE_BUSINESS_DAYS",
    "TimelineItem",
    "complete_task",
    "handle_risk_event",
    "log_interaction",
    "resolve_complaint",
    "schedule_task",
    "timeline",
    "watchlist",
]
