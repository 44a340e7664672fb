"""The wheel as a host installs it: built from this tree, installed into a fresh virtual
environment with the `testing` and `sql` extras, and the shipped conformance suite run there
against the installed package — not the source tree."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HOST_SUITE = """
from collections.abc import Mapping

import creditmgmt
from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.testing.conformance import RecordBackendContract, UnitOfWorkContract, fixed_clock
from creditmgmt.testing.desk import RM, a_desk, a_funded_customer
from creditmgmt.testing.builders import M


def test_the_package_comes_from_site_packages():
    assert "site-packages" in creditmgmt.__file__, creditmgmt.__file__


class TestInstalledMemoryRecords(RecordBackendContract):
    def create_backend(self, kinds):
        return MemoryBackend(kinds)


class TestInstalledSqliteUnitOfWork(UnitOfWorkContract):
    def create_store(self):
        return RecordStore(SqlBackend.from_url("sqlite://"), clock=fixed_clock())

    def corrupt_document(self, store, kind, record_id, text):
        table = store.backend.table(kind)
        with store.backend.engine.begin() as conn:
            conn.execute(table.update().where(table.c.id == record_id).values(document=text))


def test_the_desk_runs_from_the_wheel():
    desk = a_desk()
    _, facility = a_funded_customer(desk)
    desk.draw(RM, facility, M("100.00 CNY"), key="k")
    assert desk.verify_audit().ok
"""


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.mark.slow
def test_the_wheel_installs_and_passes_the_conformance_suite(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT)
    (wheel,) = dist.glob("creditmgmt-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "creditmgmt/py.typed" in names
    assert "creditmgmt/policies/builtin/cn-2023.yaml" in names
    assert not any(n.startswith("tests/") for n in names)
    env_dir = tmp_path / "host"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    _run(python, "-m", "pip", "install", "-q", f"{wheel}[testing,sql]")
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_host_adapter.py").write_text(HOST_SUITE, encoding="utf-8")
    out = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", suite, cwd=suite)
    assert " passed" in out and "failed" not in out
