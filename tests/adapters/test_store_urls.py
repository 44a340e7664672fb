"""Store URLs as in ARCHITECTURE.md, and the mapping form."""

from __future__ import annotations

from pathlib import Path

import pytest

from creditmgmt.adapters.files import FileBackend
from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.adapters.stores import open_store
from creditmgmt.adapters.unit_of_work import RecordStore
from creditmgmt.testing.builders import SequentialIds, a_customer
from creditmgmt.testing.conformance import fixed_clock


def _round_trip(store: RecordStore) -> None:
    customer = a_customer(SequentialIds(1))
    try:
        with store.unit_of_work() as uow:
            uow.customers.add(customer)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id) == customer
    finally:
        store.close()


def test_embedded_urls(tmp_path: Path) -> None:
    memory = open_store("memory://", clock=fixed_clock())
    assert isinstance(memory.backend, MemoryBackend)
    _round_trip(memory)
    sqlite = open_store(f"sqlite:///{tmp_path / 'book.db'}", clock=fixed_clock())
    assert isinstance(sqlite.backend, SqlBackend)
    _round_trip(sqlite)
    assert (tmp_path / "book.db").exists()
    _round_trip(open_store("sqlite://", clock=fixed_clock()))
    files = open_store(f"file://{tmp_path / 'desk'}", clock=fixed_clock())
    assert isinstance(files.backend, FileBackend)
    _round_trip(files)
    assert (tmp_path / "desk" / "journal.log").exists()


def test_mapping_form_passes_options(tmp_path: Path) -> None:
    store = open_store(
        {"url": f"file://{tmp_path}", "snapshot_every": 2, "lock_timeout": 0.5},
        clock=fixed_clock(),
    )
    assert isinstance(store.backend, FileBackend)
    assert store.backend.snapshot_every == 2
    store.close()
    sql = open_store({"url": "sqlite://", "table_prefix": "desk_"}, clock=fixed_clock())
    assert isinstance(sql.backend, SqlBackend)
    assert sql.backend.table("customer").name == "desk_customer"
    sql.close()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("oracle://scott@db/x", "unsupported store URL 'oracle"),
        ("postgresql+psycopg2://u@h/db", "unsupported store URL driver 'postgresql\\+psycopg2'"),
        ("memory://somewhere", "memory:// takes no path"),
        ("file://remote/share", "not a local file URL"),
        ({"url": "memory://", "schema": "x"}, "memory store does not take option\\(s\\) schema"),
        ({"url": "sqlite://", "snapshot_every": 3}, "sql store does not take .*snapshot_every"),
        ({"schema": "x"}, "needs its URL under 'url'"),
    ],
)
def test_bad_configuration_is_named(config: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_store(config, clock=fixed_clock())  # type: ignore[arg-type]


@pytest.mark.postgres
def test_bare_postgresql_url_means_psycopg3(postgres_schema: tuple[str, str]) -> None:
    url, schema = postgres_schema
    bare = url.replace("postgresql+psycopg://", "postgresql://")
    store = open_store({"url": bare, "schema": schema, "table_prefix": "url_"}, clock=fixed_clock())
    assert isinstance(store.backend, SqlBackend)
    assert store.backend.engine.url.drivername == "postgresql+psycopg"
    _round_trip(store)


@pytest.mark.mysql
def test_bare_mysql_url_means_pymysql(mysql_database: str) -> None:
    bare = mysql_database.replace("mysql+pymysql://", "mysql://")
    store = open_store({"url": bare, "table_prefix": "url_"}, clock=fixed_clock())
    assert isinstance(store.backend, SqlBackend)
    assert store.backend.engine.url.drivername == "mysql+pymysql"
    _round_trip(store)
