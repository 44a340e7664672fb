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
from typing import Any, Final

from creditmgmt.adapters.records.contract import (
    KindSpec,
    OutboxEntry,
    RecordBackend,
    RecordTransaction,
    check_options,
)
from creditmgmt.adapters.records.in_process import RecordState, StateTransaction
from creditmgmt.adapters.records.kinds import ALL_SPECS
from creditmgmt.ports.errors import ConfigurationError


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


#: The options `open_backend` takes (none: a memory store has nothing to configure).
OPTIONS: Final[frozenset[str]] = frozenset()


def open_backend(url: str, **options: Any) -> MemoryBackend:
    """A fresh, empty in-memory store for `memory://`.

    Raises:
        ConfigurationError: a URL with a path, or any option (named).
    """
    check_options("memory", options, OPTIONS)
    if url.rstrip("/") not in ("memory:", "memory:/"):
        raise ConfigurationError(f"memory:// takes no path, got {url!r}")
    return MemoryBackend()
