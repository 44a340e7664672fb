"""Desks on real stores for the cross-store, concurrency and audit-tamper tests.

`store_config` is a fresh, empty store on SQLite (a file), PostgreSQL and MariaDB (its own
tables in the run's schema / database, see tests/conftest.py); `desks` opens desks on it
(closed at teardown) with the test clock, rules and bureau; `Book` walks a customer through
the credit process on a desk; `dump` reads everything a store holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from creditmgmt.adapters.clocks_and_ids import FixedClock, UuidIdSource
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain import FacilityId, Money
from creditmgmt.domain.ids import ApplicationId, CustomerId
from creditmgmt.services import Capital, CreditDesk, Principal, RetryPolicy, Role
from creditmgmt.testing import desk as kit

_prefixes = itertools.count()
_customers = itertools.count(1)


def sql_config(request: pytest.FixtureRequest, database: str, tmp_path: Path) -> dict[str, Any]:
    """A store mapping for `open_desk`: a SQLite file, or fresh tables on a server.

    On PostgreSQL each store gets a schema of its own, dropped when the requesting fixture
    is torn down (request it before `desks`, so that its desks are closed first): dropping
    every desk's tables with the run's schema at the end takes more locks than one
    transaction may hold (max_locks_per_transaction)."""
    prefix = f"d{next(_prefixes)}_"
    if database == "sqlite":
        return {"url": f"sqlite:///{tmp_path / 'desk.db'}"}
    if database == "postgres":
        url, run_schema = request.getfixturevalue("postgres_schema")
        schema = f"{run_schema}_{prefix.rstrip('_')}"
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')

        def drop() -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            engine.dispose()

        request.addfinalizer(drop)
        return {"url": url, "schema": schema}
    return {"url": request.getfixturevalue("mysql_database"), "table_prefix": prefix}


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ]
)
def store_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """A fresh, empty SQL store on each database (a mapping for `open_desk`)."""
    return sql_config(request, str(request.param), tmp_path)


OpenDesk = Callable[..., CreditDesk]


@pytest.fixture
def desks() -> Iterator[OpenDesk]:
    """`desks(config, capital=None, retry=None)`: a desk on the store `config` names
    (`testing.desk.a_desk`: cn-2023, a fixed clock at `DESK_AT`, a fake bureau; random ids,
    as several desks share a store), closed at teardown (closing twice is harmless)."""
    opened: list[CreditDesk] = []

    def open_(
        config: str | Mapping[str, Any],
        *,
        capital: Capital | None = None,
        retry: RetryPolicy | None = None,
    ) -> CreditDesk:
        desk = kit.a_desk(
            config,
            clock=FixedClock(kit.DESK_AT),
            ids=UuidIdSource(),  # type: ignore[arg-type]
            capital=capital,
            retry=retry,
        )
        opened.append(desk)
        return desk

    yield open_
    for desk in opened:
        desk.close()


class Book:
    """The people of a desk test (those of `testing.desk`, and two approvers of our own) and
    the credit process they run on one desk."""

    rm, analyst, approver, risk, auditor, admin = (
        kit.RM,
        kit.ANALYST,
        kit.APPROVER,
        kit.RISK,
        kit.AUDITOR,
        kit.ADMIN,
    )
    branch_approver = Principal("usr_br", roles={Role.APPROVER}, authority="branch")
    #: a relationship manager who is an approver too: may not approve what they submitted
    maker_checker = Principal(
        "usr_mc", roles={Role.RELATIONSHIP_MANAGER, Role.APPROVER}, authority="board"
    )

    def __init__(self, desk: CreditDesk) -> None:
        self.desk = desk

    def customer(self) -> CustomerId:
        """An onboarded SME with two statements and a bureau report on file."""
        cid = kit.an_onboarded_customer(self.desk, serial=next(_customers) * 7919 + 13)
        self.desk.pull_bureau_report(self.analyst, cid)
        return cid

    def assessed(
        self,
        cid: CustomerId,
        requested: str = "3000000.00",
        *,
        by: Principal | None = None,
    ) -> ApplicationId:
        """A submitted (by `by`, default the RM), documented and assessed application."""
        maker = by or self.rm
        app = self.desk.submit_application(
            maker,
            customer_id=cid,
            product_type="working_capital",
            requested=Money.of(requested, "CNY"),
            term_months=12,
            purpose="stock",
        )
        for document in ("business_licence", "financial_statements"):
            self.desk.receive_document(maker, app, document)
        self.desk.assess(self.analyst, app, pd="0.004")
        return app

    def facility(self, requested: str = "3000000.00") -> tuple[CustomerId, FacilityId]:
        """A new customer's active product facility, through approval by another principal
        (`testing.desk.a_funded_customer`)."""
        return kit.a_funded_customer(
            self.desk, serial=next(_customers) * 7919 + 13, limit=requested
        )


def dump(desk: CreditDesk) -> dict[str, Any]:
    """Everything the desk's store holds: every record of every kind (the aggregates of
    every repository, the audit entries and the chain head) with its version and document,
    and every outbox event."""
    store = desk.store
    assert isinstance(store, RecordStore)
    backend = store.backend
    tx = backend.begin()
    try:
        out: dict[str, Any] = {
            kind: {r.id: (r.version, r.document) for r in tx.find(kind)} for kind in backend.kinds
        }
    finally:
        tx.rollback()
    outbox: list[tuple[int, Any]] = []
    while batch := backend.read_outbox(after=outbox[-1][0] if outbox else 0, limit=500):
        outbox.extend((e.sequence, e.document) for e in batch)
    out["outbox"] = outbox
    return out


@pytest.fixture
def new_book() -> type[Book]:
    """`new_book(desk)`: a `Book` (principals + the credit process) on a desk."""
    return Book


@pytest.fixture
def dump_store() -> Callable[[CreditDesk], dict[str, Any]]:
    """`dump_store(desk)`: everything the desk's store holds (see `dump`)."""
    return dump


@pytest.fixture
def store_config_for(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Callable[[str], dict[str, Any]]:
    """`store_config_for("sqlite" | "postgres" | "mysql")`: a fresh store mapping there."""
    return lambda database: sql_config(request, database, tmp_path)
