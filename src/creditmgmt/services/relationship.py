"""Risk events in hand (acknowledge, resolve, escalate, watch list) and relationship work
(沟通记录: contacts, visits, reminders, complaints with a response deadline, surveys,
follow-up tasks) with a per-customer timeline."""

from __future__ import annotations

from datetime import date, datetime

import attrs

from creditmgmt.domain.choices import member
from creditmgmt.domain.ids import CustomerId, InteractionId, RiskEventId, TaskId, UserId
from creditmgmt.domain.interaction import Channel, FollowUpTask, Interaction, InteractionKind
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal
from creditmgmt.services.core import Call, DeskCore

#: Business days a complaint must be answered within [default].
COMPLAINT_RESPONSE_BUSINESS_DAYS = 5


@attrs.frozen
class TimelineItem:
    """One dated thing that happened to or is planned for a customer."""

    on: date
    kind: str  # interaction kind, "task", "risk_event", "application"
    id: str
    summary: str
    status: str = ""


class RelationshipCalls(DeskCore):
    """Desk calls of risk events in hand and relationship work."""

    # risk events --------------------------------------------------------------------------
    def acknowledge(self, by: Principal, risk_event_id: RiskEventId, *, note: str = "") -> None:
        """open → acknowledged (the note is kept with who and when).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError (not open).
        """
        self._risk("acknowledge", by, risk_event_id, note)

    def resolve(self, by: Principal, risk_event_id: RiskEventId, *, note: str) -> None:
        """acknowledged or escalated → resolved (the note is kept with who and when).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError (open or resolved),
            InvalidValueError (no note).
        """
        self._risk("resolve", by, risk_event_id, note)

    def escalate(self, by: Principal, risk_event_id: RiskEventId, *, note: str) -> None:
        """acknowledged → escalated (the note is kept with who and when).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError (not acknowledged),
            InvalidValueError (no note).
        """
        self._risk("escalate", by, risk_event_id, note)

    def _risk(self, action: str, by: Principal, event_id: RiskEventId, note: str) -> None:
        """The `action` call (acknowledge / resolve / escalate) on one risk event."""

        def work(uow: UnitOfWork, call: Call) -> None:
            event = uow.risk_events.get(event_id)
            getattr(event, action)(by=call.principal.user_id, at=self._ctx.clock.now(), note=note)
            call.touch(event)
            call.note(note=note)

        self._write(action, by, work, subject=f"risk_event:{event_id}")

    def watchlist(self, by: Principal, customer_id: CustomerId, *, reason: str) -> None:
        """Put a customer on the watch list (关注名单).

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError (not active).
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            customer = uow.customers.get(customer_id)
            customer.watchlist(on=self._ctx.clock.today(), reason=reason)
            call.touch(customer)
            call.note(reason=reason)

        self._write("watchlist", by, work, subject=f"customer:{customer_id}")

    # relationship work --------------------------------------------------------------------
    def log_interaction(
        self,
        by: Principal,
        customer_id: CustomerId,
        *,
        kind: InteractionKind | str,
        at: datetime,
        summary: str,
        channel: Channel | str = Channel.PHONE,
        survey_score: int | None = None,
        follow_up: date | None = None,
    ) -> InteractionId:
        """Log a contact, visit, reminder, complaint or survey. A complaint also gets a
        response task due within `COMPLAINT_RESPONSE_BUSINESS_DAYS`; `follow_up` schedules a
        follow-up task on that date.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidValueError (naive time, survey score
            outside 1..5, a kind or channel that does not exist).
        """

        def work(uow: UnitOfWork, call: Call) -> InteractionId:
            uow.customers.get(customer_id)
            item = Interaction.log(
                self._ctx.ids,
                customer_id=customer_id,
                kind=member(InteractionKind, kind, "kind"),
                channel=member(Channel, channel, "channel"),
                at=at,
                by=call.principal.user_id,
                summary=summary,
                survey_score=survey_score,
            )
            uow.interactions.add(item)
            call.touch(item)
            today = self._ctx.clock.today()
            if item.kind is InteractionKind.COMPLAINT:
                task = FollowUpTask.schedule(
                    self._ctx.ids,
                    customer_id=customer_id,
                    title=f"respond to complaint {item.id}",
                    due=self._ctx.calendar.add_business_days(
                        today, COMPLAINT_RESPONSE_BUSINESS_DAYS
                    ),
                    assignee=call.principal.user_id,
                )
                uow.tasks.add(task)
                call.touch(task)
            if follow_up is not None:
                task = FollowUpTask.schedule(
                    self._ctx.ids,
                    customer_id=customer_id,
                    title=f"follow up: {summary[:80]}",
                    due=follow_up,
                    assignee=call.principal.user_id,
                )
                uow.tasks.add(task)
                call.touch(task)
            return item.id

        return self._write("log_interaction", by, work, subject=f"customer:{customer_id}")

    def resolve_complaint(
        self, by: Principal, interaction_id: InteractionId, *, resolution: str
    ) -> None:
        """Answer a complaint and complete its response task.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError (not an open
            complaint).
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            item = uow.interactions.get(interaction_id)
            item.resolve_complaint(resolution)
            call.touch(item)
            title = f"respond to complaint {item.id}"
            for task in uow.tasks.find(customer_id=item.customer_id):
                if task.title == title and task.status.value == "open":
                    task.complete(on=self._ctx.clock.today())
                    call.touch(task)

        self._write("resolve_complaint", by, work, subject=f"interaction:{interaction_id}")

    def schedule_task(
        self,
        by: Principal,
        customer_id: CustomerId,
        *,
        title: str,
        due: date,
        assignee: UserId | str | None = None,
    ) -> TaskId:
        """Schedule a follow-up task (visit, call, document chase), assigned to `by` unless
        `assignee` is given.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidValueError.
        """

        def work(uow: UnitOfWork, call: Call) -> TaskId:
            uow.customers.get(customer_id)
            task = FollowUpTask.schedule(
                self._ctx.ids,
                customer_id=customer_id,
                title=title,
                due=due,
                assignee=call.principal.user_id if assignee is None else UserId(str(assignee)),
            )
            uow.tasks.add(task)
            call.touch(task)
            return task.id

        return self._write("schedule_task", by, work, subject=f"customer:{customer_id}")

    def complete_task(self, by: Principal, task_id: TaskId) -> None:
        """Complete a task.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError (already closed).
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            task = uow.tasks.get(task_id)
            task.complete(on=self._ctx.clock.today())
            call.touch(task)

        self._write("complete_task", by, work, subject=f"task:{task_id}")

    def timeline(self, by: Principal, customer_id: CustomerId) -> list[TimelineItem]:
        """The customer's interactions, tasks, risk events and applications, oldest first.

        Raises:
            PermissionDeniedError, NotFoundError (unknown customer).
        """

        def read(uow: UnitOfWork) -> list[TimelineItem]:
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

        return self._read("timeline", by, read, subject=f"customer:{customer_id}")


__all__ = ["COMPLAINT_RESPONSE_BUSINESS_DAYS", "RelationshipCalls", "TimelineItem"]
