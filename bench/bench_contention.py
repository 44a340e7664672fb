"""Contention: eight writers drawing on one hot facility, with and without backoff.

Each of 8 threads draws 1.00 on the same product sub-limit (so every unit updates the same
three rows: product, master, group) until it has `PER_WRITER` successful draws. Three ways to
handle a lost optimistic race (`ConflictError`):

- immediate re-try: run the unit again at once, as often as it takes (no backoff);
- `retry_on_conflict` with `SHORT_RETRY` (up to 10 runs, full-jitter exponential backoff
  from 2 ms, capped at 100 ms); when it gives up the writer counts it and calls it again;
- the same with a policy for a hot facility on a server (`HOT_RETRY`: 20 runs, backoff from
  10 ms capped at 250 ms: a unit there takes 10-20 ms, so 2 ms steps retry into the same race);
- serialised: the writer takes a lock per facility tree before the unit (a PostgreSQL
  advisory lock / MariaDB `GET_LOCK`), which is what `SELECT ... FOR UPDATE` on the tree root
  would give: writers queue instead of conflicting.

Reported: attempts per successful draw, conflicts, give-ups, throughput and the latency of a
draw from its first attempt to its success (median, p99). Servers come from
CREDITMGMT_TEST_POSTGRES_URL / CREDITMGMT_TEST_MYSQL_URL (defaults: the local test servers);
a server that cannot be reached is reported and skipped.
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa

from bench._report import write_section
from creditmgmt.adapters.clocks_and_ids import FixedClock, SequentialIds
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.domain import FacilityId, LimitTree, Money
from creditmgmt.domain.products import ProductType
from creditmgmt.ports import ConflictError
from creditmgmt.services.retry import SHORT_RETRY, RetryPolicy, retry_on_conflict
from creditmgmt.testing.builders import a_facility_tree

WRITERS = 8
HOT_RETRY = RetryPolicy(attempts=20, base_delay=0.01, max_delay=0.25)  # = DEFAULT_RETRY
PER_WRITER = 25
CLOCK = FixedClock(datetime(2026, 1, 5, tzinfo=UTC))
START = date(2026, 1, 5)
POSTGRES_URL = os.environ.get(
    "CREDITMGMT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("CREDITMGMT_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")

#: a lock per facility tree, held around a whole unit (mode "serialised"): a generator
#: function made into a context manager
Serial = Callable[[], Iterator[None]]
Opened = AbstractContextManager[tuple[SqlBackend, Serial | None]]


class Tally:
    """Counts of one run, shared by the writer threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts = 0
        self.conflicts = 0
        self.gave_up = 0
        self.latencies: list[float] = []
        self.elapsed = 0.0

    def add(self, attempts: int, conflicts: int, gave_up: int, latency: float) -> None:
        with self.lock:
            self.attempts += attempts
            self.conflicts += conflicts
            self.gave_up += gave_up
            self.latencies.append(latency)


def _hot_tree(store: RecordStore) -> FacilityId:
    tree = a_facility_tree(
        SequentialIds(),
        group_limit="900000000.00",
        masters=("800000000.00",),
        products=((ProductType.WORKING_CAPITAL, "700000000.00"),),
    )
    with store.unit_of_work() as uow:
        for node in tree.nodes:
            uow.facilities.add(node)
        uow.commit()
    return tree.products[0].id


def _run(store: RecordStore, mode: str, serial: Serial | None) -> Tally:
    leaf = _hot_tree(store)
    one = Money.of("1.00", "CNY")
    tally = Tally()
    errors: list[BaseException] = []

    def unit() -> None:
        with store.unit_of_work() as uow:
            LimitTree(uow.facilities.path_to_root(leaf)).draw(leaf, one, on=START)
            uow.commit()

    def draw_once() -> None:
        attempts = conflicts = gave_up = 0
        t0 = time.perf_counter()
        if mode == "immediate":
            while True:
                attempts += 1
                try:
                    unit()
                    break
                except ConflictError:
                    conflicts += 1
        elif mode in ("retry", "hot"):
            policy = SHORT_RETRY if mode == "retry" else HOT_RETRY
            runs = [0]

            def counted() -> None:
                runs[0] += 1
                unit()

            while True:
                try:
                    retry_on_conflict(counted, policy=policy)
                    break
                except ConflictError:
                    gave_up += 1
            attempts, conflicts = runs[0], runs[0] - 1
        else:
            assert serial is not None
            while True:
                attempts += 1
                try:
                    with contextmanager(serial)():
                        unit()
                    break
                except ConflictError:
                    conflicts += 1
        tally.add(attempts, conflicts, gave_up, time.perf_counter() - t0)

    def writer() -> None:
        try:
            for _ in range(PER_WRITER):
                draw_once()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tally.elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    with store.unit_of_work() as uow:
        drawn = uow.facilities.get(leaf).drawn
    assert drawn == Money.of(WRITERS * PER_WRITER, "CNY"), drawn  # nothing lost, no over-draw
    return tally


def _row(store_name: str, mode: str, tally: Tally) -> str:
    n = len(tally.latencies)
    lat = sorted(tally.latencies)
    p99 = lat[max(0, int(n * 0.99) - 1)]
    elapsed = tally.elapsed
    return (
        f"| {store_name} | {mode} | {tally.attempts / n:.2f} | "
        f"{100 * tally.conflicts / tally.attempts:.0f}% | {tally.gave_up} | "
        f"{n / elapsed:,.0f} | {statistics.median(lat) * 1e3:.1f} ms | {p99 * 1e3:.1f} ms |\n"
    )


def _server_lock(admin: sa.Engine, take: str, give: str) -> Serial:
    """A server-side lock (one connection per thread) that the serial mode holds around each
    unit of work."""
    local = threading.local()

    def serial() -> Iterator[None]:
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = admin.connect()
        conn.exec_driver_sql(take)
        try:
            yield
        finally:
            conn.exec_driver_sql(give)
            conn.commit()

    return serial


@contextmanager
def _postgres() -> Iterator[tuple[SqlBackend, Serial]]:
    admin = sa.create_engine(POSTGRES_URL)
    schema = f"cm_bench_{secrets.token_hex(4)}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    backend = SqlBackend.from_url(POSTGRES_URL, schema=schema)
    try:
        yield (
            backend,
            _server_lock(admin, "SELECT pg_advisory_lock(4242)", "SELECT pg_advisory_unlock(4242)"),
        )
    finally:
        backend.close()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@contextmanager
def _mysql() -> Iterator[tuple[SqlBackend, Serial]]:
    admin = sa.create_engine(MYSQL_URL)
    name = f"cm_bench_{secrets.token_hex(4)}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    url = sa.engine.make_url(MYSQL_URL).set(database=name)
    backend = SqlBackend.from_url(url)
    try:
        yield (
            backend,
            _server_lock(
                admin, "SELECT GET_LOCK('cm_bench_hot', 60)", "SELECT RELEASE_LOCK('cm_bench_hot')"
            ),
        )
    finally:
        backend.close()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE `{name}`")
        admin.dispose()


def _stores(tmp: Path) -> Iterator[tuple[str, Callable[[], Opened]]]:
    """(name, factory of a context manager yielding (backend, serial lock or None))."""

    @contextmanager
    def sqlite() -> Iterator[tuple[SqlBackend, Serial | None]]:
        backend = SqlBackend.from_url(f"sqlite:///{tmp / f'hot{secrets.token_hex(3)}.db'}")
        try:
            yield backend, None
        finally:
            backend.close()

    yield "PostgreSQL", _postgres
    yield "MariaDB", _mysql
    yield "SQLite (WAL)", sqlite


def main() -> None:
    rows = ""
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="cm-bench-") as d:
        for name, factory in _stores(Path(d)):
            modes = ["immediate", "retry", "hot"]
            modes += [] if name.startswith("SQLite") else ["serialised"]
            for mode in modes:
                try:
                    with factory() as (backend, serial):
                        tally = _run(RecordStore(backend, clock=CLOCK), mode, serial)
                except sa.exc.OperationalError as e:
                    skipped.append(f"{name}: not reachable ({e.orig})")
                    break
                label = {
                    "immediate": "immediate re-try (no backoff)",
                    "retry": "`retry_on_conflict` (SHORT_RETRY: 10 runs, 2-100 ms)",
                    "hot": "`retry_on_conflict` (HOT_RETRY: 20 runs, 10-250 ms)",
                    "serialised": "serialised per tree (as FOR UPDATE on the root)",
                }[mode]
                rows += _row(name, label, tally)
                print(rows.splitlines()[-1], flush=True)
    table = (
        f"{WRITERS} writer threads, one hot facility, {PER_WRITER} successful draws each "
        f"({WRITERS * PER_WRITER} in all; every run ends with exactly that amount drawn).\n\n"
        "| store | on a conflict | attempts per draw | attempts that conflicted | "
        "give-ups (all runs lost) | draws/s | latency median | latency p99 |\n"
        "|---|---|---|---|---|---|---|---|\n" + rows
    )
    if skipped:
        table += "\nSkipped: " + "; ".join(skipped) + "\n"
    print(table)
    write_section("contention", "Contention on one facility (issue 11)", table)


if __name__ == "__main__":
    main()
