"""A comparable picture of everything a desk's store holds (for "a refusal writes nothing"),
and a watch on the daily run's full assessments."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.monitoring.assess import CustomerOutcome, Evaluators
from creditmgmt.services.monitoring.run import MonitoringCalls
from creditmgmt.services.monitoring.summary import Tally

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


@contextmanager
def assessments(desk: CreditDesk) -> Iterator[list[tuple[date, int]]]:
    """While the block runs, note each full assessment the daily run makes: `(as_of, number
    of customers)` per call of the desk's `_assess`, which is put back afterwards."""
    calls: list[tuple[date, int]] = []
    cls = type(desk)
    original = cls._assess

    def counting(
        self: MonitoringCalls,
        uow: UnitOfWork,
        ev: Evaluators,
        customers: list[Any],
        as_of: date,
        tally: Tally,
    ) -> list[CustomerOutcome]:
        calls.append((as_of, len(customers)))
        return original(self, uow, ev, customers, as_of, tally)

    cls._assess = counting  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        cls._assess = original  # type: ignore[method-assign]
