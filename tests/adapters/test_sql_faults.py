"""SQL-specific behaviour: dropped connections, several processes, Decimal fidelity."""

from __future__ import annotations

import itertools
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from creditmgmt.adapters.records.contract import OutboxEntry
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.domain import Money, ProductType
from creditmgmt.ports.errors import StoreUnavailableError
from creditmgmt.testing.builders import SequentialIds, a_facility_tree
from creditmgmt.testing.conformance import AT, TEST_KINDS, fixed_clock, thing

_prefixes = itertools.count()
WORKER = Path(__file__).with_name("sql_draw_worker.py")


@pytest.fixture
def server(sql_database: tuple[str, str | None]) -> tuple[str, str, str]:
    """(url, schema or "", table prefix) on each database."""
    url, schema = sql_database
    return url, schema or "", f"f{next(_prefixes)}_"


def _kill_hook(backend: SqlBackend) -> list[str]:
    """Kill the writing connection from outside right after its first INSERT."""
    killer = sa.create_engine(backend.engine.url)
    killed: list[str] = []

    @sa.event.listens_for(backend.engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if killed or not statement.lstrip().upper().startswith("INSERT"):
            return
        raw = conn.connection.dbapi_connection
        with killer.begin() as k:
            if backend.dialect == "postgresql":
                k.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": raw.info.backend_pid})
            else:
                k.exec_driver_sql(f"KILL {raw.thread_id()}")
        killed.append(statement)

    return killed


def test_connection_killed_mid_commit(sql_server: tuple[str, str | None]) -> None:
    url, schema = sql_server
    backend = SqlBackend.from_url(
        url, kinds=TEST_KINDS, schema=schema, table_prefix=f"k{next(_prefixes)}_"
    )
    try:
        killed = _kill_hook(backend)
        tx = backend.begin()
        tx.insert(thing("t1"))
        tx.append_outbox([OutboxEntry("thing", "t1", "Made", {}, AT)])
        with pytest.raises(StoreUnavailableError, match="unavailable"):
            tx.commit()
        assert killed
        check = backend.begin()
        assert check.get("thing", "t1") is None  # nothing half-written
        check.rollback()
        assert backend.read_outbox() == []
        again = backend.begin()
        again.insert(thing("t2"))
        again.commit()  # the pool replaced the dead connection
        assert backend.begin().get("thing", "t2") is not None
    finally:
        backend.close()


def test_unreachable_server_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailableError):
        SqlBackend.from_url("postgresql+psycopg://postgres@127.0.0.1:1/none")


@pytest.mark.slow
def test_four_processes_drawing_on_one_facility(server: tuple[str, str, str]) -> None:
    url, schema, prefix = server
    backend = SqlBackend.from_url(url, schema=schema or None, table_prefix=prefix)
    store = RecordStore(backend, clock=fixed_clock())
    tree = a_facility_tree(
        SequentialIds(),
        group_limit="1000.00",
        masters=("1000.00",),
        products=((ProductType.WORKING_CAPITAL, "1000.00"),),
    )
    with store.unit_of_work() as uow:
        for node in tree.nodes:
            uow.facilities.add(node)
        uow.commit()
    node_id = tree.products[0].id
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, schema, prefix, str(node_id), "15"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    granted = 0
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        granted += int(out.strip())
    assert granted == 40  # 60 attempts of 25.00 against 1000.00
    with store.unit_of_work() as uow:
        path = uow.facilities.path_to_root(node_id)
    assert all(n.drawn == Money.of("1000.00", "CNY") for n in path)
    store.close()


def test_large_amounts_are_exact_in_columns(server: tuple[str, str, str]) -> None:
    url, schema, prefix = server
    backend = SqlBackend.from_url(url, kinds=TEST_KINDS, schema=schema or None, table_prefix=prefix)
    try:
        tx = backend.begin()
        tx.insert(thing("big", amount=Decimal("999999999999999.99")))
        tx.insert(thing("small", code="s", amount=Decimal("-0.01")))
        tx.commit()
        got = backend.begin().get("thing", "big")
        assert got is not None
        assert got.columns["amount"] == Decimal("999999999999999.99")
        ordered = backend.begin().find("thing", order_by="amount")
        assert [r.id for r in ordered] == ["small", "big"]
    finally:
        backend.close()
