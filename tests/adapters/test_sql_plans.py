"""SQLite plans without statistics: a filter on a column of few values (a status) must not
decide how the rows are found when the query also filters a column of many (a customer)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from creditmgmt.adapters.records.unit_of_work import RecordStore, RecordUnitOfWork
from creditmgmt.adapters.sql.backend import SqlBackend
from creditmgmt.adapters.stores import open_store
from creditmgmt.domain.facility import FacilityStatus
from creditmgmt.domain.ids import CustomerId, FacilityId
from creditmgmt.domain.loan import LoanStatus
from creditmgmt.testing.conformance import fixed_clock

CUSTOMERS = [CustomerId(f"cus_{n:04d}") for n in range(40)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[RecordStore, Path]]:
    path = tmp_path / "book.db"
    store = open_store(f"sqlite:///{path}", clock=fixed_clock())
    yield store, path
    store.close()


def _plans(store: RecordStore, path: Path, read: Callable[[RecordUnitOfWork], object]) -> list[str]:
    """The plan SQLite gives each SELECT that `read` sends (EXPLAIN QUERY PLAN, same arguments)."""
    backend = store.backend
    assert isinstance(backend, SqlBackend)
    sent: list[tuple[str, Any]] = []

    def grab(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    event.listen(backend.engine, "before_cursor_execute", grab)
    try:
        with store.unit_of_work() as uow:
            read(uow)
    finally:
        event.remove(backend.engine, "before_cursor_execute", grab)
    plain = sqlite3.connect(path)
    try:
        return [
            " / ".join(row[3] for row in plain.execute(f"EXPLAIN QUERY PLAN {sql}", args))
            for sql, args in sent
            if "cm_schema" not in sql
        ]
    finally:
        plain.close()


@pytest.mark.parametrize(
    "read",
    [
        lambda uow: uow.drawdowns.find(customer_ids=CUSTOMERS, status=LoanStatus.PERFORMING),
        lambda uow: uow.drawdowns.find(customer_id=CUSTOMERS[0], status=LoanStatus.PERFORMING),
    ],
    ids=["a batch of customers", "one customer"],
)
def test_a_status_beside_customers_lets_the_customer_index_find_the_rows(
    store: tuple[RecordStore, Path], read: Callable[[RecordUnitOfWork], object]
) -> None:
    (plan,) = _plans(*store, read)
    assert "ix_cm_drawdown_customer_id_id" in plan, plan
    assert "status" not in plan.split("USING")[1].split("/")[0], plan


def test_a_status_beside_a_facility_lets_the_facility_index_find_the_rows(
    store: tuple[RecordStore, Path],
) -> None:
    (plan,) = _plans(
        *store,
        lambda uow: uow.drawdowns.find(
            facility_id=FacilityId("fac_0001"), status=LoanStatus.PERFORMING
        ),
    )
    assert "ix_cm_drawdown_facility_id_id" in plan, plan


def test_a_status_alone_still_uses_its_index(store: tuple[RecordStore, Path]) -> None:
    (plan,) = _plans(*store, lambda uow: uow.facilities.find(status=FacilityStatus.ACTIVE))
    assert "ix_cm_facility_status_id" in plan, plan


def test_the_hint_changes_no_result(store: tuple[RecordStore, Path]) -> None:
    """The same rows with and without the other filter's index: `likely` is only a hint."""
    from creditmgmt.testing.builders import SequentialIds, a_loan

    ids = SequentialIds()
    loans = [a_loan(ids, customer_id=CUSTOMERS[n % 3]) for n in range(9)]
    loans[4].write_off(on=loans[4].drawn_on)
    s, _ = store
    with s.unit_of_work() as uow:
        for loan in loans:
            uow.drawdowns.add(loan)
        uow.commit()
    with s.unit_of_work() as uow:
        found = uow.drawdowns.find(customer_ids=CUSTOMERS[:2], status=LoanStatus.PERFORMING)
    expected = sorted(
        str(x.id)
        for x in loans
        if x.customer_id in CUSTOMERS[:2] and x.status is LoanStatus.PERFORMING
    )
    assert [str(x.id) for x in found] == expected and len(expected) == 5
