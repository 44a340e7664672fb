"""What a unit of work committed, watched for changes made after the commit.

A unit of work forgets its aggregates at commit (bounded memory), so a change made to one
afterwards would never be written. `Committed` keeps a weak reference to each aggregate a
commit wrote or loaded, with the document committed (and, when known, the `clone.snapshot`
it was encoded from, which makes the check cheap); `check_committed` raises
`ChangedAfterCommitError` for one still alive that changed. See `adapters.records.unit_of_work`.
"""

from __future__ import annotations

import weakref
from typing import Any

from creditmgmt.adapters.records import codec
from creditmgmt.domain.events import Aggregate
from creditmgmt.ports.errors import ChangedAfterCommitError


class Committed:
    """An aggregate a commit wrote or loaded (weakly held), and the document it committed."""

    __slots__ = ("document", "id", "kind", "ref", "state")

    def __init__(
        self,
        aggregate: Aggregate,
        kind: str,
        agg_id: str,
        document: Any,
        state: tuple[Any, ...] | None,
    ) -> None:
        self.ref = weakref.ref(aggregate)
        self.kind = kind
        self.id = agg_id
        self.document = document
        self.state = state  # the `clone.snapshot` the document was encoded from, if known

    def changed(self) -> bool | None:
        """Whether the aggregate changed since the commit (None: it is no longer alive)."""
        agg = self.ref()
        if agg is None:
            return None
        if agg.pending_events:
            return True
        if self.state is not None:  # only the fields that are not the very same object
            return codec.encode_changes(self.kind, agg, self.state, self.document) is not None
        return bool(codec.encode(self.kind, agg) != self.document)


def check_committed(committed: list[Committed]) -> list[Committed]:
    """The entries of `committed` still worth watching (those still alive).

    Raises:
        ChangedAfterCommitError: an aggregate changed since its commit (names kind and id).
    """
    alive: list[Committed] = []
    for c in committed:
        changed = c.changed()
        if changed:
            raise ChangedAfterCommitError(
                f"{c.kind} {c.id} was changed after the unit of work committed it; the change "
                "was not stored: load it again after commit() (or in a new unit) to change it"
            )
        if changed is not None:
            alive.append(c)
    return alive
