"""The daily monitoring run: early warnings, collections, reminders and expiry, state across
days, idempotency, resume, partitions and bad records, on the memory store and SQLite (one run
on PostgreSQL). The classification rules: test_monitoring_classification.py."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.services.desk_state import assessments
from tests.services.monitoring_book import (
    FIRST_DUE,
    START,
    a_customer_with_loans,
    category_of,
    loan_of,
    monitoring_desk,
    pay_all_due,
)

from creditmgmt.adapters.clocks_and_ids import FixedClock, SequentialIds
from creditmgmt.bootstrap import open_desk
from creditmgmt.domain.classification import Category
from creditmgmt.domain.facility import FacilityStatus
from creditmgmt.domain.ids import DrawdownId, FacilityId
from creditmgmt.domain.risk import RiskEventStatus
from creditmgmt.ports.audit import AuditEntry
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services import Principal, Role
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.errors import PermissionDeniedError
from creditmgmt.services.monitoring import partition_of
from creditmgmt.services.monitoring.assess import CustomerOutcome
from creditmgmt.services.monitoring.run import BATCH_ACTION, MonitoringCalls
from creditmgmt.testing.builders import a_facility_tree, a_loan, a_schedule
from creditmgmt.testing.desk import RISK


@pytest.fixture(params=["memory", "sqlite"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CreditDesk]:
    url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / 'book.db'}"
    with monitoring_desk(url) as d:
        yield d


def _counts(desk: CreditDesk) -> tuple[int, int]:
    with desk.store.unit_of_work() as uow:
        audit = len(uow.audit.entries())
    return audit, len(desk.store.events(after=0, limit=1_000_000))


# early warning, collections, reminders, expiry ------------------------------------------------
def test_dpd_over_30_raises_one_red_event_freezes_and_sets_a_review(desk: CreditDesk) -> None:
    cid, _, facility_ids = a_customer_with_loans(desk, SequentialIds(), serial=1)
    day = FIRST_DUE + timedelta(days=31)
    first = desk.run_daily(day)
    again = desk.run_daily(day + timedelta(days=1))
    assert first.new_risk_events == 1 and again.new_risk_events == 0
    with desk.store.unit_of_work() as uow:
        events = uow.risk_events.find(customer_id=cid)
        assert [(e.type, e.status) for e in events] == [("r_dpd_over_30", RiskEventStatus.OPEN)]
        assert events[0].review_due == date(2025, 3, 25)  # 5 business days after 2025-03-18
        assert {uow.facilities.get(f).status for f in facility_ids} == {FacilityStatus.FROZEN}
        titles = sorted(t.title.split(":")[0] for t in uow.tasks.find(customer_id=cid))
    assert first.collections_actions == 1 and titles == ["collections"]


def test_a_resolved_warning_covers_its_episode_until_the_trigger_stops_firing(
    desk: CreditDesk,
) -> None:
    cid, (loan,), _ = a_customer_with_loans(desk, SequentialIds(), serial=1)
    day = FIRST_DUE + timedelta(days=31)  # 2025-03-18, 31 DPD

    def red() -> list[RiskEventStatus]:
        with desk.store.unit_of_work() as uow:
            found = uow.risk_events.find(customer_id=cid)
        return sorted(e.status for e in found if e.type == "r_dpd_over_30")

    desk.run_daily(day)
    with desk.store.unit_of_work() as uow:
        (event,) = [e for e in uow.risk_events.find(customer_id=cid) if e.type == "r_dpd_over_30"]
    desk.acknowledge(RISK, event.id)
    desk.resolve(RISK, event.id, note="borrower on a repayment plan")
    for later in (1, 2):  # still overdue: the same episode, handled
        desk.run_daily(day + timedelta(days=later))
    assert red() == [RiskEventStatus.RESOLVED]
    pay_all_due(desk, loan, day + timedelta(days=3))
    desk.run_daily(day + timedelta(days=3))  # current again: the episode ends
    with desk.store.unit_of_work() as uow:
        mark = uow.customers.get(cid).monitoring
    assert mark is not None and "r_dpd_over_30" not in mark.fired
    desk.run_daily(date(2025, 5, 16))  # the 15 April instalment 31 days unpaid: a new one
    assert red() == [RiskEventStatus.OPEN, RiskEventStatus.RESOLVED]


def test_collections_action_boundaries_and_reminders() -> None:
    with monitoring_desk() as desk:
        cid, (loan,), _ = a_customer_with_loans(desk, SequentialIds(), serial=1)
        reminders = [
            desk.run_daily(FIRST_DUE - timedelta(days=d)).reminders for d in (8, 7, 2, 1, 0)
        ]
        assert reminders == [0, 1, 0, 1, 0]
        assert desk.run_daily(FIRST_DUE + timedelta(days=7)).collections_actions == 1  # reminder
        assert desk.run_daily(FIRST_DUE + timedelta(days=8)).collections_actions == 1  # rm_call
        assert desk.run_daily(FIRST_DUE + timedelta(days=9)).collections_actions == 0
        with desk.store.unit_of_work() as uow:
            titles = sorted(t.title for t in uow.tasks.find(customer_id=cid))
        assert sum("collections: reminder" in t for t in titles) == 1
        assert sum("collections: rm_call" in t for t in titles) == 1
        assert loan_of(desk, loan).dpd(FIRST_DUE + timedelta(days=9)) == 9


def test_facilities_past_maturity_expire() -> None:
    with monitoring_desk() as desk:
        _, _, facility_ids = a_customer_with_loans(
            desk, SequentialIds(), serial=1, amounts=(), term_months=12
        )
        desk.run_daily(date(2026, 1, 15))  # the maturity date itself: still live
        with desk.store.unit_of_work() as uow:
            assert uow.facilities.get(facility_ids[0]).status is FacilityStatus.ACTIVE
        summary = desk.run_daily(date(2026, 1, 16))
        with desk.store.unit_of_work() as uow:
            assert {uow.facilities.get(f).status for f in facility_ids} == {FacilityStatus.EXPIRED}
        assert summary.changed == 2


# the run as a job ---------------------------------------------------------------------------
def _book(desk: CreditDesk, customers: int = 12) -> None:
    ids = SequentialIds()
    for n in range(customers):
        amounts = ("100000.00", "250000.00") if n % 3 else ("80000.00",)
        a_customer_with_loans(desk, ids, serial=n + 1, amounts=amounts)
    tree = a_facility_tree(ids, start=START, term_months=24)
    with desk.store.unit_of_work() as uow:
        uow.groups.add(tree.group)
        for c in tree.customers:
            uow.customers.add(c)
        for node in tree.nodes:
            uow.facilities.add(node)
        loan = a_loan(
            ids,
            facility_id=tree.products[0].id,
            customer_id=tree.customers[0].id,
            schedule=a_schedule("300000.00 CNY", start=START),
        )
        tree.limits.draw(tree.products[0].id, loan.amount, on=START)
        uow.drawdowns.add(loan)
        uow.commit()


def _state(desk: CreditDesk) -> dict[str, Any]:
    with desk.store.unit_of_work() as uow:
        loans = {str(x.id): x.risk and x.risk.category for b in uow.drawdowns.scan() for x in b}
        facilities = {str(f.id): f.status for b in uow.facilities.scan() for f in b}
        events = sorted((str(e.customer_id), e.type) for b in uow.risk_events.scan() for e in b)
        tasks = sorted(str(t.id) for b in uow.tasks.scan() for t in b)
        classes = sorted(
            (str(c.drawdown_id), c.as_of, c.category) for b in uow.classifications.scan() for c in b
        )
    return {
        "loans": loans,
        "facilities": facilities,
        "events": events,
        "tasks": tasks,
        "classifications": classes,
    }


def test_rerunning_a_finished_day_writes_nothing(desk: CreditDesk) -> None:
    _book(desk)
    day = FIRST_DUE + timedelta(days=40)
    first = desk.run_daily(day, batch_size=4)
    assert first.loans == 21 and first.new_risk_events > 0 and first.changed > 0
    before = _counts(desk), _state(desk)
    again = desk.run_daily(day, batch_size=4)
    assert (_counts(desk), _state(desk)) == before
    assert again == first


def test_an_unchanged_day_changes_no_loan_and_writes_only_its_log() -> None:
    with monitoring_desk() as desk:
        _book(desk)
        desk.run_daily(date(2025, 1, 20))
        with desk.store.unit_of_work() as uow:
            versions = {str(x.id): x.version for b in uow.drawdowns.scan() for x in b}
        outbox = len(desk.store.events(after=0, limit=1_000_000))
        summary = desk.run_daily(date(2025, 1, 21))
        with desk.store.unit_of_work() as uow:
            after = {str(x.id): x.version for b in uow.drawdowns.scan() for x in b}
        assert after == versions and summary.changed == 0
        assert len(desk.store.events(after=0, limit=1_000_000)) == outbox


class Boom(Exception):
    pass


def test_a_killed_run_resumes_from_its_last_batch_and_ends_identical(tmp_path: Path) -> None:
    day = FIRST_DUE + timedelta(days=40)
    with (
        monitoring_desk(f"sqlite:///{tmp_path / 'a.db'}") as whole,
        monitoring_desk(f"sqlite:///{tmp_path / 'b.db'}") as broken,
    ):
        _book(whole)
        _book(broken)
        expected = whole.run_daily(day, batch_size=3)

        def die_after_second(done: Any) -> None:
            if done.batch == 2:
                raise Boom

        with pytest.raises(Boom):
            broken.run_daily(day, batch_size=3, progress=die_after_second)
        log = broken.run_log(Principal("usr_ro", roles={Role.RISK_OFFICER}), day)
        assert log.batches == 2 and log.finished is None
        resumed = broken.run_daily(day, batch_size=3)
        assert resumed == expected
        assert _state(broken) == _state(whole)
        assert broken.run_log(Principal("usr_ro", roles={Role.RISK_OFFICER}), day).finished


@pytest.mark.parametrize("url", ["memory://", "sqlite"])
def test_a_batch_that_loses_the_audit_head_writes_again_without_deciding_again(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partitions race for the audit chain's head: a batch whose write unit loses it while
    nothing it read has moved runs that unit again, not the reading and deciding."""
    urls = [url, url] if url == "memory://" else [f"sqlite:///{tmp_path / n}" for n in "ab"]
    day = FIRST_DUE + timedelta(days=40)
    with monitoring_desk(urls[0]) as whole, monitoring_desk(urls[1]) as raced:
        for desk in (whole, raced):
            _book(desk)
            desk.run_daily(day, batch_size=4)
        with assessments(whole) as undisturbed:
            expected = whole.run_daily(day + timedelta(days=1), batch_size=4)
        original = MonitoringCalls._log_entry
        raced_once: list[str] = []

        def another_commit_takes_the_head(self: MonitoringCalls, *args: Any) -> None:
            original(self, *args)  # (uow, by, action, subject, ...): the batch's entry is in
            action, subject = args[2], args[3]
            if action == BATCH_ACTION and not raced_once:
                raced_once.append(subject)
                with raced.store.unit_of_work() as other:
                    other.audit.append(
                        AuditEntry(
                            id="aud_other",
                            at=datetime(2025, 3, 28, 9, tzinfo=UTC),
                            actor="usr_other_partition",
                            action="run_daily_batch",
                            subject="run:other",
                        )
                    )
                    other.commit()

        monkeypatch.setattr(MonitoringCalls, "_log_entry", another_commit_takes_the_head)
        with assessments(raced) as disturbed:
            got = raced.run_daily(day + timedelta(days=1), batch_size=4)
        assert raced_once, "no batch was written in a second unit"
        assert got == expected
        assert _state(raced) == _state(whole)
        assert disturbed == undisturbed  # each batch was read and decided once


def test_a_loan_repaid_while_its_batch_is_decided_is_decided_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch's write unit finds a loan it read changed since (a repayment came in): the
    batch is read and decided again, and the day ends as if the repayment came first."""
    paid_on = FIRST_DUE + timedelta(days=40)
    day = date(2025, 5, 16)  # the next day some, not most, of a batch's loans move
    with monitoring_desk() as whole, monitoring_desk() as raced:
        for desk in (whole, raced):
            _book(desk)
            with desk.store.unit_of_work() as uow:
                loans = sorted((x.id for b in uow.drawdowns.scan() for x in b), key=str)
            for loan_id in [x for n, x in enumerate(loans) if n % 4]:  # a quarter stay overdue
                pay_all_due(desk, loan_id, paid_on)
            desk.run_daily(day, batch_size=4)
        apply_batch = MonitoringCalls._apply_batch
        repaid: list[DrawdownId] = []
        writes: list[bool] = []

        def a_repayment_comes_in(
            self: MonitoringCalls, uow: UnitOfWork, *args: Any, same_unit: bool
        ) -> None:
            writes.append(same_unit)
            outcomes: list[CustomerOutcome] = args[4]
            moved = [lo.loan.id for o in outcomes for lo in o.loans if lo.changed]
            if moved and not same_unit and not repaid:  # between the two units of a batch
                repaid.append(moved[0])
                pay_all_due(raced, moved[0], args[0])
            apply_batch(self, uow, *args, same_unit=same_unit)

        monkeypatch.setattr(MonitoringCalls, "_apply_batch", a_repayment_comes_in)
        with assessments(raced) as disturbed:
            got = raced.run_daily(day + timedelta(days=1), batch_size=4)
        raced_writes, writes[:] = list(writes), []
        assert repaid, "no batch wrote a moved loan in a second unit"
        pay_all_due(whole, repaid[0], day + timedelta(days=1))
        with assessments(whole) as undisturbed:
            expected = whole.run_daily(day + timedelta(days=1), batch_size=4)
        assert got == expected
        assert _state(raced)["loans"] == _state(whole)["loans"]
        assert _state(raced)["classifications"] == _state(whole)["classifications"]
        assert len(disturbed) == len(undisturbed) + 1  # the one batch, decided twice
        # and written twice: its write unit was not retried on its own against a moved loan
        assert len(raced_writes) == len(writes) + 1


def test_one_bad_record_is_reported_and_skipped(desk: CreditDesk) -> None:
    ids = SequentialIds()
    _, (good_loan,), _ = a_customer_with_loans(desk, ids, serial=1)
    bad, _, _ = a_customer_with_loans(desk, ids, serial=2)
    with desk.store.unit_of_work() as uow:  # a loan under a facility the customer lacks
        stray = a_loan(ids, facility_id=FacilityId("fac_nowhere"), customer_id=bad)
        uow.drawdowns.add(stray)
        uow.commit()
    summary = desk.run_daily(FIRST_DUE + timedelta(days=95))
    assert [e.subject for e in summary.errors] == [f"customer:{bad}"]
    assert "fac_nowhere" in summary.errors[0].error
    assert category_of(desk, good_loan) is Category.SUBSTANDARD
    assert loan_of(desk, stray.id).risk is None
    assert summary.loans == 1


def test_only_risk_officers_and_admins_run_it() -> None:
    with monitoring_desk() as desk, pytest.raises(PermissionDeniedError, match="run_daily"):
        desk.run_daily(date(2025, 2, 1), by=Principal("usr_rm", roles={Role.RELATIONSHIP_MANAGER}))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(partitions=st.integers(1, 5), customers=st.integers(1, 9))
def test_partitions_cover_the_book_exactly_once(partitions: int, customers: int) -> None:
    with monitoring_desk() as whole, monitoring_desk() as split:
        _book(whole, customers)
        _book(split, customers)
        day = FIRST_DUE + timedelta(days=40)
        expected = whole.run_daily(day, batch_size=2)
        parts = [
            split.run_daily(day, partition=(i, partitions), batch_size=2) for i in range(partitions)
        ]
        merged = parts[0]
        for p in parts[1:]:
            merged = merged.merge(p)
        assert merged.loans == expected.loans and merged.by_category == expected.by_category
        assert merged.provisions == expected.provisions
        assert _state(split) == _state(whole)
        with split.store.unit_of_work() as uow:
            group_members = [c for b in uow.customers.scan() for c in b if c.group_id is not None]
        assert len({partition_of(c, partitions) for c in group_members}) == 1


POSTGRES = os.environ.get(
    "CREDITMGMT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def postgres_store() -> Iterator[dict[str, str]]:
    """A schema of its own on the test server (skipped when it cannot be reached, unless
    CREDITMGMT_REQUIRE_SERVERS=1)."""
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES)
    schema = f"mon_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as e:
        engine.dispose()
        if os.environ.get("CREDITMGMT_REQUIRE_SERVERS") == "1":
            pytest.fail(f"PostgreSQL at {POSTGRES} not reachable: {e}")
        pytest.skip(f"PostgreSQL at {POSTGRES} not reachable: {e}")
    try:
        yield {"url": POSTGRES, "schema": schema}
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        engine.dispose()


def test_one_run_on_postgresql(postgres_store: dict[str, str]) -> None:
    clock = FixedClock(datetime(2025, 1, 15, 9, 0, tzinfo=UTC))
    with open_desk(
        postgres_store, rules="cn-2023", clock=clock, institution_region="310000"
    ) as desk:
        _book(desk, 5)
        day = FIRST_DUE + timedelta(days=40)
        first = desk.run_daily(day, partition=(0, 2), batch_size=2)
        second = desk.run_daily(day, partition=(1, 2), batch_size=2)
        assert first.loans + second.loans == 9
        audit = _counts(desk)
        assert desk.run_daily(day, partition=(0, 2)) == first and _counts(desk) == audit


def test_red_review_deadlines_count_the_desks_working_days() -> None:
    """The red review is due in the rule set's 5 working days of the desk's calendar: across
    the National Day week 2026 that is 13 October (10 October is an adjusted working Saturday),
    not the 7 October a weekday count gives."""
    from creditmgmt.adapters.calendars import ChineseWorkingDays

    reviews = {}
    for name, calendar in (("cn", ChineseWorkingDays()), ("weekdays", None)):
        clock = FixedClock(datetime(2025, 1, 15, 9, 0, tzinfo=UTC))
        with open_desk(
            "memory://", rules="cn-2023", clock=clock, institution_region="310000",
            calendar=calendar,
        ) as desk:  # fmt: skip
            cid, _, _ = a_customer_with_loans(
                desk, SequentialIds(), serial=1, starts=(date(2026, 7, 30),)
            )
            desk.run_daily(date(2026, 9, 30))  # first due 2026-08-30: 31 days past due
            with desk.store.unit_of_work() as uow:
                (event,) = uow.risk_events.find(customer_id=cid)
            reviews[name] = event.review_due
    assert reviews == {"cn": date(2026, 10, 13), "weekdays": date(2026, 10, 7)}


def test_each_batch_runs_with_the_collector_paused_and_the_callers_code_with_it_on(
    desk: CreditDesk, collector_states: Callable[[object, str], list[bool]]
) -> None:
    """A batch, from its read to its commit, runs with the cyclic GC paused (bounded work that
    builds few cycles); the progress callback between batches and the caller after the run
    see the collector on again."""
    import gc

    from creditmgmt.services.monitoring import run

    ids = SequentialIds()
    for serial in (1, 2, 3):
        a_customer_with_loans(desk, ids, serial=serial)
    assessing = collector_states(run, "assess_customer")
    between: list[bool] = []
    summary = desk.run_daily(
        START + timedelta(days=40), batch_size=1, progress=lambda _: between.append(gc.isenabled())
    )
    assert summary.loans == 3 and gc.isenabled()
    assert assessing == [False, False, False]
    assert between == [True, True, True]
