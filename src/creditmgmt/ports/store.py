"""The store port: what the services need from a storage technology as a whole.

`creditmgmt.adapters.records.unit_of_work.RecordStore` implements it over any `RecordBackend` (the
memory, SQL and file adapters, and a host's own); a host may also implement it directly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from creditmgmt.domain.events import DomainEvent
from creditmgmt.ports.unit_of_work import UnitOfWork


class Store(ABC):
    """Makes units of work and reads and trims the event outbox."""

    @abstractmethod
    def unit_of_work(self) -> UnitOfWork:
        """A fresh unit of work (use it as a context manager)."""

    @abstractmethod
    def events(self, *, after: int = 0, limit: int = 1000) -> list[tuple[int, DomainEvent]]:
        """Committed domain events in commit order with their outbox sequence numbers.

        Raises `DataError` for an entry that cannot be read, `StoreUnavailableError`."""

    @abstractmethod
    def prune_outbox(self, *, through: int) -> int:
        """Delete outbox events with `sequence <= through`; return how many.

        Raises `OutboxRangeError`, `TypeError`, `StoreUnavailableError`, `DataError`."""

    @abstractmethod
    def close(self) -> None:
        """Release connections, files and locks; later calls raise `StoreUnavailableError`."""
