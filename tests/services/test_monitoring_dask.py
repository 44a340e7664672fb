"""The daily run's partitions as Dask distributed tasks (a `LocalCluster` in-process)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import pytest

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.bootstrap import open_desk
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.services.desk import CreditDesk
from creditmgmt.testing.book import BookSpec, load

distributed = pytest.importorskip("distributed")

from creditmgmt.services.monitoring.distributed import run_daily_on_dask  # noqa: E402

DAY = date(2026, 1, 5)


def _open(path: str) -> CreditDesk:
    """A desk opener the tasks can carry: a module function and a path (a clock, holding a
    lock, does not pickle; each task makes its own)."""
    return open_desk(
        f"sqlite:///{path}",
        rules="cn-2023",
        clock=FixedClock(datetime(2026, 1, 5, 18, tzinfo=UTC)),
        institution_region="310000",
    )


def _opener(path: Path) -> partial[CreditDesk]:
    return partial(_open, str(path))


def test_partitions_as_dask_tasks_equal_one_run(tmp_path: Path) -> None:
    spec = BookSpec(customers=60, seed=5, as_of=DAY)
    whole, split = tmp_path / "whole.db", tmp_path / "split.db"
    for path in (whole, split):
        with _opener(path)() as desk:
            assert isinstance(desk.store, RecordStore)
            load(desk.store, spec)
    with _opener(whole)() as desk:
        expected = desk.run_daily(DAY)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        merged = run_daily_on_dask(client, _opener(split), DAY, partitions=3)
        again = run_daily_on_dask(client, _opener(split), DAY, partitions=3)
        with pytest.raises(ConfigurationError, match="partitions must be >= 1"):
            run_daily_on_dask(client, _opener(split), DAY, partitions=0)
    assert merged.loans == expected.loans and merged.by_category == expected.by_category
    assert merged.provisions == expected.provisions
    assert merged.new_risk_events == expected.new_risk_events
    assert merged.partition == (0, 1) and merged.batches >= 3
    assert again == merged  # every partition answered from its log
