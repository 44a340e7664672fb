"""Safe defaults of the embedded stores: owner-only files, no store made from a mistyped path.

The file store creates its directory 0o700 and its journal, snapshot and lock 0o600 (or the
host's `dir_mode` / `file_mode`) whatever the umask; a SQLite database file it creates is
0o600 and so are its -wal and -shm files. A path holding no file store is refused unless
`create=True`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from creditmgmt.adapters.files import FileBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.stores import open_store
from creditmgmt.ports.errors import ConfigurationError, StoreUnavailableError
from creditmgmt.testing.builders import SequentialIds, a_customer, make_uscc
from creditmgmt.testing.conformance import fixed_clock


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The common default umask, under which files are world-readable unless made otherwise."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write_some(store: RecordStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add(a_customer(SequentialIds(), registration_id=make_uscc(3)))
        uow.commit()


def test_a_file_store_is_owner_only_by_default(tmp_path: Path, umask_022: None) -> None:
    directory = tmp_path / "credit" / "book"
    store = open_store({"url": f"file://{directory}", "create": True}, clock=fixed_clock())
    _write_some(store)
    assert isinstance(store.backend, FileBackend)
    store.backend.snapshot()
    store.close()
    assert _mode(directory) == 0o700
    created = [directory / n for n in ("journal.log", "snapshot.cms", ".lock")]
    assert {p.name: _mode(p) for p in created} == {p.name: 0o600 for p in created}


def test_the_host_may_choose_the_modes(tmp_path: Path, umask_022: None) -> None:
    directory = tmp_path / "shared"
    backend = FileBackend(directory, create=True, file_mode=0o640, dir_mode=0o750)
    backend.snapshot()
    backend.close()
    assert _mode(directory) == 0o750
    assert _mode(directory / "journal.log") == 0o640
    assert _mode(directory / "snapshot.cms") == 0o640


def test_a_mode_that_is_no_mode_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="file_mode"):
        open_store(
            {"url": f"file://{tmp_path}", "create": True, "file_mode": "0600"},
            clock=fixed_clock(),
        )


def test_a_path_holding_no_store_is_refused_without_create(tmp_path: Path) -> None:
    mistyped = tmp_path / "var" / "lib" / "credti"
    with pytest.raises(StoreUnavailableError, match=f"no file store in {mistyped}.*create=True"):
        open_store(f"file://{mistyped}", clock=fixed_clock())
    assert not (tmp_path / "var").exists()  # nothing was made
    with pytest.raises(StoreUnavailableError, match="create=True"):
        FileBackend(tmp_path)  # an existing directory, but no store in it
    assert list(tmp_path.iterdir()) == []


def test_an_existing_store_opens_without_create(tmp_path: Path) -> None:
    store = open_store({"url": f"file://{tmp_path}", "create": True}, clock=fixed_clock())
    _write_some(store)
    store.close()
    again = open_store(f"file://{tmp_path}", clock=fixed_clock())
    with again.unit_of_work() as uow:
        assert uow.customers.count() == 1
    again.close()


def test_a_sqlite_database_is_owner_only(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "book.db"
    store = open_store(f"sqlite:///{path}", clock=fixed_clock())
    _write_some(store)
    files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
    assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    store.close()


def test_an_existing_sqlite_file_keeps_the_hosts_mode(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "book.db"
    path.touch(mode=0o640)
    os.chmod(path, 0o640)
    store = open_store(f"sqlite:///{path}", clock=fixed_clock())
    _write_some(store)
    store.close()
    assert _mode(path) == 0o640
