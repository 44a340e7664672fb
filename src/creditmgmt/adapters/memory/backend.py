"""The in-memory store: the reference semantics of every adapter.

Real transactions (nothing visible before commit, rollback discards everything), real
optimistic-concurrency conflicts, unique columns, an outbox; thread-safe. Aggregates written
through a unit of work are kept as private pristine copies with their codec documents, and
every load gets a fresh copy (`adapters.records.clone`), so a caller can never change stored state
without a commit, and no JSON or cattrs work is repeated on the hot path. Records written by
other callers are kept as JSON text, so what comes back is what a durable store gives back.
"""

from __future__ import annotations

from collections.abc import Mapping

from creditmgmt.adapters.records.contract import (
    KindSpec,
    OutboxEntry,
    RecordBackend,
    RecordTransaction,
)
from creditmgmt.adapters.records.in_process import RecordState, StateTransaction
from creditmgmt.adapters.records.kinds import ALL_SPECS
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.ports.clock import Clock


class MemoryBackend(RecordBackend):
    """A thread-safe record store in process memory."""

    keeps_pristine = True

    def __init__(self, kinds: Mapping[str, KindSpec] | None = None) -> None:
        self.state = RecordState(kinds if kinds is not None else ALL_SPECS)
        self.kinds = self.state.kinds

    def begin(self) -> RecordTransaction:
        self.state.check_open()
        return StateTransaction(self.state)

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[OutboxEntry]:
        return self.state.read_outbox(after, limit)

    def prune_outbox(self, *, through: int) -> int:
        """Delete the outbox entries with `sequence <= through`; see `RecordBackend`.

        Raises:
            OutboxRangeError: `through` is negative or beyond the last sequence.
            StoreUnavailableError: the store was closed.
        """
        with self.state.lock:
            self.state.prune_count(through)
            return self.state.prune(through)

    def close(self) -> None:
        self.state.closed = True


def memory_store(*, clock: Clock) -> RecordStore:
    """A fresh in-memory store (`memory://`)."""
    return RecordStore(MemoryBackend(), clock=clock)


__all__ = ["MemoryBackend", "memory_store"]
