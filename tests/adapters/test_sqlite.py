from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
import sqlalchemy as sa

from creditmgmt.adapters.records import KindSpec, RecordBackend
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.adapters.unit_of_work import RecordStore
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
    assert backend.current_schema_version() == 1
    assert backend.migrate() == 1
    backend.close()
    again = SqlBackend.from_url(url)
    assert again.current_schema_version() == 1
    with again.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO cm_schema (version, applied_at) VALUES (2, 'x')"))
    again.close()
    from creditmgmt.ports.errors import DataError

    with pytest.raises(DataError, match="schema is version 2"):
        SqlBackend.from_url(url)


def test_unsupported_url_is_named() -> None:
    with pytest.raises(ValueError, match="oracle"):
        SqlBackend.from_url("oracle://x")
