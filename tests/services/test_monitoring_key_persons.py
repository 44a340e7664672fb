"""A change of controller, chairman or CFO recorded in the credit file's basic information is
news for a year: the daily run raises one red `r_key_person_change` event and freezes the
undrawn limits, on the memory and SQLite stores, in full and incremental runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

from creditmgmt.domain.credit_file import KeyPersonChange, Section
from creditmgmt.domain.facility import FacilityStatus
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.risk import RiskEventStatus, Severity
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.monitoring.signals import warning_inputs
from creditmgmt.testing.builders import a_credit_file, a_customer
from creditmgmt.testing.desk import ANALYST, a_desk, a_funded_customer

TRIGGER = "r_key_person_change"
DAY = date(2026, 3, 3)  # the day after a_funded_customer's approval


def _basic_info(desk: CreditDesk, customer: CustomerId, as_of: date, chairman: str) -> None:
    desk.add_file_entry(
        ANALYST,
        customer,
        key="basic",
        section="basic_info",
        source="national enterprise credit information publicity system",
        as_of=as_of,
        facts={"legal_representative": "张三", "controller": "张三", "chairman": chairman},
    )


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
