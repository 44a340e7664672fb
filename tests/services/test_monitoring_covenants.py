"""Financial covenants in the daily run: a covenant filed through the desk and broken by the
latest financial statement raises one yellow `y_covenant_breach` event; one the statement
keeps, cannot be tested (no ratio, no statement) or a later statement cures, raises none."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from creditmgmt.domain.covenant import Covenant, CovenantBound, CovenantMetric
from creditmgmt.domain.credit_file import Section
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.risk import RiskEvent, RiskEventStatus, Severity
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.monitoring.signals import warning_inputs
from creditmgmt.testing.builders import a_credit_file, a_customer, a_statement
from creditmgmt.testing.desk import (
    ANALYST,
    FIXTURE_SOURCE,
    RISK,
    a_desk,
    a_filed_record,
    an_onboarded_customer,
)

TRIGGER = "y_covenant_breach"
DAY = date(2026, 3, 3)
#: DSCR of the latest statement `an_onboarded_customer` files (2025): 7 m ÷ 4 m = 1.75
BREACHED = Covenant(metric=CovenantMetric.DSCR, bound=CovenantBound.AT_LEAST, threshold=Decimal(2))
KEPT = Covenant(metric=CovenantMetric.DSCR, bound=CovenantBound.AT_LEAST, threshold=Decimal("1.75"))


def _file(desk: CreditDesk, customer: CustomerId, covenant: Covenant, key: str = "dscr") -> None:
    a_filed_record(desk, customer, covenant, key=f"covenant:{key}", as_of=date(2026, 2, 1))


def _breaches(desk: CreditDesk, customer: CustomerId) -> list[RiskEvent]:
    with desk.store.unit_of_work() as uow:
        return [e for e in uow.risk_events.find(customer_id=customer) if e.type == TRIGGER]


def _config(store: str, tmp_path: Path) -> Any:
    return {
        "memory": "memory://",
        "sqlite": f"sqlite:///{tmp_path / 'book.db'}",
        "file": {"url": f"file://{tmp_path / 'book'}", "create": True},
    }[store]


@pytest.mark.parametrize("store", ["memory", "sqlite", "file"])
def test_a_breached_covenant_raises_one_yellow_event_and_a_kept_one_none(
    store: str, tmp_path: Path, desks: Callable[..., CreditDesk]
) -> None:
    config = _config(store, tmp_path)
    desk = desks(config)

    def reopened() -> CreditDesk:  # a new desk reads what the store gave back
        if store == "memory":
            return desk
        desk.close()
        return desks(config)

    breached = an_onboarded_customer(desk, serial=1)
    kept = an_onboarded_customer(desk, serial=2)
    _file(desk, breached, BREACHED)
    _file(desk, kept, KEPT)  # at the threshold: kept
    desk = reopened()
    (entry,) = [e for e in desk.credit_file(ANALYST, breached).entries if e.covenant is not None]
    assert (entry.section, entry.covenant, entry.source) == (
        Section.COVENANTS,
        BREACHED,
        FIXTURE_SOURCE,
    )
    first = desk.run_daily(DAY)
    desk.run_daily(date(2026, 3, 4))
    desk = reopened()
    (event,) = _breaches(desk, breached)
    assert (event.severity, event.status, event.business_date) == (
        Severity.YELLOW,
        RiskEventStatus.OPEN,
        DAY,
    )
    assert _breaches(desk, kept) == []
    assert first.new_risk_events == 1


def test_a_handled_breach_is_raised_again_only_on_a_new_statement_that_breaks_it() -> None:
    with a_desk() as desk:
        cured, handled, again = (an_onboarded_customer(desk, serial=n) for n in (1, 2, 3))
        for customer in (cured, handled, again):
            _file(desk, customer, BREACHED)
        desk.run_daily(DAY)
        for customer in (cured, handled, again):
            (event,) = _breaches(desk, customer)
            desk.acknowledge(RISK, event.id)
            desk.resolve(RISK, event.id, note="covenant waiver requested")
        quarter = date(2026, 3, 31)
        desk.add_statement(
            ANALYST, cured, a_statement(period_end=quarter, operating_cash_flow="9000000")
        )  # DSCR 2.25: cured
        desk.add_statement(ANALYST, again, a_statement(period_end=quarter))  # 1.75: broken
        later = desk.run_daily(date(2026, 4, 1))
        desk.run_daily(date(2026, 4, 2))
        assert [e.status for e in _breaches(desk, cured)] == [RiskEventStatus.RESOLVED]
        # the same statement still breaks it: the resolved event covered that
        assert [e.status for e in _breaches(desk, handled)] == [RiskEventStatus.RESOLVED]
        assert sorted(e.status for e in _breaches(desk, again)) == [
            RiskEventStatus.OPEN,
            RiskEventStatus.RESOLVED,
        ]
        assert later.new_risk_events == 1


def test_no_statement_or_a_ratio_the_statement_cannot_give_is_no_breach() -> None:
    with a_desk() as desk:
        no_statement = an_onboarded_customer(desk, serial=1, statements=False)
        no_interest = an_onboarded_customer(desk, serial=2, statements=False)
        desk.add_statement(ANALYST, no_interest, a_statement(interest_expense="0"))
        coverage = Covenant(
            metric=CovenantMetric.INTEREST_COVERAGE,
            bound=CovenantBound.AT_LEAST,
            threshold=Decimal(3),
        )
        for customer in (no_statement, no_interest):
            _file(desk, customer, BREACHED)  # broken by the statement, where there is one
            _file(desk, customer, coverage, key="coverage")
        desk.run_daily(DAY)
        assert _breaches(desk, no_statement) == []
        assert len(_breaches(desk, no_interest)) == 1  # the DSCR covenant only
        # without the DSCR covenant, interest coverage the statement cannot give is no breach
        coverage_only = an_onboarded_customer(desk, serial=3, statements=False)
        desk.add_statement(ANALYST, coverage_only, a_statement(interest_expense="0"))
        _file(desk, coverage_only, coverage, key="coverage")
        desk.run_daily(date(2026, 3, 4))
        assert _breaches(desk, coverage_only) == []


def test_the_input_is_fed_only_with_a_covenant_and_a_statement() -> None:
    def fed(*records: dict[str, Any]) -> object:
        cf = a_credit_file()
        for n, record in enumerate(records):
            cf.record(key=f"k{n}", source="s", as_of=date(2026, 2, 1), **record)
        inputs = warning_inputs(a_customer(), cf, 0, (), (), DAY)
        return inputs.get("covenant_breach", "not fed")

    def statement(debt_service: str = "4000000") -> dict[str, Any]:
        return {
            "section": Section.FINANCIAL_STATEMENTS,
            "financial_statement": a_statement(debt_service=debt_service),
        }

    def covenant(c: Covenant) -> dict[str, Any]:
        return {"section": Section.COVENANTS, "covenant": c}

    assert fed() == "not fed"
    assert fed(statement()) == "not fed"
    assert fed(covenant(BREACHED)) == "not fed"
    assert fed(statement(), covenant(BREACHED)) is True
    assert fed(statement(), covenant(KEPT)) is False
    assert fed(statement(), covenant(KEPT), covenant(BREACHED)) is True
    assert fed(statement(debt_service="0"), covenant(BREACHED)) is False  # no DSCR
