"""The daily monitoring run (`CreditDesk.run_daily`): the book in bounded batches, one
unit of work per batch, a resumable run log in the audit trail.

Customers are read in id order, `batch_size` at a time, each batch in its own unit of work:
its customers' facilities, performing loans, risk events and credit files are read with one
query per kind, every customer is assessed (`assess.assess_customer`), the changes are made,
and an audit entry `run_daily_batch` on subject `run:<as_of>:<i>/<n>` — holding the batch's
last customer id and its tally — is committed with them. A run that dies resumes after the
last committed batch and adds up to the same summary; a finished run (its `run_daily`
entry exists) is answered from its log, writing nothing. A customer whose records cannot be
assessed is reported in the tally's errors and left untouched; the rest of the batch goes on.

`partition=(i, n)` runs the customers whose `partition_key` (the group, else the customer)
hashes to i: n runs, in any processes or machines, cover the book exactly once.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import attrs

from creditmgmt._gcpause import gc_paused
from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.facility import FacilityLevel, FacilityStatus
from creditmgmt.domain.ids import CustomerId, TaskId
from creditmgmt.domain.interaction import FollowUpTask
from creditmgmt.domain.loan import LoanStatus
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.ports.audit import AuditEntry
from creditmgmt.ports.errors import ConfigurationError, ConflictError
from creditmgmt.ports.slices import PortfolioSlice
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import SYSTEM, Principal
from creditmgmt.services.core import DeskCore, customers_after, subject_of
from creditmgmt.services.monitoring.assess import (
    CustomerOutcome,
    Evaluators,
    RunSettings,
    assess_customer,
)
from creditmgmt.services.monitoring.changes import Applied, apply
from creditmgmt.services.monitoring.incremental import movements, split_quiet
from creditmgmt.services.monitoring.summary import (
    DailyRunSummary,
    RunError,
    Tally,
    partition_key,
    run_subject,
)
from creditmgmt.services.retry import retry_on_conflict

BATCH_ACTION = "run_daily_batch"
DONE_ACTION = "run_daily"


@attrs.frozen(kw_only=True)
class BatchDone:
    """Progress report after each committed batch (for progress bars and fault tests)."""

    batch: int
    customers: int
    last_customer: str
    tally: Tally


@attrs.frozen(kw_only=True)
class RunLog:
    """A run's log, read back from its audit entries."""

    subject: str
    started: str | None
    finished: str | None
    batches: int
    tally: Tally
    ruleset_ref: str | None


class _Skip(Exception):
    def __init__(self, customer: CustomerId, error: BaseException) -> None:
        super().__init__(str(error))
        self.customer = customer
        self.error = error


def _check_partition(partition: tuple[int, int] | None) -> tuple[int, int]:
    if partition is None:
        return (0, 1)
    try:
        i, n = partition
        ok = isinstance(i, int) and isinstance(n, int) and n >= 1 and 0 <= i < n
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigurationError(
            f"run_daily partition must be (i, n) with 0 <= i < n, got {partition!r}"
        )
    return (i, n)


class MonitoringCalls(DeskCore):
    """The daily run and its log (mixed into `CreditDesk`)."""

    def run_daily(
        self,
        as_of: date,
        *,
        partition: tuple[int, int] | None = None,
        by: Principal = SYSTEM,
        batch_size: int = 500,
        settings: RunSettings | None = None,
        progress: Callable[[BatchDone], None] | None = None,
        incremental: bool = False,
    ) -> DailyRunSummary:
        """Run the day's monitoring for the book, or for partition `(i, n)` of it (see the
        module doc and SERVICES.md "The daily run").

        `incremental=True` assesses only the customers something can have changed for since
        the previous run of the same partitioning (within the last 14 days): those whose
        records moved (domain events in the outbox since that run), whose mark says a date
        came due (`MonitoringMark.next_check`), or that have no mark under this rule set and
        settings; the others count with their marks. It ends as a full run would (tested);
        without a previous run, or with the outbox pruned past it, use a full run.

        Raises:
            PermissionDeniedError: `by` may not run it.
            ConfigurationError: a bad partition or batch size.
            RuleSetNotFoundError: no rule set is in force on `as_of`.
            ConflictError: a batch lost every retry (the run resumes from there when called
                again); whatever `progress` raises, after its batch committed.
        """
        part = _check_partition(partition)
        if batch_size < 1:
            raise ConfigurationError(f"run_daily batch_size must be >= 1, got {batch_size}")
        subject = run_subject(as_of, part)
        self._permit(by, "run_daily", subject)
        rules = self._ctx.rules.as_of(as_of)
        evaluators = Evaluators(rules, settings or RunSettings())
        log = self._log(subject)
        if log.finished is not None:
            with self._store.unit_of_work() as uow:
                done = [e for e in uow.audit.entries(subject=subject) if e.action == DONE_ACTION]
            return _summary_from(json.loads(done[-1].detail), as_of, part)
        tally, batches = log.tally, log.batches
        cursor = self._cursor(subject)
        position, dirty = movements(
            self._store, self._previous_position(as_of, part), incremental=incremental
        )
        while True:
            skipped: dict[CustomerId, BaseException] = {}
            while True:
                try:
                    # a batch is bounded and builds few reference cycles: the collector
                    # waits until it is committed (see creditmgmt._gcpause)
                    with gc_paused():
                        result = retry_on_conflict(
                            functools.partial(
                                self._batch,
                                as_of,
                                part,
                                subject,
                                evaluators,
                                cursor,
                                batch_size,
                                skipped,
                                by,
                                dirty,
                            ),
                            policy=self._ctx.retry,
                        )
                    break
                except _Skip as skip:  # a record apply refused: run the batch without it
                    skipped[skip.customer] = skip.error
            if result is None:
                break
            batches += 1
            tally.add(result.tally)
            cursor = result.last_customer
            if progress is not None:
                progress(attrs.evolve(result, batch=batches))
        retry_on_conflict(
            lambda: self._finish(as_of, part, subject, tally, batches, rules.ref, by, position),
            policy=self._ctx.retry,
        )
        return DailyRunSummary.of(as_of, part, tally, rules.ref, batches)

    def run_log(
        self, by: Principal, as_of: date, *, partition: tuple[int, int] | None = None
    ) -> RunLog:
        """The stored log of a day's run (of one partition).

        Raises:
            PermissionDeniedError, ConfigurationError (a bad partition).
        """
        subject = run_subject(as_of, _check_partition(partition))
        self._permit(by, "run_log", subject)
        return self._log(subject)

    # -------------------------------------------------------------------------------------
    def _previous_position(self, as_of: date, part: tuple[int, int]) -> int | None:
        """The outbox position of the latest finished run of this partitioning in the 14
        days before `as_of`."""
        with self._store.unit_of_work() as uow:
            for back in range(1, 15):
                subject = run_subject(as_of - timedelta(days=back), part)
                done = [e for e in uow.audit.entries(subject=subject) if e.action == DONE_ACTION]
                if done:
                    position = json.loads(done[-1].detail).get("outbox")
                    return int(position) if position is not None else None
        return None

    def _log(self, subject: str) -> RunLog:
        with self._store.unit_of_work() as uow:
            entries = uow.audit.entries(subject=subject)
        tally = Tally()
        batches = 0
        finished = ruleset = None
        for e in entries:
            if e.action == BATCH_ACTION:
                batches += 1
                tally.add(Tally.from_json(json.loads(e.detail)["tally"]))
                ruleset = e.ruleset_ref
            elif e.action == DONE_ACTION:
                finished = e.at.isoformat()
                ruleset = e.ruleset_ref
        started = entries[0].at.isoformat() if entries else None
        return RunLog(
            subject=subject,
            started=started,
            finished=finished,
            batches=batches,
            tally=tally,
            ruleset_ref=ruleset,
        )

    def _cursor(self, subject: str) -> str | None:
        with self._store.unit_of_work() as uow:
            batches = [e for e in uow.audit.entries(subject=subject) if e.action == BATCH_ACTION]
        return str(json.loads(batches[-1].detail)["last_customer"]) if batches else None

    def _batch(
        self,
        as_of: date,
        part: tuple[int, int],
        subject: str,
        ev: Evaluators,
        cursor: str | None,
        batch_size: int,
        skipped: dict[CustomerId, BaseException],
        by: Principal,
        dirty: set[str] | None = None,
    ) -> BatchDone | None:
        # Read and decide in one unit. When much of what it read moved (a first run), the
        # changes are made and committed in that same unit: re-encoding what did not move
        # costs less than reading what did again. Otherwise the unit is never committed
        # and a second one loads and changes only what moved, checking nothing moved in
        # between. Either way no aggregate stays referenced when its unit ends (the unit
        # would otherwise encode each again to check it was not changed after the commit).
        tally = Tally()
        tally.errors.extend(
            RunError(subject=f"customer:{c}", error=_describe(e)) for c, e in skipped.items()
        )
        with self._store.unit_of_work() as read:
            found = self._decide(read, as_of, part, ev, cursor, batch_size, skipped, dirty, tally)
            if found is None:
                return None
            last, customers, outcomes = found
            found = None
            if _mostly_moved(outcomes):
                self._apply_batch(
                    read, as_of, subject, ev, by, outcomes, tally, last, same_unit=True
                )
                outcomes = []
                return BatchDone(batch=0, customers=customers, last_customer=last, tally=tally)
        tally = self._write_batch(
            tally,
            lambda uow, counted: self._apply_batch(
                uow, as_of, subject, ev, by, outcomes, counted, last, same_unit=False
            ),
        )
        return BatchDone(batch=0, customers=customers, last_customer=last, tally=tally)

    def _write_batch(self, tally: Tally, write: Callable[[UnitOfWork, Tally], None]) -> Tally:
        """Run a batch's second unit, `write` (load again what moved, change it, log, commit),
        counting into a copy of `tally`; the counts. A conflict at the commit while nothing the
        batch read has moved (another partition's batch took the audit chain's head first)
        runs this unit again alone; when something did move (`_Moved`) it goes up, and the
        whole batch is read and decided again."""

        def once() -> Tally:
            counted = copy.deepcopy(tally)
            try:
                with self._store.unit_of_work() as uow:
                    write(uow, counted)
            except _Moved:
                raise
            except ConflictError as e:
                raise _WriteConflict(e) from e
            return counted

        try:
            return retry_on_conflict(once, policy=self._ctx.retry, retry_on=(_WriteConflict,))
        except _WriteConflict as lost:
            raise lost.conflict from None  # every attempt lost: the whole batch is retried

    def _decide(
        self,
        read: UnitOfWork,
        as_of: date,
        part: tuple[int, int],
        ev: Evaluators,
        cursor: str | None,
        batch_size: int,
        skipped: dict[CustomerId, BaseException],
        dirty: set[str] | None,
        tally: Tally,
    ) -> tuple[str, int, list[CustomerOutcome]] | None:
        """The batch after `cursor`: its last customer id, how many of its customers are the
        partition's, and the outcomes of those assessed (None: the book is done)."""
        page = customers_after(read, cursor, batch_size)
        if not page:
            return None
        share = PortfolioSlice.partition(*part)
        mine = [c for c in page if share.holds_key(partition_key(c))]
        due = [c for c in mine if c.id not in skipped]
        marked: list[CustomerOutcome] = []
        if dirty is not None:
            due, marked = split_quiet(read, ev, due, as_of, dirty, tally)
        return str(page[-1].id), len(mine), [*self._assess(read, ev, due, as_of, tally), *marked]

    def _apply_batch(
        self,
        uow: UnitOfWork,
        as_of: date,
        subject: str,
        ev: Evaluators,
        by: Principal,
        outcomes: list[CustomerOutcome],
        tally: Tally,
        last_customer: str,
        *,
        same_unit: bool,
    ) -> None:
        """Make the batch's changes in `uow` (the reading unit itself when `same_unit`) with
        the batch's audit entry, and commit; counts into `tally`."""
        fresh: Callable[[Any], Any] = (lambda read: read) if same_unit else _Fresh(uow, outcomes)
        wanted = [t.id for o in outcomes for t in o.tasks]
        existing: set[TaskId] = {t.id for t in uow.tasks.get_many(wanted)} if wanted else set()
        touched: list[Any] = []
        for outcome in outcomes:
            try:
                done = apply(
                    outcome,
                    ids=self._ctx.ids,
                    now=self._ctx.clock.now(),
                    as_of=as_of,
                    existing_tasks=existing,
                    add=lambda agg: _add(uow, agg),
                    fresh=fresh,
                    calendar=self._ctx.calendar,
                )
            except CreditMgmtError as e:
                if isinstance(e, ConflictError):
                    raise
                raise _Skip(outcome.customer.id, e) from e
            _count(tally, outcome, done)
            touched.extend(done.touched)
        entry_subjects = tuple(
            dict.fromkeys(f"{subject_of(a)}@{a.version}>{a.version + 1}" for a in touched)
        )
        self._log_entry(
            uow,
            by,
            BATCH_ACTION,
            subject,
            {"last_customer": last_customer, "tally": tally.to_json()},
            ev.rules.ref,
            entry_subjects,
        )
        uow.commit()

    def _log_entry(
        self,
        uow: UnitOfWork,
        by: Principal,
        action: str,
        subject: str,
        detail: dict[str, Any],
        ruleset_ref: str,
        subjects: tuple[str, ...],
    ) -> None:
        """Append one entry of the run's log (a batch, or the run's end) to `uow`."""
        uow.audit.append(
            AuditEntry(
                id=self._new_audit_id(),
                at=self._ctx.clock.now(),
                actor=str(by.user_id),
                action=action,
                subject=subject,
                detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
                ruleset_ref=ruleset_ref,
                subjects=subjects,
            )
        )

    def _assess(
        self, uow: UnitOfWork, ev: Evaluators, customers: list[Any], as_of: date, tally: Tally
    ) -> list[CustomerOutcome]:
        if not customers:
            return []
        ids = [c.id for c in customers]
        facilities: dict[CustomerId, list[Any]] = {i: [] for i in ids}
        for f in uow.facilities.find(customer_ids=ids):
            if f.customer_id in facilities:
                facilities[f.customer_id].append(f)
        loans: dict[CustomerId, list[Any]] = {i: [] for i in ids}
        for loan in uow.drawdowns.find(customer_ids=ids, status=LoanStatus.PERFORMING):
            loans[loan.customer_id].append(loan)
        events: dict[CustomerId, list[Any]] = {i: [] for i in ids}
        for event in uow.risk_events.find(customer_ids=ids):
            events[event.customer_id].append(event)
        files = {f.customer_id: f for f in uow.credit_files.for_customers(ids)}
        outcomes = []
        for c in customers:
            try:
                outcomes.append(
                    assess_customer(
                        ev, c, facilities[c.id], loans[c.id], events[c.id], files.get(c.id), as_of
                    )
                )
            except CreditMgmtError as e:
                tally.errors.append(RunError(subject=f"customer:{c.id}", error=_describe(e)))
        return outcomes

    def _finish(
        self,
        as_of: date,
        part: tuple[int, int],
        subject: str,
        tally: Tally,
        batches: int,
        ruleset_ref: str,
        by: Principal,
        position: int,
    ) -> None:
        with self._store.unit_of_work() as uow:
            touched = []
            for root in uow.facilities.find(level=FacilityLevel.GROUP, maturing_before=as_of):
                live = root.status in (
                    FacilityStatus.ACTIVE,
                    FacilityStatus.FROZEN,
                    FacilityStatus.SUSPENDED,
                )
                if not live or root.group_id is None:
                    continue
                if not PortfolioSlice.partition(*part).holds_key(str(root.group_id)):
                    continue
                touched.append(f"{subject_of(root)}@{root.version}>{root.version + 1}")
                root.expire(on=as_of)
            final = Tally()
            final.add(tally)
            final.changed += len(touched)
            self._log_entry(
                uow,
                by,
                DONE_ACTION,
                subject,
                {
                    "batches": batches,
                    "outbox": position,
                    "ruleset_ref": ruleset_ref,
                    "tally": final.to_json(),
                },
                ruleset_ref,
                tuple(touched),
            )
            uow.commit()
            tally.changed = final.changed


class _Fresh:
    """The write unit's copies of the aggregates a batch changes, loaded in one query per
    kind; a copy whose version moved since the run read it is a lost race."""

    def __init__(self, uow: UnitOfWork, outcomes: list[CustomerOutcome]) -> None:
        loans = [lo.loan.id for o in outcomes for lo in o.loans if lo.changed]
        facilities = list({f.id: f for o in outcomes for f in (*o.freeze, *o.expire)})
        customers = [o.customer.id for o in outcomes if o.customer.monitoring != o.mark]
        self._found: dict[str, Any] = {}
        if customers:
            self._found.update((str(x.id), x) for x in uow.customers.get_many(customers))
        self._found.update((str(x.id), x) for x in uow.drawdowns.get_many(loans) if loans)
        self._found.update(
            (str(x.id), x) for x in (uow.facilities.get_many(facilities) if facilities else [])
        )

    def __call__(self, read: Any) -> Any:
        found = self._found.get(str(read.id))
        if found is None or found.version != read.version:
            raise _Moved(
                f"{subject_of(read)} changed while the daily run assessed it (read at "
                f"version {read.version})"
            )
        return found


class _Moved(ConflictError):
    """Something a batch read changed before its write unit: the batch must be decided
    again (the whole batch is retried)."""


class _WriteConflict(Exception):
    """A batch's write unit lost its commit while nothing it read had moved: that unit alone
    is run again (not a `ConflictError`, so the retry of the whole batch does not take it)."""

    def __init__(self, conflict: ConflictError) -> None:
        super().__init__(str(conflict))
        self.conflict = conflict


def _mostly_moved(outcomes: list[CustomerOutcome]) -> bool:
    """Whether at least 40% of the batch's loans moved: then writing in the reading unit
    (which encodes every aggregate it read to find what changed, ~0.2-0.3 ms a loan) costs
    less than loading the moved ones again in a second unit (~0.7 ms a loan)."""
    loans = sum(len(o.loans) for o in outcomes)
    moved = sum(1 for o in outcomes for lo in o.loans if lo.changed)
    return moved > 0 and 5 * moved >= 2 * loans


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _add(uow: UnitOfWork, aggregate: Any) -> None:
    if isinstance(aggregate, ClassificationEntry):
        uow.classifications.add(aggregate)
    elif isinstance(aggregate, RiskEvent):
        uow.risk_events.add(aggregate)
    elif isinstance(aggregate, FollowUpTask):
        uow.tasks.add(aggregate)
    else:  # pragma: no cover - apply adds nothing else
        raise TypeError(f"the daily run does not add {type(aggregate).__name__}")


def _count(tally: Tally, outcome: CustomerOutcome, done: Applied) -> None:
    tally.facilities += outcome.facilities
    for lo in outcome.loans:
        tally.loan(
            lo.risk.category,
            lo.loan.currency,
            lo.balance.amount,
            lo.risk.provision.amount,
        )
    tally.new_risk_events += done.new_events
    tally.collections_actions += done.collections
    tally.reminders += done.reminders
    tally.reviews_due += done.reviews
    tally.changed += len(done.changed_facilities)


def _summary_from(detail: dict[str, Any], as_of: date, part: tuple[int, int]) -> DailyRunSummary:
    return DailyRunSummary.of(
        as_of,
        part,
        Tally.from_json(detail["tally"]),
        str(detail["ruleset_ref"]),
        int(detail["batches"]),
    )
