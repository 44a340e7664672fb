"""The strategies' keyword bounds hold, and `books()` draws a consistent, store-ready world."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.domain import (
    ApplicationStatus,
    CustomerKind,
    CustomerStatus,
    FacilityLevel,
    LimitTree,
    Money,
)
from creditmgmt.testing import strategies as cs
from creditmgmt.testing.conformance import fixed_clock

SLOW = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)


@given(cs.money(currency="JPY", min_value="100", max_value="5000"))
def test_money_stays_in_its_currency_and_bounds(m: Money) -> None:
    assert m.currency == "JPY" and Decimal(100) <= m.amount <= Decimal(5000)


@given(
    st.sampled_from(list(CustomerStatus)),
    st.booleans(),
    st.booleans(),
    st.data(),
)
def test_customer_bounds(
    status: CustomerStatus, remote: bool, in_group: bool, data: st.DataObject
) -> None:
    c = data.draw(
        cs.customers(kind=CustomerKind.SME, status=status, remote=remote, in_group=in_group)
    )
    assert c.kind is CustomerKind.SME and c.status is status
    assert c.is_remote is remote
    assert (c.group_id is not None) is in_group


@SLOW
@given(st.integers(1, 3), st.integers(1, 3), st.data())
def test_limit_tree_depth_width_and_invariants(depth: int, width: int, data: st.DataObject) -> None:
    tree = data.draw(
        cs.limit_trees(
            currency="USD", min_depth=depth, max_depth=depth, min_width=width, max_width=width
        )
    )
    assert tree.violations() == []
    levels = [FacilityLevel.GROUP, FacilityLevel.CUSTOMER, FacilityLevel.PRODUCT][:depth]
    assert {n.level for n in tree.nodes} == set(levels)
    assert len(tree.nodes) == sum(width**i for i in range(depth))
    assert {n.currency for n in tree.nodes} == {"USD"}


def test_limit_tree_depth_outside_the_three_levels_is_refused() -> None:
    @given(cs.limit_trees(max_depth=4))
    def draw(tree: LimitTree) -> None:
        raise AssertionError("drawn")

    with pytest.raises(InvalidArgument, match="depth"):
        draw()


@given(st.integers(0, 400), st.integers(0, 400), st.data())
def test_classification_dpd_range(a: int, b: int, data: st.DataObject) -> None:
    low, high = sorted((a, b))
    entry = data.draw(cs.classification_entries(min_dpd=low, max_dpd=high))
    assert low <= entry.dpd <= high


@SLOW
@given(st.sampled_from(list(ApplicationStatus)), st.data())
def test_applications_reach_the_asked_status(
    status: ApplicationStatus, data: st.DataObject
) -> None:
    app = data.draw(cs.applications(status=status))
    assert app.status is status
    if status in (ApplicationStatus.APPROVED, ApplicationStatus.DECLINED):
        assert app.decision is not None and app.decision.approved is (
            status is ApplicationStatus.APPROVED
        )


# books ---------------------------------------------------------------------------------------
@SLOW
@given(st.booleans(), st.booleans(), st.data())
def test_books_keep_every_invariant(groups: bool, arrears: bool, data: st.DataObject) -> None:
    book = data.draw(cs.books(customers=(2, 5), with_groups=groups, with_arrears=arrears))
    assert 2 <= len(book.customers) <= 5
    assert bool(book.groups) is groups
    assert any(d > 0 for d in book.dpd().values()) is arrears
    for tree in book.limit_trees():
        assert tree.violations() == []
    ids = [str(a.id) for a in book.aggregates()]
    assert len(ids) == len(set(ids))
    customer_ids = {c.id for c in book.customers}
    facility_ids = {f.id for f in book.facilities}
    assert all(d.customer_id in customer_ids for d in book.drawdowns)
    assert all(d.facility_id in facility_ids for d in book.drawdowns)
    for c in book.customers:
        if c.group_id is not None:
            group = next(g for g in book.groups if g.id == c.group_id)
            assert c.id in group.members
    # each facility's drawn money is what its loans still owe in principal
    for f in book.facilities:
        if f.level is FacilityLevel.PRODUCT:
            owed = [d.outstanding_principal for d in book.drawdowns if d.facility_id == f.id]
            assert f.drawn == Money.sum(owed, f.currency)
    assert {e.drawdown_id for e in book.classifications} == {d.id for d in book.drawdowns}


def _read_back(store: RecordStore, book: cs.Book) -> None:
    with store.unit_of_work() as uow:
        book.add_to(uow)
        uow.commit()
    with store.unit_of_work() as uow:
        for kind in ("customers", "groups", "facilities", "drawdowns", "credit_files"):
            for aggregate in getattr(book, kind):
                assert getattr(uow, kind).get(aggregate.id) == aggregate
        for kind in ("collaterals", "guarantees", "classifications"):
            for aggregate in getattr(book, kind):
                assert getattr(uow, kind).get(aggregate.id) == aggregate
        assert uow.customers.count() == len(book.customers)
        stored = LimitTree([uow.facilities.get(f.id) for f in book.facilities], complete=True)
    assert stored.violations() == []


@settings(SLOW, max_examples=10)
@given(cs.books(customers=(1, 4)))
def test_a_drawn_book_commits_to_memory_and_sqlite_and_reads_back_equal(book: cs.Book) -> None:
    _read_back(RecordStore(MemoryBackend(), clock=fixed_clock()), book)
    with tempfile.TemporaryDirectory() as tmp:
        store = RecordStore(
            SqlBackend.from_url(f"sqlite:///{Path(tmp) / 'book.db'}"), clock=fixed_clock()
        )
        try:
            _read_back(store, book)
        finally:
            store.close()
