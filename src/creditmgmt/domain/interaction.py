"""Relationship work (客户维护): contact log, visits, reminders, complaints, surveys, follow-ups."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import attrs

from creditmgmt.domain.errors import InvalidTransitionError, InvalidValueError
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import CustomerId, IdSource, InteractionId, TaskId, UserId
from creditmgmt.domain.text import NAME_MAX, NOTE_MAX, check_text, text


class InteractionKind(StrEnum):
    CONTACT = "contact"
    VISIT = "visit"
    REMINDER = "reminder"
    COMPLAINT = "complaint"
    SURVEY = "survey"


class Channel(StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    EMAIL = "email"
    MESSAGE = "message"
    LETTER = "letter"
    BRANCH = "branch"


class ComplaintStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@domain_event
class InteractionLogged(DomainEvent):
    customer_id: str
    kind: InteractionKind


@domain_event
class ComplaintResolved(DomainEvent):
    resolution: str


@attrs.define(kw_only=True)
class Interaction(Aggregate):
    """One contact with a customer. Log with `Interaction.log(...)`."""

    id: InteractionId
    customer_id: CustomerId
    kind: InteractionKind
    channel: Channel
    at: datetime
    by: UserId
    summary: str = attrs.field(validator=text(NOTE_MAX))
    complaint_status: ComplaintStatus | None = None
    resolution: str = attrs.field(default="", validator=text(NOTE_MAX))
    survey_score: int | None = None

    @classmethod
    def log(
        cls,
        ids: IdSource,
        *,
        customer_id: CustomerId,
        kind: InteractionKind,
        channel: Channel,
        at: datetime,
        by: UserId,
        summary: str,
        survey_score: int | None = None,
    ) -> Interaction:
        """Raises `InvalidValueError`: naive timestamp, survey without a 1..5 score, a score
        on anything but a survey."""
        if at.tzinfo is None:
            raise InvalidValueError("interaction time must be timezone-aware")
        if kind is InteractionKind.SURVEY:
            if survey_score is None or not 1 <= survey_score <= 5:
                raise InvalidValueError(f"survey score must be 1..5, got {survey_score}")
        elif survey_score is not None:
            raise InvalidValueError("only a survey carries a score")
        item = cls(
            id=InteractionId.new(ids),
            customer_id=customer_id,
            kind=kind,
            channel=channel,
            at=at,
            by=by,
            summary=summary,
            complaint_status=ComplaintStatus.OPEN if kind is InteractionKind.COMPLAINT else None,
            survey_score=survey_score,
        )
        item._record(
            InteractionLogged(aggregate_id=str(item.id), customer_id=str(customer_id), kind=kind)
        )
        return item

    def resolve_complaint(self, resolution: str) -> None:
        """Raises `InvalidTransitionError` unless this is an open complaint."""
        if self.complaint_status is not ComplaintStatus.OPEN:
            raise InvalidTransitionError(f"interaction {self.id} is not an open complaint")
        check_text(resolution, "resolution", max_length=NOTE_MAX)
        self.complaint_status = ComplaintStatus.RESOLVED
        self.resolution = resolution
        self._record(ComplaintResolved(aggregate_id=str(self.id), resolution=resolution))


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


@domain_event
class TaskScheduled(DomainEvent):
    customer_id: str
    title: str
    due: date


@domain_event
class TaskClosed(DomainEvent):
    status: TaskStatus
    on: date


@attrs.define(kw_only=True)
class FollowUpTask(Aggregate):
    """A scheduled follow-up (visit, call, document chase, review) with a due date."""

    id: TaskId
    customer_id: CustomerId
    title: str = attrs.field(validator=text(NAME_MAX))
    due: date
    assignee: UserId
    status: TaskStatus = TaskStatus.OPEN
    reminder_lead_days: int = 3
    closed_on: date | None = None

    @classmethod
    def schedule(
        cls,
        ids: IdSource,
        *,
        customer_id: CustomerId,
        title: str,
        due: date,
        assignee: UserId,
        reminder_lead_days: int = 3,
        task_id: TaskId | None = None,
    ) -> FollowUpTask:
        """A new open task; `task_id` gives it an id derived by the caller (a job that must
        not schedule the same task twice), else a fresh one.

        Raises `InvalidValueError` for an empty title or negative lead days."""
        if not title.strip():
            raise InvalidValueError("a task needs a title")
        if reminder_lead_days < 0:
            raise InvalidValueError(f"reminder_lead_days must be >= 0, got {reminder_lead_days}")
        task = cls(
            id=task_id or TaskId.new(ids),
            customer_id=customer_id,
            title=title,
            due=due,
            assignee=assignee,
            reminder_lead_days=reminder_lead_days,
        )
        task._record(
            TaskScheduled(
                aggregate_id=str(task.id), customer_id=str(customer_id), title=title, due=due
            )
        )
        return task

    def _close(self, status: TaskStatus, on: date) -> None:
        if self.status is not TaskStatus.OPEN:
            raise InvalidTransitionError(f"task {self.id} is already {self.status.value}")
        self.status = status
        self.closed_on = on
        self._record(TaskClosed(aggregate_id=str(self.id), status=status, on=on))

    def complete(self, *, on: date) -> None:
        """Mark the task done.

        Raises:
            InvalidTransitionError: already done or cancelled.
        """
        self._close(TaskStatus.DONE, on)

    def cancel(self, *, on: date) -> None:
        """Cancel the task.

        Raises:
            InvalidTransitionError: already done or cancelled.
        """
        self._close(TaskStatus.CANCELLED, on)

    def reschedule(self, due: date) -> None:
        """Move the due date of an open task.

        Raises:
            InvalidTransitionError: done or cancelled.
        """
        if self.status is not TaskStatus.OPEN:
            raise InvalidTransitionError(f"task {self.id} is {self.status.value}")
        self.due = due

    def is_overdue(self, as_of: date) -> bool:
        return self.status is TaskStatus.OPEN and as_of > self.due

    def needs_reminder(self, as_of: date) -> bool:
        """Open and within the reminder lead time of its due date (or past it)."""
        return self.status is TaskStatus.OPEN and as_of >= self.due - timedelta(
            days=self.reminder_lead_days
        )
