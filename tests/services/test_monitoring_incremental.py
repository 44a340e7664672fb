"""An incremental daily run (only customers something can have changed for) ends exactly as a
full run: same loans, facilities, events, tasks, classification history and summaries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.services.desk_state import assessments

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.bootstrap import open_desk
from creditmgmt.domain.credit_file import Section
from creditmgmt.domain.facility import FacilityStatus
from creditmgmt.domain.ids import UserId
from creditmgmt.domain.loan import LoanStatus, Repayment
from creditmgmt.domain.loan_risk import MonitoringMark
from creditmgmt.domain.risk import RiskEventStatus
from creditmgmt.policies import builtin_ruleset
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.monitoring import RunSettings
from creditmgmt.services.monitoring.assess import Evaluators, WarningHistory
from creditmgmt.services.monitoring.incremental import record_month_end
from creditmgmt.testing.book import BookSpec, load
from creditmgmt.testing.builders import a_credit_file, a_customer, a_facility

DAY = date(2026, 1, 5)


@contextmanager
def _desk(clock: FixedClock) -> Iterator[CreditDesk]:
    with open_desk("memory://", rules="cn-2023", clock=clock, institution_region="310000") as d:
        load(d.store, BookSpec(customers=70, seed=4, as_of=DAY))  # type: ignore[arg-type]
        yield d


def _state(desk: CreditDesk) -> dict[str, Any]:
    with desk.store.unit_of_work() as uow:
        return {
            "loans": {str(x.id): x.risk for b in uow.drawdowns.scan() for x in b},
            "restructured": {str(x.id): x.restructured_on for b in uow.drawdowns.scan() for x in b},
            "facilities": {str(f.id): f.status for b in uow.facilities.scan() for f in b},
            "events": sorted(
                (str(e.customer_id), e.type, e.status, e.review_due)
                for b in uow.risk_events.scan()
                for e in b
            ),
            "tasks": sorted(str(t.id) for b in uow.tasks.scan() for t in b),
            "history": sorted(
                (str(c.drawdown_id), c.as_of, c.category, c.stage, str(c.provision))
                for b in uow.classifications.scan()
                for c in b
            ),
            "marks": {str(c.id): c.monitoring for b in uow.customers.scan() for c in b},
        }


def _move(desk: CreditDesk, day: date, pick: int) -> None:
    """The same movements on either book: pay the arrears of every `pick`-th loan in arrears,
    restructure one, resolve one open risk event."""
    with desk.store.unit_of_work() as uow:
        overdue = sorted(
            (x for b in uow.drawdowns.scan(status=LoanStatus.PERFORMING) for x in b),
            key=lambda x: str(x.id),
        )
        late = [x for x in overdue if x.dpd(day) > 0]
        for loan in late[::pick]:
            loan.apply(Repayment(amount=loan.arrears(day), received_on=day))
        # a current loan pays its next instalment early: its balance (and ECL) moves
        current = [x for x in overdue if x.dpd(day) == 0 and x.next_due_date(day) is not None]
        for loan in current[pick::7]:
            due = loan.next_due_date(day)
            assert due is not None
            loan.apply(Repayment(amount=loan.arrears(due + timedelta(days=1)), received_on=day))
        still_late = [x for x in late if x.status is LoanStatus.PERFORMING]  # not paid off
        if still_late and pick % 2:
            still_late[-1].restructure(on=day)
        events = sorted(
            (e for b in uow.risk_events.scan(status=RiskEventStatus.OPEN) for e in b),
            key=lambda e: (str(e.customer_id), e.type),
        )
        if events:
            at = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
            events[0].acknowledge(by=UserId("usr_ro"), at=at)
            events[0].resolve(by=UserId("usr_ro"), at=at, note="handled")
        uow.commit()


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
@example(gaps=[9, 2, 8, 2, 1], moves=[1, 5, 5, 2, 2, 5])  # every late loan paid off
@given(
    gaps=st.lists(st.integers(1, 9), min_size=3, max_size=6),
    moves=st.lists(st.integers(1, 5), min_size=6, max_size=6),
)
def test_incremental_runs_end_as_full_runs(gaps: list[int], moves: list[int]) -> None:
    clock_a = FixedClock(datetime(2026, 1, 5, 18, tzinfo=UTC))
    clock_b = FixedClock(datetime(2026, 1, 5, 18, tzinfo=UTC))
    with _desk(clock_a) as full, _desk(clock_b) as quick:
        day = DAY
        assessed: list[int] = []
        for step, gap in enumerate([0, *gaps]):
            day += timedelta(days=gap)
            for clock in (clock_a, clock_b):
                clock.set(datetime.combine(day, datetime.min.time(), tzinfo=UTC))
            if step and moves[step % len(moves)] > 1:
                _move(full, day, moves[step % len(moves)])
                _move(quick, day, moves[step % len(moves)])
            expected = full.run_daily(day, batch_size=16)
            got = quick.run_daily(day, batch_size=16, incremental=True)
            assert got == expected, day
            assert _state(quick) == _state(full), day
            assessed.append(got.loans)
        assert assessed


def test_an_incremental_run_assesses_only_what_is_due() -> None:
    clock = FixedClock(datetime(2026, 1, 5, 18, tzinfo=UTC))
    with _desk(clock) as desk:
        desk.run_daily(DAY)
        with assessments(desk) as calls:
            clock.set(datetime(2026, 1, 6, 18, tzinfo=UTC))
            desk.run_daily(date(2026, 1, 6), incremental=True)
        assert 0 < sum(n for _, n in calls) < 70 / 2


def test_a_month_end_is_kept_on_quiet_marks_without_assessing_them() -> None:
    clock_a = FixedClock(datetime(2026, 1, 29, 18, tzinfo=UTC))
    clock_b = FixedClock(datetime(2026, 1, 29, 18, tzinfo=UTC))
    with _desk(clock_a) as full, _desk(clock_b) as quick:
        for day in (date(2026, 1, 29), date(2026, 1, 30)):
            for clock in (clock_a, clock_b):
                clock.set(datetime.combine(day, datetime.min.time(), tzinfo=UTC))
            assert quick.run_daily(day, incremental=True) == full.run_daily(day)
        monday = date(2026, 2, 2)  # the first run after Saturday 31 January
        before = _state(quick)["marks"].values()
        due = sum(1 for m in before if m.next_check is not None and m.next_check <= monday)
        assert 0 < due < 70
        for clock in (clock_a, clock_b):
            clock.set(datetime.combine(monday, datetime.min.time(), tzinfo=UTC))
        expected = full.run_daily(monday)
        with assessments(quick) as calls:
            got = quick.run_daily(monday, incremental=True)
        assert got == expected
        assert _state(quick) == _state(full)
        marks = _state(quick)["marks"].values()
        assert len(marks) == 70
        assert all(m.month_ends[0].month_end == date(2026, 1, 31) for m in marks)
        assert all(m.month_ends[1].month_end == date(2025, 12, 31) for m in marks)
        # only the customers whose own date came were assessed; the others' marks took the
        # month-end without an assessment
        assert sum(n for _, n in calls) == due


_KEY_PERSONS = "r_key_person_change"


@pytest.mark.parametrize(
    ("history", "facility_status", "assessed"),
    [
        (WarningHistory(), FacilityStatus.FROZEN, True),  # a first firing raises its event
        (WarningHistory(frozenset({_KEY_PERSONS})), FacilityStatus.FROZEN, False),  # raised
        (WarningHistory(frozenset({_KEY_PERSONS})), FacilityStatus.ACTIVE, True),  # to freeze
        # handled after the change of 10 January (and the limit unfrozen): covered
        (
            WarningHistory(resolved_on={_KEY_PERSONS: date(2026, 1, 12)}),
            FacilityStatus.ACTIVE,
            False,
        ),
        # an event resolved before the change did not cover it
        (WarningHistory(resolved_on={_KEY_PERSONS: date(2026, 1, 9)}), FacilityStatus.FROZEN, True),
    ],
)
def test_a_month_end_sends_a_customer_to_a_full_assessment_only_for_what_it_would_change(
    history: WarningHistory, facility_status: FacilityStatus, assessed: bool
) -> None:
    rules = builtin_ruleset("cn-2023")
    ev = Evaluators(rules, RunSettings())
    customer = a_customer()
    customer.note_monitoring(MonitoringMark(next_check=None, basis=ev.basis, facilities=1))
    facility = a_facility(customer_id=customer.id, start=date(2025, 6, 1), term_months=24)
    if facility_status is FacilityStatus.FROZEN:
        facility.freeze(on=date(2026, 1, 10), reason="red early warning")
    file = a_credit_file(customer_id=customer.id)
    for chairman, on in (("甲", date(2025, 5, 1)), ("乙", date(2026, 1, 10))):
        file.record(
            key="basic",
            section=Section.BASIC_INFO,
            source="registry",
            as_of=on,
            facts={"chairman": chairman},
        )
    mark = record_month_end(ev, customer, [facility], file, date(2026, 2, 2), history)
    assert (mark is None) is assessed
    if mark is not None:
        assert mark.month_ends[0].month_end == date(2026, 1, 31)
        assert mark.fired == (_KEY_PERSONS,)  # still firing: covered or already raised
