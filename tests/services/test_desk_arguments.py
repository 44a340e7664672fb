"""Arguments of the domain's own types (`Money`, dates, statements, covenants, schedules)
given as something else — text, a float, a dict — are refused by the desk with
`InvalidValueError` naming the call and the parameter, before anything is read or written."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from tests.services.desk_state import stored_state

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.ids import CustomerId, FacilityId
from creditmgmt.domain.money import Money
from creditmgmt.services.arguments import checks_of
from creditmgmt.services.desk import CreditDesk
from creditmgmt.testing.desk import ANALYST, RISK, RM, a_desk, a_funded_customer


def _host(value: object) -> Any:
    """A value as untyped host code passes it (the type checker would refuse it here)."""
    return value


Call = Callable[[CreditDesk, CustomerId, FacilityId], object]
BAD: list[tuple[Call, str]] = [
    (
        lambda d, c, f: d.draw(RM, f, _host("1000.00 CNY"), key="k"),
        "draw: amount must be a Money, got str",
    ),
    (
        lambda d, c, f: d.repay(RM, f, _host(10.0), key="k"),
        "repay: amount must be a Money, got float",
    ),
    (
        lambda d, c, f: d.repay(RM, f, Money.of("1.00", "CNY"), key="k", on=_host("2026-03-02")),
        "repay: on must be a date or None, got str '2026-03-02'",
    ),
    (lambda d, c, f: d.run_daily(_host("2026-03-03")), "run_daily: as_of must be a date, got str"),
    (
        lambda d, c, f: d.add_statement(ANALYST, c, _host({"revenue": "1"})),
        "add_statement: statement must be a FinancialStatement, got dict",
    ),
    (
        lambda d, c, f: d.schedule_task(RM, c, title="call", due=_host("2026-03-09")),
        "schedule_task: due must be a date, got str",
    ),
    (
        lambda d, c, f: d.assess(ANALYST, _host("app_1"), pd="one in ten"),
        "assess: pd 'one in ten' is not a number",
    ),
    (
        lambda d, c, f: d.request_limit_change(RM, f, new_limit=_host(5_000_000), reason="x"),
        "request_limit_change: new_limit must be a Money, got int 5000000",
    ),
]


@pytest.mark.parametrize(("call", "message"), BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_an_argument_of_another_type_is_refused_naming_the_parameter(
    call: Call, message: str
) -> None:
    with a_desk() as desk:
        customer, facility = a_funded_customer(desk)
        before = stored_state(desk)
        with pytest.raises(InvalidValueError, match=message):
            call(desk, customer, facility)
        assert stored_state(desk) == before


def test_the_checked_calls_keep_their_signatures_and_take_ids_as_text() -> None:
    assert list(inspect.signature(CreditDesk.draw).parameters) == [
        "self",
        "by",
        "facility_id",
        "amount",
        "key",
        "schedule",
    ]
    assert [name for name, _, _ in checks_of(inspect.unwrap(CreditDesk.draw))] == [
        "amount",
        "schedule",
    ]
    with a_desk() as desk:
        _, facility = a_funded_customer(desk)
        view = desk.facility(RISK, _host(str(facility)))
        assert view.id == facility
        desk.freeze(RISK, facility, reason="check")
        assert desk.facility(RISK, facility).status.value == "frozen"
