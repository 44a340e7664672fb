"""The domain events the issue names are recorded by the aggregates that change."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from typing import ClassVar

import attrs
import pytest

from creditmgmt.domain import Category, ClassificationEntry, DomainEvent, Repayment, RiskEvent
from creditmgmt.domain.classification import ClassificationChanged
from creditmgmt.domain.customer import CustomerOnboarded
from creditmgmt.domain.events import domain_event
from creditmgmt.domain.facility import DrawdownMade, FacilityActivated, LimitChanged
from creditmgmt.domain.ids import CustomerId, DrawdownId, FacilityId
from creditmgmt.domain.loan import RepaymentReceived
from creditmgmt.domain.risk import RiskEventRaised, Severity
from creditmgmt.testing.builders import M, SequentialIds, a_customer, a_facility_tree, a_loan

DAY = date(2026, 3, 2)
AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def only(events: tuple[DomainEvent, ...], cls: type[DomainEvent]) -> list[DomainEvent]:
    return [e for e in events if isinstance(e, cls)]


def test_customer_onboarded_says_whether_the_customer_is_remote() -> None:
    local = a_customer()
    remote = a_customer(home_region="330100", institution_region="310000")
    (event,) = local.pending_events
    assert event == CustomerOnboarded(
        aggregate_id=str(local.id), kind=local.kind, legal_name=local.legal_name, is_remote=False
    )
    assert only(remote.pending_events, CustomerOnboarded)[0].is_remote is True  # type: ignore[attr-defined]


def test_facility_activated_drawdown_made_and_limit_changed() -> None:
    t = a_facility_tree(activate=False)
    node = t.products[0]
    node.activate(on=DAY)
    assert only(node.pending_events, FacilityActivated) == [
        FacilityActivated(aggregate_id=str(node.id), on=DAY, limit=node.limit)
    ]
    for n in t.nodes:
        if n is not node:
            n.activate(on=DAY)
    t.limits.draw(node.id, M("100.00 CNY"), on=DAY, drawdown_id=DrawdownId("drw_1"))
    assert only(node.pending_events, DrawdownMade) == [
        DrawdownMade(aggregate_id=str(node.id), amount=M("100.00 CNY"), on=DAY, drawdown_id="drw_1")
    ]
    assert only(t.masters[0].pending_events, DrawdownMade) == []  # recorded once, on the leaf
    t.limits.change_limit(node.id, M("1500000.00 CNY"), on=DAY, reason="annual review")
    assert only(node.pending_events, LimitChanged) == [
        LimitChanged(
            aggregate_id=str(node.id),
            previous=M("2000000.00 CNY"),
            limit=M("1500000.00 CNY"),
            on=DAY,
            reason="annual review",
        )
    ]


def test_repayment_received_carries_the_allocation() -> None:
    loan = a_loan()
    first = loan.schedule.installments[0]
    loan.apply(Repayment(first.total, first.due_date, reference="BANK-REF-1"))
    (event,) = only(loan.pending_events, RepaymentReceived)
    assert event == RepaymentReceived(
        aggregate_id=str(loan.id),
        amount=first.total,
        on=first.due_date,
        fees=first.fees,
        interest=first.interest,
        principal=first.principal,
        reference="BANK-REF-1",
    )


def test_classification_changed_and_risk_event_raised() -> None:
    ids = SequentialIds()
    entry = ClassificationEntry.decide(
        ids,
        customer_id=CustomerId("cus_1"),
        facility_id=FacilityId("fac_1"),
        drawdown_id=DrawdownId("drw_1"),
        as_of=DAY,
        category=Category.SUBSTANDARD,
        previous_category=Category.SPECIAL_MENTION,
        dpd=91,
        ruleset_ref="cn-2023@1.0.0#0123456789ab",
    )
    (changed,) = entry.pending_events
    assert changed == ClassificationChanged(
        aggregate_id=str(entry.id),
        exposure_id="drw_1",
        as_of=DAY,
        previous=Category.SPECIAL_MENTION,
        category=Category.SUBSTANDARD,
        ruleset_ref="cn-2023@1.0.0#0123456789ab",
    )
    risk = RiskEvent.raise_(
        ids,
        type="EW-R-DPD",
        severity=Severity.RED,
        customer_id=CustomerId("cus_1"),
        facility_id=FacilityId("fac_1"),
        detected_at=AT,
        business_date=DAY,
        rule_ref="cn-2023@1.0.0#0123456789ab/EW-R-DPD",
        reason_code="DPD_OVER_30",
    )
    assert risk.pending_events == (
        RiskEventRaised(
            aggregate_id=str(risk.id),
            customer_id="cus_1",
            facility_id="fac_1",
            type="EW-R-DPD",
            severity=Severity.RED,
            rule_ref="cn-2023@1.0.0#0123456789ab/EW-R-DPD",
        ),
    )


def test_pulling_events_empties_the_aggregate_and_events_are_not_state() -> None:
    customer = a_customer()
    twin = a_customer()
    assert customer == twin  # the same facts: recorded events are not part of equality
    collected = customer.pull_events()
    assert [e.event_type for e in collected] == ["CustomerOnboarded"]
    assert customer.pending_events == ()
    assert customer == twin


def test_event_types_are_unique_stable_names() -> None:
    seen: dict[str, type[DomainEvent]] = {}
    stack = list(DomainEvent.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if getattr(sys.modules[cls.__module__], cls.__qualname__, None) is not cls:
            continue  # the pre-slots original attrs replaced, not yet garbage-collected
        assert cls.event_type == cls.__name__, cls
        assert seen.setdefault(cls.event_type, cls) is cls
    for name in (
        "CustomerOnboarded",
        "FacilityActivated",
        "DrawdownMade",
        "RepaymentReceived",
        "LimitChanged",
        "ClassificationChanged",
        "RiskEventRaised",
    ):
        assert name in seen


def test_domain_event_tags_with_the_class_name_unless_the_class_keeps_an_old_tag() -> None:
    @domain_event
    class Noted(DomainEvent):
        note: str

    @domain_event
    class NoteRenamed(DomainEvent):
        event_type: ClassVar[str] = "Noted2025"
        note: str

    assert (Noted.event_type, NoteRenamed.event_type) == ("Noted", "Noted2025")
    event = Noted(aggregate_id="c1", note="called")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.note = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Noted("c1", "called")  # type: ignore[call-arg]


@pytest.mark.parametrize("amount", ["0.00 CNY", "-1.00 CNY"])
def test_refused_movements_record_nothing(amount: str) -> None:
    t = a_facility_tree()
    before = [len(n.pending_events) for n in t.nodes]
    with pytest.raises(Exception, match="positive"):
        t.limits.draw(t.products[0].id, M(amount), on=DAY)
    assert [len(n.pending_events) for n in t.nodes] == before
