"""A change of controller, chairman or CFO recorded in the credit file's basic information is
news for a year: the daily run raises one red `r_key_person_change` event and freezes the
undrawn limits, on the memory and SQLite stores, in full and incremental runs."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from tests.services.desk_state import assessments

from creditmgmt.domain.credit_file import KeyPersonChange, Section
from creditmgmt.domain.facility import FacilityStatus
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.risk import RiskEventStatus, Severity
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.monitoring.signals import (
    key_person_news_ends,
    key_person_news_starts,
    warning_inputs,
)
from creditmgmt.testing.builders import a_credit_file, a_customer
from creditmgmt.testing.desk import RISK, a_desk, a_filed_record, a_funded_customer

TRIGGER = "r_key_person_change"
DAY = date(2026, 3, 3)  # the day after a_funded_customer's approval


def _basic_info(desk: CreditDesk, customer: CustomerId, as_of: date, chairman: str) -> None:
    people = {"legal_representative": "张三", "controller": "张三", "chairman": chairman}
    a_filed_record(desk, customer, people, key="basic", as_of=as_of)


def _fired(desk: CreditDesk, customer: CustomerId) -> list[tuple[Severity, RiskEventStatus]]:
    with desk.store.unit_of_work() as uow:
        return [
            (e.severity, e.status)
            for e in uow.risk_events.find(customer_id=customer)
            if e.type == TRIGGER
        ]


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_new_chairman_raises_one_red_event_and_freezes_the_limits(
    store: str, tmp_path: Path
) -> None:
    url = "memory://" if store == "memory" else f"sqlite:///{tmp_path / 'book.db'}"
    with a_desk(url) as desk:
        customer, _ = a_funded_customer(desk)
        _basic_info(desk, customer, date(2026, 1, 15), chairman="李四")
        assert desk.run_daily(DAY).new_risk_events == 0  # first named: no change
        _basic_info(desk, customer, DAY, chairman="王五")
        first = desk.run_daily(DAY + relativedelta(days=1))
        again = desk.run_daily(DAY + relativedelta(days=2))
        assert (first.new_risk_events, again.new_risk_events) == (1, 0)
        assert _fired(desk, customer) == [(Severity.RED, RiskEventStatus.OPEN)]
        with desk.store.unit_of_work() as uow:
            statuses = {f.status for f in uow.facilities.find(customer_ids=[customer])}
            file = uow.credit_files.for_customer(customer)
        assert statuses == {FacilityStatus.FROZEN}
        assert file is not None  # read back from the store, archived entry and all
        assert [e.archived for e in file.entries if e.key == "basic"] == [True, False]
        assert file.key_person_changes(since=DAY) == [
            KeyPersonChange(key="basic", on=DAY, facts=("chairman",))
        ]


def _statuses(desk: CreditDesk, customer: CustomerId) -> set[FacilityStatus]:
    with desk.store.unit_of_work() as uow:
        return {f.status for f in uow.facilities.find(customer_ids=[customer])}


@pytest.mark.parametrize("incremental", [False, True])
def test_a_handled_change_stays_handled_until_key_persons_change_again(incremental: bool) -> None:
    with a_desk() as desk:
        customer, _ = a_funded_customer(desk)
        _basic_info(desk, customer, date(2026, 1, 15), chairman="李四")
        _basic_info(desk, customer, DAY, chairman="王五")
        desk.run_daily(DAY)
        with desk.store.unit_of_work() as uow:
            (event,) = uow.risk_events.find(customer_id=customer)
            frozen = uow.facilities.find(customer_ids=[customer])
        desk.acknowledge(RISK, event.id)
        desk.resolve(RISK, event.id, note="new chairman met; group support confirmed")
        for facility in sorted(frozen, key=lambda f: f.parent_id is not None):  # parents first
            desk.unfreeze(RISK, facility.id, reason="early warning handled")
        for days in (1, 2, 40):  # a month-end among them
            desk.run_daily(DAY + relativedelta(days=days), incremental=incremental)
        assert _fired(desk, customer) == [(Severity.RED, RiskEventStatus.RESOLVED)]
        assert _statuses(desk, customer) == {FacilityStatus.ACTIVE}
        cfo = date(2026, 4, 20)  # another change within the year: news again
        _basic_info(desk, customer, cfo, chairman="赵六")
        assert desk.run_daily(cfo, incremental=incremental).new_risk_events == 1
        assert sorted(_fired(desk, customer)) == [
            (Severity.RED, RiskEventStatus.OPEN),
            (Severity.RED, RiskEventStatus.RESOLVED),
        ]
        assert _statuses(desk, customer) == {FacilityStatus.FROZEN}


def test_a_change_reported_13_months_before_the_run_raises_none() -> None:
    with a_desk() as desk:
        old, _ = a_funded_customer(desk, serial=1)
        recent, _ = a_funded_customer(desk, serial=2)
        for customer, months in ((old, 13), (recent, 11)):
            changed = DAY - relativedelta(months=months)
            _basic_info(desk, customer, changed - relativedelta(months=1), chairman="李四")
            _basic_info(desk, customer, changed, chairman="王五")
        desk.run_daily(DAY)
        assert _fired(desk, old) == []
        assert _fired(desk, recent) == [(Severity.RED, RiskEventStatus.OPEN)]


def test_an_incremental_run_fires_on_the_date_of_a_change_reported_ahead() -> None:
    with a_desk() as desk:
        customer, _ = a_funded_customer(desk)
        effective = date(2026, 3, 20)  # e.g. a board resolution naming the next chairman
        _basic_info(desk, customer, date(2026, 1, 15), chairman="李四")
        _basic_info(desk, customer, effective, chairman="王五")
        desk.run_daily(DAY)
        assert _fired(desk, customer) == []
        with desk.store.unit_of_work() as uow:
            mark = uow.customers.get(customer).monitoring
        assert mark is not None and mark.next_check == effective
        desk.run_daily(date(2026, 3, 19), incremental=True)
        assert _fired(desk, customer) == []
        assert desk.run_daily(effective, incremental=True).new_risk_events == 1
        assert _fired(desk, customer) == [(Severity.RED, RiskEventStatus.OPEN)]


def test_key_person_changed_is_fed_for_a_year_up_to_the_run_date() -> None:
    customer = a_customer()
    file = a_credit_file(customer_id=customer.id)
    for as_of, cfo in (
        (date(2024, 1, 31), "甲"),
        (date(2024, 2, 29), "乙"),
        (date(2025, 6, 1), "丙"),
    ):
        file.record(
            key="basic", section=Section.BASIC_INFO, source="s", as_of=as_of, facts={"cfo": cfo}
        )

    def fed(day: date) -> bool:
        return bool(warning_inputs(customer, file, 0, (), (), day).get("key_person_changed"))

    # the 29 February 2024 change is news to 28 February 2025, gone on 1 March (a grade's year)
    assert [fed(d) for d in (date(2025, 2, 28), date(2025, 3, 1))] == [True, False]
    assert [fed(d) for d in (date(2025, 5, 31), date(2025, 6, 1), date(2026, 5, 31))] == [
        False,
        True,
        True,
    ]
    assert fed(date(2026, 6, 1)) is False
    assert key_person_news_starts(file, date(2025, 3, 1)) == date(2025, 6, 1)
    assert key_person_news_starts(file, date(2025, 6, 1)) is None
    assert key_person_news_starts(None, date(2025, 6, 1)) is None
    # the day the input turns false, as `fed` sees it: the mark's check date
    for day in (date(2024, 2, 29), date(2025, 2, 28), date(2025, 6, 1), date(2026, 5, 31)):
        ends = key_person_news_ends(file, day)
        assert ends is not None and fed(ends - timedelta(days=1)) and not fed(ends), day
    assert key_person_news_ends(file, date(2025, 2, 28)) == date(2025, 3, 1)
    assert key_person_news_ends(file, date(2025, 3, 1)) is None  # nothing is news
    assert key_person_news_ends(None, date(2025, 6, 1)) is None


def test_the_day_a_change_stops_being_news_is_a_check_date_of_the_mark() -> None:
    changed = date(2026, 3, 10)  # news to 9 March 2027
    days = (date(2026, 3, 11), date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11))

    def state(incremental: bool) -> tuple[object, ...]:
        with a_desk() as desk:
            customer, _ = a_funded_customer(desk, term_months=24)
            _basic_info(desk, customer, date(2026, 1, 15), chairman="李四")
            _basic_info(desk, customer, changed, chairman="王五")
            with assessments(desk) as calls:
                for day in days:
                    desk.run_daily(day, incremental=incremental)
            with desk.store.unit_of_work() as uow:
                return (
                    [d for d, n in calls if n],
                    sorted((e.type, e.status, e.business_date) for e in uow.risk_events.find()),
                    sorted(str(t.id) for t in uow.tasks.find(customer_id=customer)),
                    sorted(f.status for f in uow.facilities.find(customer_ids=[customer])),
                    uow.customers.get(customer).monitoring,
                )

    full, incremental = state(incremental=False), state(incremental=True)
    # the incremental run assesses on the day after the change, on 9 March (a month-end
    # passed and the trigger still fires) and on the 10th, when the trigger stops firing (the
    # mark keeps which triggers fired), not on the 11th: no date of the mark's
    assert incremental[0] == list(days[:3]) and full[0] == list(days)
    assert full[1:] == incremental[1:]
    assert full[1] == [(TRIGGER, RiskEventStatus.OPEN, date(2026, 3, 11))]
