"""What an incremental daily run (`run_daily(incremental=True)`) works from: the customers
whose records moved since the previous run, the quiet ones it counts by their marks, and
month-ends recorded on a quiet customer's mark without assessing it in full.

A quiet customer — its `MonitoringMark` decided under the run's rules and settings, its
`next_check` not come, none of its records moved — still needs the new month-end's
utilisation kept on its mark (the `utilisation_me1..3` early-warning inputs). That needs its
facilities and credit file, not its loans: with no loan moved and none due, every loan is
at 0 DPD and concludes as it did, so a full assessment could differ from the last one only
in the early warning. `record_month_end` works that out and says when the customer must be
assessed in full after all (a trigger fires that has no unresolved risk event of the
customer's yet, or one whose response freezes while a facility of the customer is not
frozen, or the collections block acts at 0 DPD); otherwise the new mark is the whole change
— a warning that keeps firing on a record that has not moved (a broken covenant, a
key-person change of this year) does not send the customer to a full assessment every
month-end. Tests compare incremental runs with full runs
across month-ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import attrs

from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.ids import CreditFileId, CustomerId, DrawdownId, FacilityId, RiskEventId
from creditmgmt.domain.loan_risk import MonitoringMark
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.ports.store import Store
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.monitoring.assess import (
    FREEZABLE,
    CustomerOutcome,
    Evaluators,
    WarningHistory,
    early_warning,
)
from creditmgmt.services.monitoring.signals import (
    month_end_on_or_before,
    month_ends,
    warning_inputs,
    warning_news,
)
from creditmgmt.services.monitoring.summary import Tally

#: Event modules whose aggregates name a customer, and what the run itself writes (ignored:
#: classification entries, tasks and new risk events change no later assessment).
_MOVES = {
    "creditmgmt.domain.loan": "drawdowns",
    "creditmgmt.domain.facility": "facilities",
    "creditmgmt.domain.credit_file": "credit_files",
    "creditmgmt.domain.risk": "risk_events",
    "creditmgmt.domain.customer": "customers",
}
_ID_TYPES: dict[str, type[Any]] = {
    "drawdowns": DrawdownId,
    "facilities": FacilityId,
    "credit_files": CreditFileId,
    "risk_events": RiskEventId,
}


def movements(
    store: Store, previous: int | None, *, incremental: bool
) -> tuple[int, set[str] | None]:
    """The outbox position now, and (incremental, after a previous run at outbox position
    `previous`) the customers whose records moved since — None: assess everyone."""
    after = previous or 0
    moved: dict[str, set[str]] = {}
    while True:
        page = store.events(after=after, limit=5000)
        if not page:
            break
        for sequence, event in page:
            repo = _MOVES.get(type(event).__module__)
            if repo is not None and event.event_type != "RiskEventRaised":
                moved.setdefault(repo, set()).add(event.aggregate_id)
            after = sequence
    if not incremental or previous is None:
        return after, None
    dirty = set(moved.get("customers", ()))
    with store.unit_of_work() as uow:
        for repo in ("drawdowns", "facilities", "credit_files", "risk_events"):
            ids = sorted(moved.get(repo, ()))
            for start in range(0, len(ids), 1000):
                found = getattr(uow, repo).get_many(
                    [_ID_TYPES[repo](i) for i in ids[start : start + 1000]]
                )
                dirty.update(str(a.customer_id) for a in found if a.customer_id is not None)
    return after, dirty


def quiet(customer: Customer, basis: str, as_of: date, dirty: set[str]) -> bool:
    """May an incremental run count the customer by its mark instead of assessing it?"""
    mark = customer.monitoring
    return (
        mark is not None
        and mark.basis == basis
        and (mark.next_check is None or mark.next_check > as_of)
        and str(customer.id) not in dirty
    )


def month_end_due(customer: Customer, as_of: date) -> bool:
    """Whether the customer's mark lacks the utilisation of the last month-end on or before
    `as_of` (a customer without a mark is assessed in full anyway)."""
    mark = customer.monitoring
    if mark is None:
        return False
    return not mark.month_ends or mark.month_ends[0].month_end < month_end_on_or_before(as_of)


def record_month_end(
    ev: Evaluators,
    customer: Customer,
    facilities: Sequence[Facility],
    file: CreditFile | None,
    as_of: date,
    history: WarningHistory | None = None,
) -> MonitoringMark | None:
    """A quiet customer's mark with the month-end's utilisation recorded, when that is all a
    full assessment would change; None when it must be assessed in full: a trigger fires
    that `history` (None: the customer has no risk events) has no unresolved or covering
    event for (`assess.early_warning`), or one whose response freezes undrawn
    limits while a facility is still freezable. The
    collections block must take no action at 0 DPD (`split_quiet` checks that once per
    batch).

    Raises:
        PolicyInputError, PolicyEvaluationError: a record the rules reject.
    """
    mark = customer.monitoring
    if mark is None or mark.basis != ev.basis:
        return None
    kept = month_ends(mark, facilities, as_of)
    inputs = warning_inputs(customer, file, 0, kept, ev.grades, as_of)
    warning = early_warning(
        ev,
        inputs,
        history or WarningHistory.of(customer, ()),
        lambda: warning_news(customer, file, ev.grades, as_of),
    )
    if warning.events or (warning.freeze and any(f.status in FREEZABLE for f in facilities)):
        return None  # a full assessment raises events or freezes what is not frozen yet
    return attrs.evolve(mark, month_ends=kept, fired=warning.fired)


def split_quiet(
    uow: UnitOfWork,
    ev: Evaluators,
    customers: list[Customer],
    as_of: date,
    dirty: set[str],
    tally: Tally,
) -> tuple[list[Customer], list[CustomerOutcome]]:
    """Of a batch's customers, those to assess in full, and the outcomes that only record a
    month-end on a quiet customer's mark; quiet customers are counted into `tally` by their
    (new) marks. Order is kept."""
    quiet_ids = {c.id for c in customers if quiet(c, ev.basis, as_of, dirty)}
    closing = [c for c in customers if c.id in quiet_ids and month_end_due(c, as_of)]
    closing_ids = {c.id for c in closing}
    marks = _month_end_marks(uow, ev, closing, as_of) if closing else {}
    full: list[Customer] = []
    outcomes: list[CustomerOutcome] = []
    for c in customers:
        mark = marks.get(c.id)
        if mark is not None:
            tally.marked(mark)
            outcomes.append(_mark_only(c, mark, ev.rules.ref))
        elif c.id in quiet_ids and c.id not in closing_ids:
            tally.marked(c.monitoring)  # type: ignore[arg-type]
        else:
            full.append(c)
    return full, outcomes


def _month_end_marks(
    uow: UnitOfWork, ev: Evaluators, closing: list[Customer], as_of: date
) -> dict[CustomerId, MonitoringMark]:
    """The new marks of the quiet customers whose month-end needs no full assessment."""
    if ev.collections({"dpd": 0}).outputs["action"] != "none":
        return {}  # every loan acts at 0 DPD: each customer is assessed in full
    ids = [c.id for c in closing]
    facilities: dict[CustomerId, list[Facility]] = {i: [] for i in ids}
    for f in uow.facilities.find(customer_ids=ids):
        if f.customer_id in facilities:
            facilities[f.customer_id].append(f)
    files = {f.customer_id: f for f in uow.credit_files.for_customers(ids)}
    events: dict[CustomerId, list[RiskEvent]] = {i: [] for i in ids}
    for e in uow.risk_events.find(customer_ids=ids):
        if e.customer_id in events:
            events[e.customer_id].append(e)
    marks: dict[CustomerId, MonitoringMark] = {}
    for c in closing:
        try:
            mark = record_month_end(
                ev, c, facilities[c.id], files.get(c.id), as_of, WarningHistory.of(c, events[c.id])
            )
        except CreditMgmtError:
            mark = None  # the full assessment reports it
        if mark is not None:
            marks[c.id] = mark
    return marks


def _mark_only(customer: Customer, mark: MonitoringMark, ruleset_ref: str) -> CustomerOutcome:
    """An outcome whose one change is the customer's mark (counted by the mark, so it adds
    no facility or loan of its own)."""
    return CustomerOutcome(
        customer=customer,
        facilities=0,
        loans=(),
        events=(),
        tasks=(),
        freeze=(),
        expire=(),
        ruleset_ref=ruleset_ref,
        mark=mark,
    )
