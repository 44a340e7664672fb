"""Risk-event handling and relationship work through the desk (memory store)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from creditmgmt.adapters.clocks_and_ids import SequentialIds
from creditmgmt.domain import InvalidTransitionError, InvalidValueError, RiskEvent, Severity
from creditmgmt.domain.ids import CustomerId, FacilityId, RiskEventId
from creditmgmt.services import PermissionDeniedError
from creditmgmt.services.desk import CreditDesk
from creditmgmt.testing.desk import AUDITOR, RISK, RM, a_desk, a_funded_customer

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _red_event(desk: CreditDesk, customer: CustomerId, facility: FacilityId) -> RiskEventId:
    event = RiskEvent.raise_(
        SequentialIds(900),
        type="r_dpd_over_30",
        severity=Severity.RED,
        customer_id=customer,
        facility_id=facility,
        detected_at=AT,
        business_date=date(2026, 3, 2),
        rule_ref="cn-2023@1.0.0#x/r_dpd_over_30",
        reason_code="EW_OVERDUE_OVER_30",
    )
    with desk.store.unit_of_work() as uow:
        uow.risk_events.add(event)
        uow.commit()
    return event.id


def test_risk_events_are_acknowledged_escalated_and_resolved() -> None:
    desk = a_desk()
    customer, facility = a_funded_customer(desk)
    event = _red_event(desk, customer, facility)
    desk.acknowledge(RM, event, note="called the CFO")
    desk.escalate(RISK, event, note="special assets")
    with pytest.raises(InvalidTransitionError, match="cannot go from escalated"):
        desk.acknowledge(RISK, event)
    with pytest.raises(PermissionDeniedError):
        desk.resolve(RM, event, note="not mine to close")
    with desk.store.unit_of_work() as uow:
        stored = uow.risk_events.get(event)
    assert stored.status.value == "escalated"
    assert [n.note for n in stored.notes] == ["called the CFO", "special assets"]
    desk.watchlist(RISK, customer, reason="red warning")
    with desk.store.unit_of_work() as uow:
        assert uow.customers.get(customer).status.value == "watchlist"


def test_complaints_get_a_response_task_and_the_timeline_shows_everything() -> None:
    desk = a_desk()
    customer, facility = a_funded_customer(desk)
    complaint = desk.log_interaction(
        RM, customer, kind="complaint", at=AT, summary="fee charged twice", channel="phone"
    )
    visit = desk.log_interaction(
        RM, customer, kind="visit", at=AT, summary="site visit", channel="visit",
        follow_up=date(2026, 4, 1),
    )  # fmt: skip
    items = desk.timeline(AUDITOR, customer)
    tasks = [i for i in items if i.kind == "task"]
    assert {t.summary for t in tasks} == {
        f"respond to complaint {complaint}",
        "follow up: site visit",
    }
    due = {t.summary: t.on for t in tasks}
    assert due[f"respond to complaint {complaint}"] == date(2026, 3, 9)  # 5 business days
    desk.resolve_complaint(RM, complaint, resolution="refunded")
    items = desk.timeline(AUDITOR, customer)
    assert next(i for i in items if i.id == str(complaint)).status == "resolved"
    assert next(i for i in items if i.summary.startswith("respond")).status == "done"
    kinds = [i.kind for i in items]
    assert "application" in kinds and "visit" in kinds and str(visit)
    with pytest.raises(InvalidTransitionError, match="not an open complaint"):
        desk.resolve_complaint(RM, complaint, resolution="again")
    assert facility


def test_surveys_and_tasks() -> None:
    desk = a_desk()
    customer, _ = a_funded_customer(desk)
    with pytest.raises(InvalidValueError, match=r"survey score must be 1\.\.5"):
        desk.log_interaction(RM, customer, kind="survey", at=AT, summary="q1", survey_score=7)
    desk.log_interaction(RM, customer, kind="survey", at=AT, summary="q1", survey_score=5)
    task = desk.schedule_task(
        RM, customer, title="collect 2026 Q1 statements", due=date(2026, 4, 15)
    )
    desk.complete_task(RM, task)
    with pytest.raises(InvalidTransitionError, match="already done"):
        desk.complete_task(RM, task)
