"""The daily run's partitions as tasks of Dask distributed (`creditmgmt[dask]`).

    from functools import partial
    from distributed import Client
    from creditmgmt.bootstrap import open_desk
    from creditmgmt.services.monitoring.distributed import run_daily_on_dask

    opener = partial(open_desk, {"url": "postgresql+psycopg://app@db/credit", "schema": "credit"},
                     rules="cn-2023", clock=SystemClock(), institution_region="310000")
    with Client("tcp://scheduler:8786") as client:
        summary = run_daily_on_dask(client, opener, date(2026, 1, 5), partitions=8)

Each task opens its own desk with `open_desk` (a picklable callable: a desk holds
connections and cannot travel between processes), runs `run_daily(as_of, partition=(i, n))`,
closes the desk and returns the partition's summary; the summaries are merged. Dask does the
scheduling, re-runs tasks of lost workers and shows the dashboard; the run's own log makes a
re-submitted partition resume, or answer from its log when it had finished, so a task Dask
runs twice does the work once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.services.monitoring.assess import RunSettings
from creditmgmt.services.monitoring.run import MonitoringCalls
from creditmgmt.services.monitoring.summary import DailyRunSummary

if TYPE_CHECKING:
    from distributed import Client

DeskOpener = Callable[[], MonitoringCalls]


def run_partition(
    open_desk: DeskOpener,
    as_of: date,
    partition: tuple[int, int],
    batch_size: int = 500,
    settings: RunSettings | None = None,
    incremental: bool = False,
) -> DailyRunSummary:
    """One partition of the day's run on a desk of its own (a Dask task).

    Raises:
        whatever opening the desk and `run_daily` raise.
    """
    desk = open_desk()
    try:
        return desk.run_daily(
            as_of,
            partition=partition,
            batch_size=batch_size,
            settings=settings,
            incremental=incremental,
        )
    finally:
        desk.close()


def run_daily_on_dask(
    client: Client,
    open_desk: DeskOpener,
    as_of: date,
    *,
    partitions: int,
    batch_size: int = 500,
    settings: RunSettings | None = None,
    incremental: bool = False,
) -> DailyRunSummary:
    """Run the day's `partitions` partitions as Dask tasks and merge their summaries
    (`incremental`: see `run_daily`).

    Raises:
        ConfigurationError: fewer than one partition.
        the first exception a task raised (the other partitions' work stays committed; run
            again to resume).
    """
    if partitions < 1:
        raise ConfigurationError(f"run_daily_on_dask partitions must be >= 1, got {partitions}")
    futures = [
        client.submit(
            run_partition,
            open_desk,
            as_of,
            (i, partitions),
            batch_size,
            settings,
            incremental,
            key=f"creditmgmt-run-daily-{as_of.isoformat()}-{i}-of-{partitions}",
            pure=False,
        )
        for i in range(partitions)
    ]
    summaries: list[DailyRunSummary] = client.gather(futures)  # type: ignore[no-untyped-call]
    merged = summaries[0]
    for other in summaries[1:]:
        merged = merged.merge(other)
    return merged
