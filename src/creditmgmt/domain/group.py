"""Group customers (集团客户): customers linked by control, under one group limit (统一授信).

The group limit itself is the root node (level `group`) of the facility limit tree; the
group records its members and points at that root. The limit tree enforces that member
limits stay within the group limit.
"""

from __future__ import annotations

import attrs

from creditmgmt.domain.errors import DomainError, InvalidValueError
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import CustomerId, FacilityId, GroupId, IdSource
from creditmgmt.domain.text import NAME_MAX, NOTE_MAX, text


class GroupMembershipError(DomainError):
    """A member is added twice or removed though absent."""

    default_message = "group membership rule violated"


@domain_event
class GroupFormed(DomainEvent):
    name: str


@domain_event
class GroupMemberAdded(DomainEvent):
    customer_id: str


@domain_event
class GroupMemberRemoved(DomainEvent):
    customer_id: str


@attrs.define(kw_only=True)
class CustomerGroup(Aggregate):
    """A group of connected customers. Build with `CustomerGroup.form(...)`."""

    id: GroupId
    name: str = attrs.field(validator=text(NAME_MAX))
    # who controls the group (actual controller, 实际控制人)
    controller: str = attrs.field(default="", validator=text(NAME_MAX))
    members: tuple[CustomerId, ...] = ()
    limit_facility_id: FacilityId | None = None
    connected_party_notes: str = attrs.field(default="", validator=text(NOTE_MAX))

    @classmethod
    def form(cls, ids: IdSource, *, name: str, controller: str = "") -> CustomerGroup:
        """A new group without members.

        Raises:
            InvalidValueError: empty name.
        """
        if not name or not name.strip():
            raise InvalidValueError("group name must not be empty")
        group = cls(id=GroupId.new(ids), name=name.strip(), controller=controller)
        group._record(GroupFormed(aggregate_id=str(group.id), name=group.name))
        return group

    def add_member(self, customer_id: CustomerId) -> None:
        """Raises `GroupMembershipError` when the customer is already a member."""
        if customer_id in self.members:
            raise GroupMembershipError(f"customer {customer_id} is already in group {self.id}")
        self.members = (*self.members, customer_id)
        self._record(GroupMemberAdded(aggregate_id=str(self.id), customer_id=str(customer_id)))

    def remove_member(self, customer_id: CustomerId) -> None:
        """Raises `GroupMembershipError` when the customer is not a member."""
        if customer_id not in self.members:
            raise GroupMembershipError(f"customer {customer_id} is not in group {self.id}")
        self.members = tuple(m for m in self.members if m != customer_id)
        self._record(GroupMemberRemoved(aggregate_id=str(self.id), customer_id=str(customer_id)))

    def set_limit_facility(self, facility_id: FacilityId) -> None:
        """Point the group at the root node of its limit tree."""
        self.limit_facility_id = facility_id
