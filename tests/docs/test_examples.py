"""examples/ runs as shipped: the host adapter's own suite passes, and docs/testing.md shows
its test module exactly as it is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "metered_backend"


def test_the_guide_shows_the_example_test_module_verbatim() -> None:
    guide = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    assert (EXAMPLE / "test_metered.py").read_text(encoding="utf-8") in guide


@pytest.mark.slow
def test_the_metered_backend_passes_the_shipped_contracts() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
         "--rootdir", ".", "-W", "error::pytest.PytestUnknownMarkWarning", "."],
        cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


def test_the_metered_backend_counts_what_it_sees() -> None:
    sys.path.insert(0, str(EXAMPLE))
    try:
        from metered import MeteredBackend  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(EXAMPLE))
    from creditmgmt.adapters.memory import MemoryBackend
    from creditmgmt.adapters.records.unit_of_work import RecordStore
    from creditmgmt.testing.builders import SequentialIds, a_customer
    from creditmgmt.testing.conformance import fixed_clock

    backend = MeteredBackend(MemoryBackend())
    store = RecordStore(backend, clock=fixed_clock())
    with store.unit_of_work() as uow:
        uow.customers.add(a_customer(SequentialIds(1)))
        uow.commit()
    assert (backend.commits, backend.records_written) == (1, 1)
