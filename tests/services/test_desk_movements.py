"""Drawdowns, repayments, reservations and facility status through the desk (memory)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import attrs
import pytest
from tests.services.desk_state import stored_state

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.domain import (
    FacilityNotActiveError,
    InvalidTransitionError,
    InvalidValueError,
    LimitExceededError,
    OverpaymentError,
    RepaymentExceedsDrawnError,
)
from creditmgmt.domain.ids import FacilityId
from creditmgmt.domain.loan import Allocation, AllocationLine
from creditmgmt.domain.money import Money
from creditmgmt.ports.audit import AuditEntry
from creditmgmt.ports.errors import DataError
from creditmgmt.services import Capital, ConcentrationCapError, IdempotencyKeyError
from creditmgmt.services.core import Keyed
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.drawdowns import allocation_from_json, allocation_to_json
from creditmgmt.testing.builders import M
from creditmgmt.testing.desk import (
    ADMIN,
    ANALYST,
    APPROVER,
    DESK_AT,
    RISK,
    RM,
    a_desk,
    a_funded_customer,
    an_onboarded_customer,
)


def test_draw_books_a_loan_and_moves_the_whole_path() -> None:
    desk = a_desk()
    customer, facility = a_funded_customer(desk, limit="1000.00")
    loan_id = desk.draw(RM, facility, M("400.00 CNY"), key="pay-1")
    exposure = desk.customer_exposure(RM, customer)
    assert exposure.drawn == M("400.00 CNY") and exposure.available == M("600.00 CNY")
    assert all(n.drawn == M("400.00 CNY") for n in exposure.nodes)
    with desk.store.unit_of_work() as uow:
        loan = uow.drawdowns.get(loan_id)
    assert loan.amount == M("400.00 CNY") and loan.facility_id == facility
    assert loan.schedule.maturity == desk.facility(RM, facility).maturity_date


def test_the_facility_view_shows_the_stored_facility_field_for_field() -> None:
    desk = a_desk()
    customer, facility = a_funded_customer(desk, limit="1000.00")
    desk.draw(RM, facility, M("400.00 CNY"), key="pay-1")
    desk.reserve(RM, facility, M("100.00 CNY"), key="res-1")
    with desk.store.unit_of_work() as uow:
        stored = {f.id: f for f in uow.facilities.find(customer_id=customer)}
    views = desk.customer_exposure(RM, customer).nodes
    assert {v.id for v in views} == set(stored) and len(views) == 2
    for view in views:
        shown = attrs.asdict(view, recurse=False)
        assert shown == {name: getattr(stored[view.id], name) for name in shown}
    view = desk.facility(RM, facility)
    assert (view.drawn, view.reserved, view.available) == (
        M("400.00 CNY"),
        M("100.00 CNY"),
        M("500.00 CNY"),
    )
    assert view.product_type is not None and view.parent_id is not None


def test_a_repeated_key_returns_the_first_result_and_moves_nothing() -> None:
    desk = a_desk()
    _, facility = a_funded_customer(desk, limit="1000.00")
    first = desk.draw(RM, facility, M("400.00 CNY"), key="pay-1")
    before = stored_state(desk)
    assert desk.draw(RM, facility, M("400.00 CNY"), key="pay-1") == first
    assert stored_state(desk) == before
    with pytest.raises(IdempotencyKeyError, match="first used for"):
        desk.draw(RM, facility, M("500.00 CNY"), key="pay-1")
    assert stored_state(desk) == before
    allocation = desk.repay(RM, facility, M("100.00 CNY"), key="rcv-1")
    after_repay = stored_state(desk)
    assert desk.repay(RM, facility, M("100.00 CNY"), key="rcv-1") == allocation
    assert stored_state(desk) == after_repay


def test_limit_refusals_name_the_node_and_amounts_and_write_nothing() -> None:
    desk = a_desk()
    _, facility = a_funded_customer(desk, limit="1000.00")
    desk.draw(RM, facility, M("990.00 CNY"), key="a")
    before = stored_state(desk)
    with pytest.raises(LimitExceededError, match=r"15\.00 CNY .* limit 1000\.00 CNY, used 990\.00"):
        desk.draw(RM, facility, M("15.00 CNY"), key="b")
    assert stored_state(desk) == before


def test_the_group_limit_binds_siblings() -> None:
    desk = a_desk()
    a, fa = a_funded_customer(desk, serial=1, limit="400.00")
    b, fb = a_funded_customer(desk, serial=2, limit="400.00")
    desk.form_group(
        ADMIN, name="G-1", members=[a, b], limit=M("800.00 CNY"), start=date(2026, 3, 2),
        term_months=12,
    )  # fmt: skip
    with desk.store.unit_of_work() as uow:
        root = uow.groups.get(uow.customers.get(a).group_id).limit_facility_id  # type: ignore[arg-type]
    desk.draw(RM, fa, M("400.00 CNY"), key="1")
    desk.draw(RM, fb, M("390.00 CNY"), key="2")
    before = stored_state(desk)
    with pytest.raises(LimitExceededError, match=f"{root} \\(group\\)"):
        desk.draw(RM, fb, M("15.00 CNY"), key="3")
    assert stored_state(desk) == before


def test_concentration_caps_refuse_a_drawdown() -> None:
    approved = a_desk()
    _, facility = a_funded_customer(approved, limit="1000.00", approver=APPROVER)
    # the same book under a smaller capital base: one customer's loans <= 500.00
    capital = Capital(net_capital=M("5000.00 CNY"), tier1_net=M("4000.00 CNY"))
    desk = CreditDesk(approved.store, attrs.evolve(approved.context, capital=capital))
    desk.draw(RM, facility, M("500.00 CNY"), key="at-cap")  # equal to the cap: within it
    before = stored_state(desk)
    with pytest.raises(ConcentrationCapError, match=r"exposure of 500\.01 CNY .* cap of 600\.00"):
        desk.draw(RM, facility, M("0.01 CNY"), key="over")
    assert stored_state(desk) == before


def test_frozen_and_closed_facilities_refuse_movements() -> None:
    desk = a_desk()
    _, facility = a_funded_customer(desk, limit="1000.00")
    desk.freeze(RISK, facility, reason="red warning")
    with pytest.raises(FacilityNotActiveError, match="frozen"):
        desk.draw(RM, facility, M("1.00 CNY"), key="f")
    desk.unfreeze(RISK, facility, reason="reviewed")
    desk.draw(RM, facility, M("10.00 CNY"), key="g")
    with pytest.raises(InvalidTransitionError, match=r"still has 10\.00 CNY drawn"):
        desk.close(RISK, facility, reason="done")
    desk.repay(RM, facility, desk_total_owed(desk, facility), key="all")
    desk.close(RISK, facility, reason="done")
    assert desk.facility(RM, facility).status.value == "closed"


def desk_total_owed(desk: CreditDesk, facility: FacilityId) -> Money:
    with desk.store.unit_of_work() as uow:
        loans = uow.drawdowns.find(facility_id=facility)
        return sum((loan.total_owed for loan in loans[1:]), loans[0].total_owed)


def test_repayment_allocates_interest_then_principal_and_restores_headroom() -> None:
    clock = FixedClock(DESK_AT)
    desk = a_desk(clock=clock)
    _, facility = a_funded_customer(desk, limit="100000.00")
    loan = desk.draw(RM, facility, M("100000.00 CNY"), key="d")
    clock.set(datetime(2026, 6, 2, 9, 0, tzinfo=UTC))
    allocation = desk.repay(RM, facility, M("60000.00 CNY"), key="r")
    assert allocation.total == M("60000.00 CNY")
    assert allocation.interest.is_positive and allocation.principal.is_positive
    view = desk.facility(RM, facility)
    assert view.drawn == M("100000.00 CNY") - allocation.principal
    with desk.store.unit_of_work() as uow:
        assert uow.drawdowns.get(loan).outstanding_principal == view.drawn
    before = stored_state(desk)
    with pytest.raises(OverpaymentError, match="not within"):
        desk.repay(RM, facility, M("999999.00 CNY"), key="too-much")
    assert stored_state(desk) == before


def test_reserve_then_commit_or_release() -> None:
    desk = a_desk()
    _, facility = a_funded_customer(desk, limit="1000.00")
    desk.reserve(RM, facility, M("600.00 CNY"), key="res-1")
    assert desk.facility(RM, facility).available == M("400.00 CNY")
    with pytest.raises(LimitExceededError):
        desk.draw(RM, facility, M("500.00 CNY"), key="blocked")
    desk.commit_reservation(RM, facility, M("500.00 CNY"), key="use-1")
    view = desk.facility(RM, facility)
    assert (view.drawn, view.reserved) == (M("500.00 CNY"), M("100.00 CNY"))
    with pytest.raises(RepaymentExceedsDrawnError, match=r"exceeds the 100\.00 CNY reserved"):
        desk.release(RM, facility, M("200.00 CNY"), key="rel-x")
    desk.release(RM, facility, M("100.00 CNY"), key="rel-1")
    assert desk.facility(RM, facility).available == M("500.00 CNY")


def test_open_limit_takes_over_an_existing_book() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk, statements=False)
    master = desk.open_limit(
        ADMIN, limit=M("5000.00 CNY"), start=date(2025, 1, 1), term_months=36, customer_id=customer
    )
    product = desk.open_limit(
        ADMIN, limit=M("3000.00 CNY"), start=date(2025, 1, 1), term_months=36,
        customer_id=customer, product_type="term_loan",
    )  # fmt: skip
    view = desk.facility(RM, product)
    assert view.parent_id == master and view.status.value == "active" and not view.revolving
    from creditmgmt.domain import SubLimitExceedsParentError
    from creditmgmt.services import PermissionDeniedError

    with pytest.raises(SubLimitExceedsParentError):
        desk.open_limit(
            ADMIN, limit=M("2000.01 CNY"), start=date(2025, 1, 1), term_months=36,
            customer_id=customer, product_type="overdraft",
        )  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        desk.open_limit(RM, limit=M("1.00 CNY"), start=date(2025, 1, 1), term_months=12,
                        customer_id=customer)  # fmt: skip
    assert ANALYST


@pytest.mark.parametrize(
    ("key", "refusal", "message"),
    [
        ("", IdempotencyKeyError, "non-empty string of at most 255 characters, got ''"),
        ("x" * 256, IdempotencyKeyError, "non-empty string of at most 255 characters"),
        ("bad\x00key", InvalidValueError, "key holds a NUL character"),
        ("lone\ud800", InvalidValueError, "key holds a lone surrogate"),
    ],
)
def test_unstorable_idempotency_keys_are_refused(
    key: str, refusal: type[Exception], message: str
) -> None:
    desk = a_desk()
    _, facility = a_funded_customer(desk)
    before = stored_state(desk)
    with pytest.raises(refusal, match=re.escape(message)):
        desk.draw(RM, facility, M("1.00 CNY"), key=key)
    assert stored_state(desk) == before


def test_a_keyed_result_that_cannot_be_read_is_a_data_error_naming_the_entry() -> None:
    request = {"amount": "100.00 CNY", "on": None}
    keyed = Keyed("rcv-1", request, allocation_to_json, allocation_from_json)
    good = allocation_to_json(
        Allocation((AllocationLine(1, M("0.00 CNY"), M("1.00 CNY"), M("99.00 CNY")),), "CNY")
    )
    for result in (good, {"currency": "CNY", "lines": "x"}, {"currency": "CNY", "lines": [[1]]}):
        entry = AuditEntry(
            id="key_repay_1",
            at=datetime(2026, 3, 2, tzinfo=UTC),
            actor="usr_rm",
            action="repay",
            subject="facility:fac_1",
            detail=json.dumps({"request": request, "result": result}),
        )
        if result is good:
            assert keyed.replay(entry, "repay").principal == M("99.00 CNY")
            continue
        with pytest.raises(DataError, match=r"repay: key 'rcv-1': audit entry key_repay_1 holds"):
            keyed.replay(entry, "repay")
