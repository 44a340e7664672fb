"""Domain events and the aggregate base class.

Aggregates record events as they change (`self._record(...)`); the unit of work collects them
at commit and writes them to the outbox in the same transaction. Events are frozen values that
name the aggregate and carry the business facts; the store adds the timestamp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, dataclass_transform

import attrs

from creditmgmt.domain.text import check_texts_of

if TYPE_CHECKING:
    from creditmgmt.domain.ids import EntityId


_E = TypeVar("_E", bound="DomainEvent")


@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(attrs.field,))
def domain_event(cls: type[_E]) -> type[_E]:
    """Declare a domain event: a frozen attrs class with keyword-only fields whose
    `event_type` tag is its class name.

    The tag is what stored documents carry, so renaming an event class renames its tag; a
    renamed class that must still read what was stored states its old tag itself
    (`event_type: ClassVar[str] = "OldName"`), which this leaves as it is.
    """
    if "event_type" not in cls.__dict__:
        cls.event_type = cls.__name__
    return attrs.frozen(kw_only=True)(cls)


@domain_event
class DomainEvent:
    """Base of every domain event. `aggregate_id` is the string id of the recording aggregate."""

    #: Stable, language-neutral event name used as the tag in stored documents.
    event_type: ClassVar[str] = "DomainEvent"

    aggregate_id: str

    if TYPE_CHECKING:
        #: what attrs gives every event class (`domain_event` declares it to the type checker
        #: as a dataclass transform, which does not say so)
        __attrs_attrs__: ClassVar[tuple[attrs.Attribute[Any], ...]]

    def __attrs_post_init__(self) -> None:
        # the backstop for text that reaches an event straight from an operation's argument
        # (a reason, a note): refused here, before anything can be committed
        names = _TEXT_FIELDS.get(type(self))
        if names is None:
            names = _TEXT_FIELDS[type(self)] = tuple(
                f.name for f in attrs.fields(type(self)) if "str" in str(f.type)
            )
        check_texts_of(self, names)


#: event class -> names of its text fields (worked out once per class)
_TEXT_FIELDS: dict[type, tuple[str, ...]] = {}


@attrs.define(kw_only=True)
class Aggregate:
    """Base of entities that are stored as a unit and carry `version` for optimistic locking.

    `version` is the version as loaded from the store (0 for a new, never-stored aggregate);
    the unit of work checks it at commit and bumps it. Recorded events are not part of the
    aggregate's state or equality.

    What a store uses of an aggregate is public: its `id` (every aggregate declares one, of
    its own `EntityId` type), `version`, `pending_events` (read at commit, left in place if
    the commit fails) and `pull_events()` (after a successful commit).
    """

    if TYPE_CHECKING:
        #: Declared by each aggregate as an attrs field of its own id type.
        id: EntityId

    version: int = attrs.field(default=0, eq=False)
    _pending_events: list[DomainEvent] = attrs.field(
        factory=list, init=False, repr=False, eq=False, alias="_pending_events"
    )

    def _record(self, event: DomainEvent) -> None:
        self._pending_events.append(event)

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """Events recorded since the aggregate was loaded or last collected."""
        return tuple(self._pending_events)

    def pull_events(self) -> list[DomainEvent]:
        """Return and clear the recorded events (called by the unit of work once a commit
        has stored them)."""
        events = self._pending_events
        # a plain list, no validator: skip the attrs setattr hook of the concrete aggregate
        object.__setattr__(self, "_pending_events", [])
        return events
