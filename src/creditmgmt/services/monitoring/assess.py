"""One customer's daily monitoring: every rule decision of the run, then the changes.

`assess_customer` reads a customer's facilities, loans, open risk events and credit file as
of a business date and returns a `CustomerOutcome`: each loan's new `LoanRisk`, the risk
events, tasks and facility moves that are due. It changes nothing, so a record it cannot
assess (it raises) leaves the batch untouched; `apply` (`monitoring.changes`) then makes
the changes on the aggregates of the unit of work, only where something moved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import attrs

from creditmgmt.domain.classification import Category, Stage
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer, CustomerKind
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.facility import Facility, FacilityStatus
from creditmgmt.domain.ids import TaskId
from creditmgmt.domain.loan import Drawdown, LoanStatus
from creditmgmt.domain.loan_risk import (
    LoanRisk,
    LoanTally,
    MonitoringMark,
    first_due_after,
    months_between,
    periods_due_between,
)
from creditmgmt.domain.money import Money, quantize
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.risk import RiskEvent, RiskEventStatus, Severity
from creditmgmt.policies.model import MasterScale, TriggerSet
from creditmgmt.policies.ruleset import Decision, RuleSet
from creditmgmt.services.monitoring.signals import (
    NEWS_INPUTS,
    key_person_news_ends,
    key_person_news_starts,
    month_ends,
    rating_window_moves,
    review_due,
    warning_inputs,
    warning_news,
)


class MonitoringError(CreditMgmtError):
    """A record the daily run cannot assess (named); it is reported and skipped."""

    default_message = "record cannot be assessed"


@attrs.frozen(kw_only=True)
class RunSettings:
    """What the run needs besides the rule set: the provisioning block and the ECL
    parameters a host without a PD model per loan applies to the whole book.

    `pd_12m`/`pd_lifetime`/`lgd` feed the `ecl` block; a host with its own model per
    exposure runs its ECL outside and keeps the run's stage."""

    provisioning_block: str = "provisioning_cn2002"
    pd_12m: Decimal = Decimal("0.01")
    pd_lifetime: Decimal = Decimal("0.05")
    lgd: Decimal = Decimal("0.45")
    #: reminders go out this many days before an instalment's due date
    reminder_days: tuple[int, ...] = (7, 1)


#: A task the run keeps: id derived from what it is about, so no run creates it twice.
@attrs.frozen(kw_only=True)
class TaskDue:
    id: TaskId
    kind: str  # "collections", "reminder", "file_refresh", "review"
    title: str
    due: date


@attrs.frozen(kw_only=True)
class EventDue:
    trigger: str
    severity: Severity
    reason: str
    review_within: int  # business days; 0 = no review


@attrs.frozen(kw_only=True)
class LoanOutcome:
    loan: Drawdown
    facility: Facility
    dpd: int
    balance: Money  # outstanding principal
    risk: LoanRisk
    observation_over: bool
    changed: bool


@attrs.frozen(kw_only=True)
class CustomerOutcome:
    customer: Customer
    facilities: int  # live facility nodes of the customer
    loans: tuple[LoanOutcome, ...]
    events: tuple[EventDue, ...]
    tasks: tuple[TaskDue, ...]
    freeze: tuple[Facility, ...]
    expire: tuple[Facility, ...]
    ruleset_ref: str
    mark: MonitoringMark


def task_id(*parts: object) -> TaskId:
    """A stable task id from what the task is about (the same on every run and worker)."""
    digest = hashlib.sha256("\0".join(str(p) for p in parts).encode()).hexdigest()
    return TaskId(f"tsk_run_{digest[:32]}")


class Evaluators:
    """The run's compiled rule blocks (taken once per run)."""

    def __init__(self, rules: RuleSet, settings: RunSettings) -> None:
        self.rules = rules
        self.settings = settings
        get = rules.evaluator
        self.classification = get("classification")
        self.card = get("card_classification")
        self.contagion = get("contagion")
        self.upgrade = get("npl_upgrade")
        self.observation = get("restructuring_observation")
        self.stage = get("ifrs9_stage")
        self.ecl = get("ecl")
        self.provision = get(settings.provisioning_block)
        self.collections = get("collections")
        self.warning = get("early_warning")
        self.response = get("early_warning_response")
        blocks = rules.blocks
        #: periodic reviews by grade (None: the rule set has no `review_frequency` block)
        self.review = get("review_frequency") if "review_frequency" in blocks else None
        scale = blocks.get("master_scale")
        #: the master scale's grades, best first (rating moves count notches on it)
        self.grades: tuple[str, ...] = (
            tuple(g.grade for g in scale.grades) if isinstance(scale, MasterScale) else ()
        )
        #: per trigger of the `early_warning` block, the news inputs it reads
        warning = rules.blocks.get("early_warning")
        self.news_read: dict[str, frozenset[str]] = (
            {t.id: t.expr.names & NEWS_INPUTS for t in warning.triggers}
            if isinstance(warning, TriggerSet)
            else {}
        )
        #: what a customer's `MonitoringMark` was decided under
        self.basis = (
            f"{rules.ref}|{settings.provisioning_block}|{settings.pd_12m}|"
            f"{settings.pd_lifetime}|{settings.lgd}|{','.join(map(str, settings.reminder_days))}"
        )


_LIVE = (FacilityStatus.ACTIVE, FacilityStatus.FROZEN, FacilityStatus.SUSPENDED)
#: Statuses the run freezes when a response says to freeze undrawn limits.
FREEZABLE = (FacilityStatus.ACTIVE, FacilityStatus.SUSPENDED)


def _one(evaluate: Callable[[Mapping[str, Any]], Decision], inputs: Mapping[str, Any]) -> Any:
    return evaluate(inputs).outputs


@attrs.frozen
class WarningHistory:
    """What the early warning knows of a customer's past: the triggers with a risk event not
    resolved (`unresolved`); for each trigger the latest business date a resolved event of it
    was raised on (`resolved_on`); the triggers that fired at its last assessment (`firing`,
    from its `MonitoringMark`)."""

    unresolved: frozenset[str] = frozenset()
    resolved_on: Mapping[str, date] = attrs.field(factory=dict)
    firing: frozenset[str] = frozenset()

    @classmethod
    def of(cls, customer: Customer, events: Iterable[RiskEvent]) -> WarningHistory:
        """The history of `customer` from its risk events and its mark."""
        unresolved: set[str] = set()
        resolved_on: dict[str, date] = {}
        for e in events:
            if e.status is not RiskEventStatus.RESOLVED:
                unresolved.add(e.type)
            elif e.type not in resolved_on or resolved_on[e.type] < e.business_date:
                resolved_on[e.type] = e.business_date
        mark = customer.monitoring
        return cls(frozenset(unresolved), resolved_on, frozenset(mark.fired if mark else ()))

    def covered(
        self, trigger: str, reads: frozenset[str], news: Callable[[], Mapping[str, date]]
    ) -> bool:
        """Whether a resolved event of `trigger` has handled what it fires on (no event of it
        may be open): for a trigger that reads news inputs (`reads`), one raised on or after
        the latest date `news()` gives them (no dated fact: nothing covered); for any other,
        one of the episode that is still going on (the trigger fired at the last assessment).
        `news` is called only for a trigger that reads news and has a resolved event."""
        raised = self.resolved_on.get(trigger)
        if raised is None or trigger in self.unresolved:
            return False
        if not reads:
            return trigger in self.firing
        dated = news()
        facts = [dated[i] for i in reads if i in dated]
        return bool(facts) and raised >= max(facts)


@attrs.frozen
class EarlyWarning:
    """What the early warning concludes for a customer (see `early_warning`)."""

    events: tuple[EventDue, ...]
    freeze: bool
    #: every trigger that fired, covered ones included, sorted (kept on the mark)
    fired: tuple[str, ...]


def early_warning(
    ev: Evaluators,
    inputs: Mapping[str, Any],
    history: WarningHistory,
    news: Callable[[], Mapping[str, date]],
) -> EarlyWarning:
    """What the early warning concludes for a customer: an event for each fired trigger
    that has no unresolved event and is not covered, and whether a fired trigger that is not
    covered freezes undrawn limits by its response.

    A trigger is covered when a resolved event of it has handled what it fires on
    (`WarningHistory.covered`): one that reads news inputs (`signals.NEWS_INPUTS`) while the
    fact `news()` dates is no later than the resolved event; any other while the episode
    that event was raised in goes on (it has kept firing at every assessment since). A
    covered trigger raises no event and freezes nothing, so a limit unfrozen after the event
    was handled stays so. `news` is called at most once, and only when a fired trigger that
    reads news has a resolved event.

    Raises:
        PolicyInputError, PolicyEvaluationError: inputs the rules reject.
    """
    due: list[EventDue] = []
    freeze = False
    fired_ids: list[str] = []
    news_once = cache(news)  # the credit file is read for it at most once per customer
    for fired in _one(ev.warning, inputs)["fired"]:
        trigger = fired["id"]
        fired_ids.append(trigger)
        if history.covered(trigger, ev.news_read.get(trigger, frozenset()), news_once):
            continue
        response = _one(ev.response, {"severity": fired["severity"]})
        freeze = freeze or bool(response["freeze_undrawn"])
        if trigger in history.unresolved:
            continue
        due.append(
            EventDue(
                trigger=trigger,
                severity=Severity(fired["severity"]),
                reason=fired["reason"],
                review_within=int(response["review_within_business_days"])
                if response["review_required"]
                else 0,
            )
        )
    return EarlyWarning(events=tuple(due), freeze=freeze, fired=tuple(sorted(fired_ids)))


def _loan_category(
    ev: Evaluators, loan: Drawdown, facility: Facility, dpd: int, as_of: date, bureau_share: Decimal
) -> tuple[Category, date | None, bool]:
    """The loan's category from its own facts, its observation start and whether the
    observation period just ended."""
    if facility.product_type is ProductType.CARD:
        return Category(_one(ev.card, {"dpd": dpd})["category"]), None, False
    inputs, start, over = classification_inputs(ev, loan, dpd, as_of, bureau_share)
    return Category(_one(ev.classification, inputs)["category"]), start, over


def classification_inputs(
    ev: Evaluators, loan: Drawdown, dpd: int, as_of: date, bureau_share: Decimal
) -> tuple[dict[str, Any], date | None, bool]:
    """The inputs of the `classification` block for a (non-card) loan, as the run builds
    them, with its observation start and whether the observation period just ended.

    Raises:
        PolicyInputError, PolicyEvaluationError: the observation block rejects the loan.
    """
    restructured = failed = over = False
    start: date | None = None
    if loan.restructured_on is not None:
        previous = loan.risk.observation_start if loan.risk is not None else None
        start = previous or first_due_after(loan.schedule, loan.restructured_on)
        if dpd > 0 and start is not None and start < as_of:
            failed = True  # not paying under the revised terms: restart from the miss
            start = loan.oldest_unpaid_due_date()
        elif start is not None and start <= as_of:
            out = _one(
                ev.observation,
                {
                    "periods_paid_normally": periods_due_between(loan.schedule, start, as_of),
                    "months_paid_normally": months_between(start, as_of),
                },
            )
            over = bool(out["complete"])
        restructured = not over
        if over:
            start = None
    inputs = {
        "dpd": dpd,
        "restructured": restructured,
        "restructured_failed": failed,
        "bureau_npl_share": bureau_share,
    }
    return inputs, start, over


def _held(
    ev: Evaluators, loan: Drawdown, rule: Category, dpd: int, as_of: date
) -> tuple[Category, date | None]:
    """The NPL upgrade rule: a loan held as NPL keeps its category until its arrears are
    repaid and then ≥ 2 periods and ≥ 6 months were paid normally."""
    previous = loan.risk
    if (
        previous is None
        or not previous.own_category.is_npl
        or rule.rank >= previous.own_category.rank
    ):
        return rule, None
    if dpd > 0:
        return previous.own_category, None
    cure = previous.cure_start or as_of
    may = _one(
        ev.upgrade,
        {
            "arrears_repaid": True,
            "periods_paid_normally": periods_due_between(loan.schedule, cure, as_of),
            "months_paid_normally": months_between(cure, as_of),
            "impaired_asset_at_bank": False,
        },
    )["may_upgrade"]
    return (rule, None) if may else (previous.own_category, cure)


def assess_customer(
    ev: Evaluators,
    customer: Customer,
    facilities: Sequence[Facility],
    loans: Sequence[Drawdown],
    events: Sequence[RiskEvent],
    file: CreditFile | None,
    as_of: date,
) -> CustomerOutcome:
    """Every decision of the run for one customer (nothing is changed).

    Raises:
        MonitoringError: a loan under a facility the customer does not hold.
        PolicyInputError, PolicyEvaluationError, CreditMgmtError: a record the rules reject.
    """
    by_id = {f.id: f for f in facilities}
    report = file.latest_bureau_report() if file is not None else None
    bureau_share = report.npl_share_all_banks if report is not None else Decimal(0)
    own: list[tuple[Drawdown, Facility, int, Category, date | None, date | None, bool, Money]] = []
    for loan in loans:
        if loan.status is not LoanStatus.PERFORMING:
            continue
        facility = by_id.get(loan.facility_id)
        if facility is None:
            raise MonitoringError(
                f"loan {loan.id} of customer {customer.id}: facility {loan.facility_id} is not "
                "one of the customer's facilities"
            )
        dpd = loan.dpd(as_of)
        rule, observation, over = _loan_category(ev, loan, facility, dpd, as_of, bureau_share)
        category, cure = _held(ev, loan, rule, dpd, as_of)
        own.append(
            (loan, facility, dpd, category, cure, observation, over, loan.outstanding_principal)
        )
    # borrower contagion (non-retail): > 10% of the debtor's claims NPL → all at least SS
    floor = Category.NORMAL
    if customer.kind is not CustomerKind.INDIVIDUAL and own:
        currency = own[0][0].currency
        same = [o for o in own if o[0].currency == currency]
        total = sum((o[7].amount for o in same), Decimal(0))
        npl = sum((o[7].amount for o in same if o[3].is_npl), Decimal(0))
        share = npl / total if total else Decimal(0)
        if _one(ev.contagion, {"npl_share": share})["all_npl"]:
            floor = Category.SUBSTANDARD
    outcomes: list[LoanOutcome] = []
    tasks: list[TaskDue] = []
    worst_dpd = 0
    freeze = False
    settings = ev.settings
    for loan, facility, dpd, own_category, cure, observation, over, balance in own:
        worst_dpd = max(worst_dpd, dpd)
        category = own_category.worse_of(floor)
        stage = Stage(
            _one(
                ev.stage,
                {"dpd": dpd, "sicr": category.rank >= 1, "impaired": category.is_npl},
            )["stage"]
        )
        ecl = _one(
            ev.ecl,
            {
                "stage": int(stage),
                "pd_12m": settings.pd_12m,
                "pd_lifetime": settings.pd_lifetime,
                "lgd": settings.lgd,
                "ead": balance.amount,
            },
        )["ecl"]
        provision = _one(ev.provision, {"category": category.value, "balance": balance.amount})
        risk = LoanRisk(
            decided_on=as_of,
            own_category=own_category,
            category=category,
            stage=stage,
            # the blocks round to cents; a currency with fewer minor digits rounds here, once
            ecl=Money.of(quantize(Decimal(str(ecl)), loan.currency), loan.currency),
            provision=Money.of(
                quantize(Decimal(str(provision["provision"])), loan.currency), loan.currency
            ),
            cure_start=cure,
            observation_start=observation,
        )
        changed = over or not risk.same_as(loan.risk)
        outcomes.append(
            LoanOutcome(
                loan=loan,
                facility=facility,
                dpd=dpd,
                balance=balance,
                risk=risk,
                observation_over=over,
                changed=changed,
            )
        )
        action = _one(ev.collections, {"dpd": dpd})
        if action["action"] != "none":
            episode = loan.oldest_unpaid_due_date()
            tasks.append(
                TaskDue(
                    id=task_id("collections", loan.id, episode, action["action"]),
                    kind="collections",
                    title=f"collections: {action['action']} on loan {loan.id} ({dpd} DPD)",
                    due=as_of,
                )
            )
            freeze = freeze or bool(action["freeze_undrawn"])
        upcoming = loan.next_due_date(as_of)
        if upcoming is not None:
            ahead = (upcoming - as_of).days
            leads = sorted(settings.reminder_days)
            for k, lead in enumerate(leads):
                nearer = leads[k - 1] if k else -1
                if nearer < ahead <= lead:
                    tasks.append(
                        TaskDue(
                            id=task_id("reminder", loan.id, upcoming, lead),
                            kind="reminder",
                            title=f"reminder: loan {loan.id} instalment due {upcoming}",
                            due=upcoming,
                        )
                    )
    utilisations = month_ends(customer.monitoring, facilities, as_of)
    inputs = warning_inputs(customer, file, worst_dpd, utilisations, ev.grades, as_of)
    warning = early_warning(
        ev,
        inputs,
        WarningHistory.of(customer, events),
        lambda: warning_news(customer, file, ev.grades, as_of),
    )
    freeze = freeze or warning.freeze
    if file is not None:
        stale = file.due_for_refresh(as_of)
        if stale:
            first = min(e.refresh_due for e in stale)
            tasks.append(
                TaskDue(
                    id=task_id("file_refresh", customer.id, first),
                    kind="file_refresh",
                    title=f"credit file refresh: {len(stale)} entr{'y' if len(stale) == 1 else 'ies'} due",
                    due=first,
                )
            )
    review = review_due(ev.review, customer)
    if review is not None and review <= as_of:
        assert customer.rating is not None
        tasks.append(
            TaskDue(
                id=task_id("review", customer.id, customer.rating.rated_on, review),
                kind="review",
                title=f"periodic review: grade {customer.rating.grade} rated "
                f"{customer.rating.rated_on}, review due {review}",
                due=review,
            )
        )
    frozen = tuple(f for f in facilities if freeze and f.status in FREEZABLE)
    expiring = tuple(f for f in facilities if f.status in _LIVE and f.maturity_date < as_of)
    live = sum(1 for f in facilities if f.status in _LIVE)
    return CustomerOutcome(
        customer=customer,
        facilities=live,
        loans=tuple(outcomes),
        events=warning.events,
        tasks=tuple(tasks),
        freeze=frozen,
        expire=expiring,
        ruleset_ref=ev.rules.ref,
        mark=MonitoringMark(
            next_check=_next_check(ev, customer, outcomes, facilities, file, as_of, review),
            basis=ev.basis,
            facilities=live,
            loans=_tallies(outcomes),
            month_ends=utilisations,
            fired=warning.fired,
        ),
    )


def _next_check(
    ev: Evaluators,
    customer: Customer,
    outcomes: Sequence[LoanOutcome],
    facilities: Sequence[Facility],
    file: CreditFile | None,
    as_of: date,
    review: date | None,
) -> date | None:
    """The first date after `as_of` on which the customer's assessment can differ while none
    of its records moves: tomorrow while a loan is overdue, held as NPL or under
    observation; else the next reminder, the day an instalment falls overdue, the day after
    a facility matures, the day a credit-file entry goes stale, the periodic review's due
    date, the day a past grade leaves the rating-move year, the date of a key-person change
    reported ahead of it, the day the latest key-person change stops being news (the mark
    keeps which triggers fired). A month-end is not among them: an incremental run records
    it by `incremental.record_month_end` and assesses in full only a customer for whom that
    could change more than the mark."""
    tomorrow = as_of + timedelta(days=1)
    ahead: list[date] = []
    if review is not None:
        ahead.append(review)
    moves = rating_window_moves(customer, as_of)
    if moves is not None:
        ahead.append(moves)
    for news in (key_person_news_starts(file, as_of), key_person_news_ends(file, as_of)):
        if news is not None:
            ahead.append(news)
    for lo in outcomes:
        loan = lo.loan
        if lo.dpd > 0 or lo.risk.cure_start is not None or loan.restructured_on is not None:
            return tomorrow
        due = loan.next_due_date(as_of)
        if due is not None:
            ahead.append(due + timedelta(days=1))
            ahead.extend(due - timedelta(days=lead) for lead in ev.settings.reminder_days)
    ahead.extend(f.maturity_date + timedelta(days=1) for f in facilities if f.status in _LIVE)
    if file is not None and not file.due_for_refresh(as_of):
        ahead.extend(e.refresh_due for e in file.live_entries())
    later = [d for d in ahead if d > as_of]
    return min(later) if later else None


def _tallies(outcomes: Sequence[LoanOutcome]) -> tuple[LoanTally, ...]:
    by: dict[tuple[Category, str], list[Decimal]] = {}
    for lo in outcomes:
        slot = by.setdefault((lo.risk.category, lo.loan.currency), [Decimal(0)] * 3)
        slot[0] += 1
        slot[1] += lo.balance.amount
        slot[2] += lo.risk.provision.amount
    return tuple(
        LoanTally(category=c, currency=cur, loans=int(v[0]), balance=v[1], provision=v[2])
        for (c, cur), v in sorted(by.items(), key=lambda kv: (kv[0][0].rank, kv[0][1]))
    )
