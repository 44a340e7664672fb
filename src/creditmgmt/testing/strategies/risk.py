"""Risk: early-warning events and the classification history (五级分类)."""

from __future__ import annotations

from functools import partial

from hypothesis import strategies as st

from creditmgmt.domain.classification import Category, ClassificationEntry, Stage
from creditmgmt.domain.ids import CustomerId, DrawdownId, FacilityId, UserId
from creditmgmt.domain.risk import RiskEvent, Severity
from creditmgmt.testing.strategies.values import (
    RULESET_REF,
    _attempt,
    business_dates,
    id_sources,
    money,
    texts,
    timestamps,
    users,
)


@st.composite
def risk_events(
    draw: st.DrawFn, *, customer_id: CustomerId | None = None, severity: Severity | None = None
) -> RiskEvent:
    """Early-warning events, acknowledged, escalated, resolved or annotated."""
    ids = draw(id_sources())
    at = draw(timestamps())
    event = RiskEvent.raise_(
        ids,
        type=draw(st.sampled_from(["EW-R-DPD", "EW-Y-UTIL", "EW-R-LITIGATION"])),
        severity=severity or draw(st.sampled_from(list(Severity))),
        customer_id=customer_id or CustomerId.new(ids),
        facility_id=draw(st.none() | st.just(FacilityId.new(ids))),
        detected_at=at,
        business_date=at.date(),
        rule_ref=f"{RULESET_REF}/EW",
        reason_code=draw(texts()),
    )
    by = UserId("usr_risk")
    steps = draw(st.lists(st.sampled_from(["ack", "escalate", "resolve", "note"]), max_size=4))
    for step in steps:
        handle = {
            "ack": event.acknowledge,
            "escalate": event.escalate,
            "resolve": event.resolve,
            "note": event.add_note,
        }[step]
        _attempt(partial(handle, by=by, at=at, note=draw(texts(min_size=1))))
    return event


@st.composite
def classification_entries(
    draw: st.DrawFn,
    *,
    min_dpd: int = 0,
    max_dpd: int = 2000,
    category: Category | None = None,
    customer_id: CustomerId | None = None,
    facility_id: FacilityId | None = None,
) -> ClassificationEntry:
    """Classification decisions with days past due in `[min_dpd, max_dpd]`, of `category`
    (any when None), for the given customer and facility (fresh ids when None)."""
    ids = draw(id_sources())
    return ClassificationEntry.decide(
        ids,
        customer_id=customer_id or CustomerId.new(ids),
        facility_id=facility_id or FacilityId.new(ids),
        drawdown_id=draw(st.none() | st.just(DrawdownId.new(ids))),
        as_of=draw(business_dates()),
        category=category or draw(st.sampled_from(list(Category))),
        previous_category=draw(st.none() | st.sampled_from(list(Category))),
        stage=draw(st.sampled_from(list(Stage))),
        dpd=draw(st.integers(min_dpd, max_dpd)),
        provision=draw(st.none() | money(min_value="0")),
        ruleset_ref=RULESET_REF,
        reason=draw(texts(min_size=0)),
        decided_by=draw(st.none() | users()),
    )


__all__ = ["classification_entries", "risk_events"]
