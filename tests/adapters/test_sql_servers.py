"""The record-backend and unit-of-work contracts on the database servers: each test runs on
PostgreSQL (the run's schema) and MariaDB/MySQL (the run's database), each store in tables of
its own (see tests/conftest.py: a server that cannot be reached skips, or fails when
CREDITMGMT_REQUIRE_SERVERS=1)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import pytest

from creditmgmt.adapters.records.contract import KindSpec, RecordBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.testing.conformance import (
    RecordBackendContract,
    UnitOfWorkContract,
    fixed_clock,
)

_prefixes = itertools.count()


class _OnServer:
    @pytest.fixture(autouse=True)
    def _server(self, sql_server: tuple[str, str | None]) -> None:
        self.url, self.schema = sql_server

    def open_backend(self, kinds: Mapping[str, KindSpec] | None = None) -> SqlBackend:
        # each store its own tables inside the run's schema (PostgreSQL) or database
        return SqlBackend.from_url(
            self.url, kinds=kinds, schema=self.schema, table_prefix=f"t{next(_prefixes)}_"
        )


class TestServerRecords(_OnServer, RecordBackendContract):
    def create_backend(self, kinds: Mapping[str, KindSpec]) -> RecordBackend:
        return self.open_backend(kinds)

    def reopen_backend(
        self, backend: RecordBackend, kinds: Mapping[str, KindSpec]
    ) -> RecordBackend:
        assert isinstance(backend, SqlBackend)
        backend.close()
        return SqlBackend.from_url(
            self.url, kinds=kinds, schema=self.schema, table_prefix=backend.table_prefix
        )


class TestServerUnitOfWork(_OnServer, UnitOfWorkContract):
    def create_store(self) -> RecordStore:
        return RecordStore(self.open_backend(), clock=fixed_clock())

    def corrupt_document(self, store: RecordStore, kind: str, record_id: str, text: str) -> None:
        backend = store.backend
        assert isinstance(backend, SqlBackend)
        table = backend.table(kind)
        with backend.engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == record_id).values(document=text))
