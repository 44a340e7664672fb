"""SQL outbox: schema 3 upgrade (pruning), and sequences visible in order under concurrency."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from creditmgmt.adapters.records.contract import OutboxEntry
from creditmgmt.adapters.sql import CURRENT_SCHEMA_VERSION, SqlBackend
from creditmgmt.ports.errors import DataError
from creditmgmt.testing.conformance import AT, TEST_KINDS

_prefixes = itertools.count()


@pytest.fixture
def server(sql_database: tuple[str, str | None]) -> tuple[str, str | None, str]:
    """(url, schema, table prefix) on each database."""
    url, schema = sql_database
    return url, schema, f"o{next(_prefixes)}_"


def _append(backend: SqlBackend, *labels: str) -> None:
    tx = backend.begin()
    tx.append_outbox(
        [OutboxEntry("thing", label, "Made", {"label": label}, AT) for label in labels]
    )
    tx.commit()


def test_a_schema_2_outbox_is_upgraded_and_never_reuses_a_pruned_sequence(
    server: tuple[str, str | None, str],
) -> None:
    url, schema, prefix = server
    old = SqlBackend.from_url(
        url, kinds=TEST_KINDS, schema=schema, table_prefix=prefix, create=False
    )
    assert old.migrate(to=2) == 2  # exactly what release 0.2 created: no outbox state
    _append(old, "a", "b")
    _append(old, "c")
    before = [(e.sequence, e.document["label"]) for e in old.read_outbox()]
    assert not sa.inspect(old.engine).has_table(f"{prefix}outbox_state", schema=schema)
    old.close()
    backend = SqlBackend.from_url(url, kinds=TEST_KINDS, schema=schema, table_prefix=prefix)
    try:
        assert backend.current_schema_version() == CURRENT_SCHEMA_VERSION == 3
        assert [(e.sequence, e.document["label"]) for e in backend.read_outbox()] == before
        last = before[-1][0]
        assert backend.prune_outbox(through=last) == 3  # every entry: the table is empty
        _append(backend, "d")
        (entry,) = backend.read_outbox()
        assert entry.sequence > last  # SQLite: the rebuilt AUTOINCREMENT outbox
        assert entry.document["label"] == "d"
    finally:
        backend.drop_all()
        backend.close()


def test_a_reader_never_skips_an_entry_committed_late(
    server: tuple[str, str | None, str],
) -> None:
    """A unit that has written its entries but not yet committed holds back later units'
    entries, so a host paging with `after` and pruning what it read never skips one."""
    url, schema, prefix = server
    backend = SqlBackend.from_url(url, kinds=TEST_KINDS, schema=schema, table_prefix=prefix)
    inserted, release = threading.Event(), threading.Event()
    outbox_name = f"{prefix}outbox"

    @sa.event.listens_for(backend.engine, "after_cursor_execute")
    def _hold(_c: Any, _cur: Any, statement: str, *_args: Any) -> None:
        text = statement.lstrip().upper()
        if (
            threading.current_thread().name == "slow"
            and text.startswith("INSERT")
            and outbox_name.upper() in text
        ):
            inserted.set()
            release.wait(30)  # before the commit: its sequence is taken, not yet visible

    errors: list[BaseException] = []

    def run(label: str) -> None:
        try:
            _append(backend, label)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    slow = threading.Thread(target=run, args=("slow",), name="slow")
    fast = threading.Thread(target=run, args=("fast",), name="fast")
    try:
        slow.start()
        assert inserted.wait(30)
        fast.start()
        fast.join(timeout=0.5)  # it must wait for the slow unit (or commit after it)
        seen = backend.read_outbox()
        cursor = seen[-1].sequence if seen else 0
        release.set()
        backend.prune_outbox(through=cursor)  # a prune waits for writers holding the outbox
        slow.join(timeout=60)
        fast.join(timeout=60)
        assert not errors, errors
        seen += backend.read_outbox(after=cursor)
        assert sorted(e.document["label"] for e in seen) == ["fast", "slow"]
        assert [e.sequence for e in seen] == sorted(e.sequence for e in seen)
    finally:
        release.set()
        backend.drop_all()
        backend.close()


def test_pruning_a_store_below_schema_3_is_a_data_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = SqlBackend.from_url(url, kinds=TEST_KINDS, create=False)
    old.migrate(to=2)
    _append(old, "a")  # an older schema still commits
    with pytest.raises(DataError, match=r"schema is version 2.*needs schema 3"):
        old.prune_outbox(through=1)
    SqlBackend.from_url(url, kinds=TEST_KINDS).close()  # another opener migrates it
    assert old.prune_outbox(through=1) == 1
    old.close()
