from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from creditmgmt.adapters.records.contract import KindSpec, RecordBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import CURRENT_SCHEMA_VERSION, SqlBackend
from creditmgmt.ports.errors import DataError
from creditmgmt.ports.slices import PortfolioSlice
from creditmgmt.testing.builders import SequentialIds, a_facility_tree
from creditmgmt.testing.conformance import (
    RecordBackendContract,
    UnitOfWorkContract,
    fixed_clock,
)


def corrupt_sql_document(store: RecordStore, kind: str, record_id: str, text: str) -> None:
    backend = store.backend
    assert isinstance(backend, SqlBackend)
    table = backend.table(kind)
    with backend.engine.begin() as conn:
        conn.execute(table.update().where(table.c.id == record_id).values(document=text))


class TestSqliteFileRecords(RecordBackendContract):
    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.path = tmp_path

    def create_backend(self, kinds: Mapping[str, KindSpec]) -> RecordBackend:
        return SqlBackend.from_url(f"sqlite:///{self.path / 'records.db'}", kinds=kinds)

    def reopen_backend(
        self, backend: RecordBackend, kinds: Mapping[str, KindSpec]
    ) -> RecordBackend:
        backend.close()
        return self.create_backend(kinds)


class TestSqliteMemoryRecords(RecordBackendContract):
    def create_backend(self, kinds: Mapping[str, KindSpec]) -> RecordBackend:
        return SqlBackend.from_url("sqlite://", kinds=kinds)


class TestSqliteUnitOfWork(UnitOfWorkContract):
    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.path = tmp_path
        self.n = 0

    def create_store(self) -> RecordStore:
        self.n += 1
        backend = SqlBackend.from_url(f"sqlite:///{self.path / f'store{self.n}.db'}")
        return RecordStore(backend, clock=fixed_clock())

    def corrupt_document(self, store: RecordStore, kind: str, record_id: str, text: str) -> None:
        corrupt_sql_document(store, kind, record_id, text)


class TestSqliteMemoryUnitOfWork(UnitOfWorkContract):
    """The in-memory database (one shared connection): a unit holds it from its first read."""

    def create_store(self) -> RecordStore:
        return RecordStore(SqlBackend.from_url("sqlite://"), clock=fixed_clock())

    def corrupt_document(self, store: RecordStore, kind: str, record_id: str, text: str) -> None:
        corrupt_sql_document(store, kind, record_id, text)


def test_sqlite_uses_wal_and_keeps_decimals_exact(tmp_path: Path) -> None:
    backend = SqlBackend.from_url(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with backend.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        backend.close()


def test_schema_version_is_recorded_and_migrate_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    backend = SqlBackend.from_url(url)
    assert backend.current_schema_version() == CURRENT_SCHEMA_VERSION
    assert backend.migrate() == CURRENT_SCHEMA_VERSION
    backend.close()
    again = SqlBackend.from_url(url)
    assert again.current_schema_version() == CURRENT_SCHEMA_VERSION
    with again.engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO cm_schema (version, applied_at) VALUES (:v, 'x')"),
            {"v": CURRENT_SCHEMA_VERSION + 1},
        )
    again.close()
    with pytest.raises(DataError, match=f"schema is version {CURRENT_SCHEMA_VERSION + 1}"):
        SqlBackend.from_url(url)


def _plan(backend: SqlBackend, query: sa.Select[Any]) -> str:
    sql = str(query.compile(backend.engine, compile_kwargs={"literal_binds": True}))
    with backend.engine.connect() as conn:
        return " / ".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_a_version_1_database_is_upgraded_with_its_data(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = SqlBackend.from_url(url, create=False)
    assert old.migrate(to=1) == 1  # exactly what release 0.1 created
    store = RecordStore(old, clock=fixed_clock())
    tree = a_facility_tree(SequentialIds(1))
    with store.unit_of_work() as uow:
        for node in tree.nodes:
            uow.facilities.add(node)
        uow.commit()
    names = {i["name"] for i in sa.inspect(old.engine).get_indexes("cm_facility")}
    assert "ix_cm_facility_status" in names
    store.close()
    upgraded = SqlBackend.from_url(url)  # opening runs the missing steps
    assert upgraded.current_schema_version() == CURRENT_SCHEMA_VERSION
    names = {i["name"] for i in sa.inspect(upgraded.engine).get_indexes("cm_facility")}
    assert "ix_cm_facility_status" not in names
    assert {"ix_cm_facility_status_id", "ix_cm_facility_bucket"} <= names
    with RecordStore(upgraded, clock=fixed_clock()).unit_of_work() as uow:
        assert {f.id for f in uow.facilities.tree(tree.root.id)} == {n.id for n in tree.nodes}
    t = upgraded.table("facility")
    keyset = (
        sa.select(t.c.id)
        .where(t.c.status == "active", t.c.id > "fac_0")
        .order_by(t.c.id)
        .limit(100)
    )
    plan = _plan(upgraded, keyset)
    assert "ix_cm_facility_status_id" in plan and "TEMP B-TREE" not in plan, plan
    upgraded.close()
    with pytest.raises(ValueError, match="schema versions are 1"):
        SqlBackend.from_url(url, create=False).migrate(to=CURRENT_SCHEMA_VERSION + 1)


def test_unsupported_url_is_named() -> None:
    with pytest.raises(ValueError, match="oracle"):
        SqlBackend.from_url("oracle://x")


def test_scans_seek_their_batches_through_an_index(tmp_path: Path) -> None:
    backend = SqlBackend.from_url(f"sqlite:///{tmp_path / 'scan.db'}")
    store = RecordStore(backend, clock=fixed_clock())
    trees = [a_facility_tree(SequentialIds(100 * i)) for i in range(1, 4)]
    with store.unit_of_work() as uow:
        for tree in trees:
            for node in tree.nodes:
                uow.facilities.add(node)
        uow.commit()
    statements: list[tuple[str, Any]] = []

    @sa.event.listens_for(backend.engine, "before_cursor_execute")
    def _capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    first = trees[0].customers[0].id
    with store.unit_of_work() as uow:
        by_status = [
            f for b in uow.facilities.scan(status=trees[0].root.status, batch_size=2) for f in b
        ]
        by_range = [
            f
            for b in uow.facilities.scan(slice=PortfolioSlice.customers(first), batch_size=2)
            for f in b
        ]
        maturing = [
            f
            for b in uow.facilities.scan(maturing_before=date(2100, 1, 1), batch_size=2)
            for f in b
        ]
    assert len(by_status) == len(maturing) == sum(len(t.nodes) for t in trees)
    assert len(by_range) == sum(len(t.nodes) - 1 for t in trees)  # group roots have no customer
    customer_ids = [f.customer_id for f in by_range if f.customer_id is not None]
    assert len(customer_ids) == len(by_range)
    assert customer_ids == sorted(customer_ids)
    plans = []
    with backend.engine.connect() as conn:
        for statement, parameters in statements:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plans.append(" / ".join(r[-1] for r in rows))
    assert plans and all("TEMP B-TREE" not in p for p in plans), plans
    assert any("ix_cm_facility_customer_id_id" in p for p in plans), plans
    assert any("ix_cm_facility_maturity_date_id" in p for p in plans), plans
    store.close()
