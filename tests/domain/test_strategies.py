"""The shipped strategies cover every public domain type and produce round-trippable objects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import creditmgmt.domain as domain
from creditmgmt.adapters.records import codec
from creditmgmt.domain import (
    ApplicationStatus,
    CustomerStatus,
    EntityId,
    FacilityLevel,
    FacilityStatus,
    LoanStatus,
    RiskEventStatus,
)
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.testing import strategies as cs

PUBLIC_TYPES = sorted(
    {
        obj
        for name in domain.__all__
        if isinstance(obj := getattr(domain, name), type)
        and (attrs.has(obj) or issubclass(obj, EntityId))
        and obj not in (EntityId, Aggregate, DomainEvent)
    },
    key=lambda t: t.__name__,
)


def test_every_public_value_and_entity_type_has_a_strategy() -> None:
    assert len(PUBLIC_TYPES) > 40
    missing = []
    for cls in PUBLIC_TYPES:
        try:
            cs.for_type(cls)
        except KeyError:
            missing.append(cls.__name__)
    assert missing == []
    with pytest.raises(KeyError, match="int"):
        cs.for_type(int)


@pytest.mark.parametrize("cls", PUBLIC_TYPES, ids=lambda t: t.__name__)
@settings(
    max_examples=15,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(data=st.data())
def test_generated_values_are_instances_and_round_trip(cls: type[Any], data: st.DataObject) -> None:
    value = data.draw(cs.for_type(cls))
    assert isinstance(value, cls)
    copy = codec.structure(codec.unstructure(value), type(value))
    assert copy == value
    assert copy is not value


@settings(max_examples=30)
@given(cs.domain_events())
def test_recorded_events_round_trip_through_the_event_union(event: DomainEvent) -> None:
    assert codec.decode_event(codec.encode_event(event)) == event


def test_registered_type_strategies_back_from_type() -> None:
    cs.register_type_strategies()

    @settings(max_examples=5)
    @given(st.from_type(domain.Money), st.from_type(domain.CustomerId))
    def check(money: domain.Money, customer_id: domain.CustomerId) -> None:
        assert money.is_positive
        assert customer_id.value.startswith("cus_")

    check()


REACHABLE: list[tuple[str, Callable[[], st.SearchStrategy[Any]], Callable[[Any], bool]]] = [
    *((f"customer {s.value}", cs.customers, lambda c, s=s: c.status is s) for s in CustomerStatus),
    ("customer in a group", cs.customers, lambda c: c.group_id is not None),
    ("remote customer", cs.customers, lambda c: c.is_remote),
    *(
        (f"facility {lv.value}", cs.facilities, lambda f, lv=lv: f.level is lv)
        for lv in FacilityLevel
    ),
    *(
        (f"facility {s.value}", cs.facilities, lambda f, s=s: f.status is s)
        for s in FacilityStatus
        if s not in (FacilityStatus.APPROVED, FacilityStatus.EXPIRED)
    ),
    ("facility with money drawn", cs.facilities, lambda f: f.drawn.is_positive),
    ("facility with collateral", cs.facilities, lambda f: bool(f.collateral_ids)),
    *(
        (f"application {s.value}", cs.applications, lambda a, s=s: a.status is s)
        for s in ApplicationStatus
    ),
    ("overridden rating", cs.assessments, lambda a: a.override_grade is not None),
    *((f"loan {s.value}", cs.loans, lambda ln, s=s: ln.status is s) for s in LoanStatus),
    ("loan with fees", cs.loans, lambda ln: ln.schedule.installments[0].fees.is_positive),
    *(
        (f"risk event {s.value}", cs.risk_events, lambda e, s=s: e.status is s)
        for s in RiskEventStatus
    ),
    ("archived credit file", cs.credit_files, lambda f: f.archived_on is not None),
    ("verified entry", cs.credit_files, lambda f: any(e.is_verified for e in f.entries)),
    ("litigation entry", cs.credit_files, lambda f: any(e.litigation for e in f.entries)),
    ("resolved complaint", cs.interactions, lambda i: i.resolution != ""),
    ("closed task", cs.tasks, lambda t: t.closed_on is not None),
    ("revalued collateral", cs.collaterals, lambda c: c.valuation.value.currency != "CNY"),
]


@pytest.mark.parametrize(
    ("what", "strategy", "predicate"), REACHABLE, ids=[r[0] for r in REACHABLE]
)
def test_strategies_reach_every_state(
    what: str, strategy: Callable[[], st.SearchStrategy[Any]], predicate: Callable[[Any], bool]
) -> None:
    # generate only: the first example that shows the state is enough (no shrinking)
    find(
        strategy(),
        predicate,
        settings=settings(
            max_examples=1000,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        ),
    )
