"""Store URLs as in ARCHITECTURE.md, and the mapping form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from creditmgmt.adapters.files import FileBackend
from creditmgmt.adapters.files import backend as files_backend
from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.memory import backend as memory_backend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.adapters.sql import backend as sql_backend
from creditmgmt.adapters.stores import open_store
from creditmgmt.ports import ConfigurationError
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
    files = open_store({"url": f"file://{tmp_path / 'desk'}", "create": True}, clock=fixed_clock())
    assert isinstance(files.backend, FileBackend)
    _round_trip(files)
    assert (tmp_path / "desk" / "journal.log").exists()


def test_mapping_form_passes_options(tmp_path: Path) -> None:
    store = open_store(
        {"url": f"file://{tmp_path}", "snapshot_every": 2, "lock_timeout": 0.5, "create": True},
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


@pytest.mark.parametrize(
    "url",
    [
        "postgress://app:S3cretPW@db/x",  # a mistyped scheme
        "postgresql+psycopg2://app:S3cretPW@db/x",  # an unsupported driver
        "mysql+mysqldb://app:S3cretPW@db/x",
    ],
)
def test_configuration_errors_never_show_the_password(url: str) -> None:
    from creditmgmt.ports.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as refused:
        open_store(url, clock=fixed_clock())
    message = str(refused.value)
    assert "S3cretPW" not in message
    assert "app:***@db" in message or "driver" in message
    assert isinstance(refused.value, ValueError)


def test_redact_hides_every_password() -> None:
    from creditmgmt.adapters.stores import redact

    text = "a postgresql+psycopg://u:p%40ss@h/db and mysql://root:x@127.0.0.1:3306/t sqlite:///a.db"
    assert redact(text) == (
        "a postgresql+psycopg://u:***@h/db and mysql://root:***@127.0.0.1:3306/t sqlite:///a.db"
    )


def test_a_missing_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from creditmgmt.ports.errors import ConfigurationError

    real_import = builtins.__import__

    def no_psycopg(name: str, *args: object, **kwargs: object) -> object:
        if name == "psycopg" or name.startswith("psycopg."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_psycopg)
    for cached in [m for m in __import__("sys").modules if m.startswith("psycopg")]:
        monkeypatch.delitem(__import__("sys").modules, cached)
    with pytest.raises(ConfigurationError, match=r"pip install creditmgmt\[postgres\]") as refused:
        open_store("postgresql+psycopg://app:S3cretPW@127.0.0.1/x", clock=fixed_clock())
    assert "S3cretPW" not in str(refused.value)


@pytest.mark.parametrize(
    ("module", "url", "option"),
    [
        (memory_backend, "memory://", "create"),
        (sql_backend, "sqlite://", "lock_timeout"),
        (files_backend, "file:///nowhere", "schema"),
    ],
)
def test_each_open_backend_names_an_option_it_does_not_take(
    module: Any, url: str, option: str
) -> None:
    with pytest.raises(ConfigurationError, match=f"does not take option\\(s\\) {option} "):
        module.open_backend(url, **{option: 1})


def test_open_store_hands_the_options_to_the_adapters_open_backend(tmp_path: Path) -> None:
    direct = files_backend.open_backend(f"file://{tmp_path}", create=True, snapshot_every=3)
    assert direct.snapshot_every == 3
    direct.close()
    through = open_store({"url": f"file://{tmp_path}", "snapshot_every": 5}, clock=fixed_clock())
    assert isinstance(through.backend, FileBackend) and through.backend.snapshot_every == 5
    through.close()
    sql = sql_backend.open_backend("sqlite://", table_prefix="t_")
    assert sql.table("customer").name == "t_customer"
    sql.close()
    assert isinstance(memory_backend.open_backend("memory://"), MemoryBackend)
