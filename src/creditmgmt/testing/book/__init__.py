"""A deterministic synthetic credit book, from a thousand to a million facilities.

    spec = BookSpec(customers=2_000, seed=7, as_of=date(2026, 1, 5))
    for chunk in generate(spec):            # bounded memory: one chunk at a time
        ...
    stats = load(open_store("sqlite:///book.db", clock=clock), spec)

The same spec always gives byte-identical aggregates. Customers (valid USCCs, local and remote
异地), groups under a group limit, master limits and product sub-limits (valid limit trees),
credit files with two or three years of statements whose ratios are typical of the industry,
loans drawn over the last `history_months` with bullet, equal-principal and annuity schedules,
and their repayments up to `as_of`: most borrowers pay on time, some pay late and catch up, a
few stop paying (1 to more than 360 days past due across the book), a few were restructured.
Each facility's drawn amount is the outstanding principal of its loans.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain.application import CreditApplication
from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.collateral import Collateral, Guarantee
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.interaction import FollowUpTask, Interaction
from creditmgmt.domain.loan import Drawdown
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.testing.book.chunk import DPD_BUCKETS, BookChunk, BookStats, dpd_bucket
from creditmgmt.testing.book.generator import generate
from creditmgmt.testing.book.spec import DEFAULT_INDUSTRIES, DEFAULT_REGIONS, BookSpec

__all__ = [
    "DEFAULT_INDUSTRIES",
    "DEFAULT_REGIONS",
    "DPD_BUCKETS",
    "REPOSITORY",
    "BookChunk",
    "BookSpec",
    "BookStats",
    "commit_aggregates",
    "dpd_bucket",
    "generate",
    "load",
]


#: The unit of work's repository of each kind of aggregate.
REPOSITORY: Final[dict[type[Aggregate], str]] = {
    Customer: "customers",
    CustomerGroup: "groups",
    CreditFile: "credit_files",
    Facility: "facilities",
    Drawdown: "drawdowns",
    CreditApplication: "applications",
    RiskEvent: "risk_events",
    Interaction: "interactions",
    FollowUpTask: "tasks",
    ClassificationEntry: "classifications",
    Collateral: "collaterals",
    Guarantee: "guarantees",
}


def commit_aggregates(store: RecordStore, aggregates: Iterable[Aggregate]) -> int:
    """Add new aggregates of any stored kind and commit them in one unit of work; return how
    many were added.

    Raises:
        TypeError: an aggregate of no stored kind.
        IntegrityError: an aggregate given twice or already stored (nothing is stored).
        StoreUnavailableError: the store cannot be reached.
    """
    with store.unit_of_work() as uow:
        count = 0
        for aggregate in aggregates:
            name = REPOSITORY.get(type(aggregate))
            if name is None:
                raise TypeError(f"{type(aggregate).__name__} is not a stored kind of aggregate")
            getattr(uow, name).add(aggregate)
            count += 1
        uow.commit()
    return count


def load(
    store: RecordStore,
    spec: BookSpec,
    *,
    chunks_per_commit: int = 1,
    chunks: Iterable[int] | None = None,
) -> BookStats:
    """Generate the book of `spec` into `store`, `chunks_per_commit` chunks per unit of work,
    holding at most that many chunks in memory; return what was loaded.

    `chunks` picks chunk numbers as in `generate`: several processes can each load their own
    share of one book (`range(i, spec.chunks, n)`) into one database. A failure leaves the
    chunks committed before it in the store.

    Raises:
        InvalidValueError: `chunks_per_commit` below 1, or a chunk number outside the book.
        IntegrityError: the store already holds aggregates with the book's ids (the same book).
        StoreUnavailableError: the store cannot be reached.
    """
    if chunks_per_commit < 1:
        raise InvalidValueError(f"chunks_per_commit must be >= 1, got {chunks_per_commit}")
    stats = BookStats(as_of=spec.as_of)
    batch: list[BookChunk] = []
    for chunk in generate(spec, chunks=chunks):
        stats.add(chunk)
        batch.append(chunk)
        if len(batch) == chunks_per_commit:
            commit_aggregates(store, (a for c in batch for a in c.aggregates()))
            batch = []
    if batch:
        commit_aggregates(store, (a for c in batch for a in c.aggregates()))
    return stats
