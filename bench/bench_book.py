"""Synthetic book (creditmgmt.testing.book): generation and SQLite load speed, and memory.

Generates a book of about 10,000 facilities, then loads the same book into a fresh SQLite
store, and projects both to the 1,000,000 facilities of P4 (cost is linear: chunks are
independent). Memory is traced while streaming a book and one twice its size: the peak stays
that of one chunk, not of the book.
"""

from __future__ import annotations

import gc
import os
import resource
import tempfile
import textwrap
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

from bench._report import write_section
from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.adapters.stores import open_store
from creditmgmt.testing.book import BookSpec, BookStats, generate, load

CUSTOMERS = 3_600  # about 10,000 facilities
CLOCK = FixedClock(datetime(2026, 1, 5, 18, tzinfo=UTC))
MILLION = 1_000_000


def _generate(spec: BookSpec) -> tuple[float, BookStats]:
    stats = BookStats(as_of=spec.as_of)
    elapsed = 0.0
    t0 = time.perf_counter()
    for chunk in generate(spec):
        elapsed += time.perf_counter() - t0
        stats.add(chunk)  # counting is not generating: outside the timing
        t0 = time.perf_counter()
    return elapsed, stats


def _traced_peak(spec: BookSpec) -> float:
    gc.collect()
    tracemalloc.start()
    for _ in generate(spec):
        pass
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def main() -> None:
    spec = BookSpec(customers=CUSTOMERS, seed=2026)
    t_generate, stats = _generate(spec)
    per_facility = t_generate / stats.facilities
    with tempfile.TemporaryDirectory(prefix="cm-bench-book-") as d:
        store = open_store(f"sqlite:///{Path(d) / 'book.db'}", clock=CLOCK)
        gc.collect()
        t0 = time.perf_counter()
        loaded = load(store, spec, chunks_per_commit=10)
        t_load = time.perf_counter() - t0
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # a floor under any daily run, for scale: read every loan back, compute its DPD
        gc.collect()
        t0 = time.perf_counter()
        with store.unit_of_work() as uow:
            in_arrears = sum(
                1
                for batch in uow.drawdowns.scan(batch_size=1000)
                for loan in batch
                if loan.dpd(spec.as_of) > 0
            )
        t_dpd = time.perf_counter() - t0
        store.close()
    assert loaded.facilities == stats.facilities
    load_per_facility = t_load / loaded.facilities
    assert in_arrears == loaded.loans_in_arrears
    t_write = t_load - t_generate
    small, large = BookSpec(customers=600, seed=1), BookSpec(customers=1_200, seed=1)
    peak_small, peak_large = _traced_peak(small), _traced_peak(large)
    dpd = ", ".join(f"{name}: {n:,}" for name, n in stats.loans_by_dpd.items())
    table = (
        "| measured | result | per facility | projected to 1,000,000 facilities |\n"
        "|---|---|---|---|\n"
        f"| generate {stats.customers:,} customers, {stats.groups:,} groups, "
        f"{stats.facilities:,} facilities, {stats.loans:,} loans and their history "
        f"| {t_generate:.1f} s | {per_facility * 1e6:,.0f} µs "
        f"| {_minutes(per_facility * MILLION)} |\n"
        f"| generate and load the same book into SQLite (10 chunks of 100 customers per "
        f"unit of work; writing alone about {t_write:.1f} s) | {t_load:.1f} s "
        f"| {load_per_facility * 1e6:,.0f} µs | {_minutes(load_per_facility * MILLION)} |\n"
        f"| for scale, a floor under the daily run: read every loan back from SQLite and "
        f"compute its DPD | {t_dpd:.1f} s | {t_dpd / loaded.facilities * 1e6:,.0f} µs "
        f"| {_minutes(t_dpd / loaded.facilities * MILLION)} — generation is "
        f"**{t_generate / t_dpd:.1f}×** this |\n"
        f"| peak traced memory while streaming {small.customers:,} / {large.customers:,} "
        f"customers | {peak_small:.0f} MB / {peak_large:.0f} MB | (one chunk at a time) "
        f"| bounded (max RSS after generating and loading: {rss:.0f} MB) |\n"
    )
    book = textwrap.fill(
        f"The book (bench/bench_book.py, seed 2026, as of {spec.as_of}): {stats.loans:,} loans, "
        f"of which {stats.settled_loans:,} settled and {stats.restructured_loans:,} "
        f"restructured; loans not settled, by days past due — {dpd}. Load average of the "
        f"shared machine when the run ended: {os.getloadavg()[0]:.1f} (2 cores).",
        width=92,
    )
    notes = f"""
{book}

Where the time goes: about half is `Drawdown.apply` (each call sums what is owed over every
installment twice, in `Money`) and a fifth `RepaymentSchedule.build` (`dateutil.rrule`); the
generator already applies a run of on-time repayments as one (`keep_events=False`, the same
end state, tested) and computes what is due in plain Decimals. Chunks are independent, so
several processes can each load their share of one book into one database
(`load(store, spec, chunks=range(i, spec.chunks, n))`); handing chunks from worker processes
to one writer does not pay (pickling a chunk costs about as much as generating it).
"""
    notes += """
The read-back runs in one unit of work, which keeps what it loaded until it commits; it is a
yardstick, not the daily run (which commits per batch).
"""
    print(table + notes)
    write_section("book", "Synthetic book (generation for P4)", table + notes)


if __name__ == "__main__":
    main()
