"""A comparable picture of everything a desk's store holds (for "a refusal writes nothing")."""

from __future__ import annotations

from typing import Any

from creditmgmt.services.desk import CreditDesk

REPOSITORIES = (
    "customers",
    "groups",
    "credit_files",
    "facilities",
    "drawdowns",
    "applications",
    "risk_events",
    "interactions",
    "tasks",
    "classifications",
)


def stored_state(desk: CreditDesk) -> dict[str, Any]:
    """Every aggregate (kind, id, version, state), every audit entry, the chain head and the
    outbox, as plain values."""
    with desk.store.unit_of_work() as uow:
        state: dict[str, Any] = {}
        for name in REPOSITORIES:
            repo = getattr(uow, name)
            state[name] = sorted(
                (str(a.id), a.version, repr(a)) for batch in repo.scan() for a in batch
            )
        state["audit"] = [(e.id, e.sequence, e.hash) for e in uow.audit.entries()]
        state["head"] = uow.audit.head()
    state["outbox"] = [(seq, type(e).__name__) for seq, e in desk.store.events(limit=100_000)]
    return state
