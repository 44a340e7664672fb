"""A host's own storage adapter: any record backend, metered.

`MeteredBackend` wraps another `RecordBackend` and counts commits, rollbacks and the records
each commit wrote — the figures a host exports to its monitoring. It changes no behaviour,
which the shipped conformance contracts prove (test_metered.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from creditmgmt.adapters.records.contract import (
    ColumnValue,
    KindSpec,
    OutboxEntry,
    Record,
    RecordBackend,
    RecordTransaction,
    Where,
)


class MeteredBackend:
    """A `RecordBackend` that delegates to `inner` and keeps counters."""

    def __init__(self, inner: RecordBackend) -> None:
        self.inner = inner
        self.kinds: Mapping[str, KindSpec] = inner.kinds
        self.keeps_pristine = bool(getattr(inner, "keeps_pristine", False))
        self.commits = 0
        self.rollbacks = 0
        self.records_written = 0

    def begin(self) -> RecordTransaction:
        return _MeteredTransaction(self, self.inner.begin())

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[OutboxEntry]:
        return self.inner.read_outbox(after=after, limit=limit)

    def prune_outbox(self, *, through: int) -> int:
        return self.inner.prune_outbox(through=through)

    def close(self) -> None:
        self.inner.close()


class _MeteredTransaction:
    def __init__(self, meter: MeteredBackend, inner: RecordTransaction) -> None:
        self._meter, self._inner, self._written = meter, inner, 0
        self.committed_row: Any = getattr(inner, "committed_row", None)

    def get(self, kind: str, record_id: str) -> Record | None:
        return self._inner.get(kind, record_id)

    def get_many(self, kind: str, record_ids: Sequence[str]) -> list[Record]:
        return self._inner.get_many(kind, record_ids)

    def find(
        self,
        kind: str,
        *,
        where: Where | None = None,
        order_by: str = "id",
        after: tuple[ColumnValue, str] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        return self._inner.find(kind, where=where, order_by=order_by, after=after, limit=limit)

    def count(self, kind: str, *, where: Where | None = None) -> int:
        return self._inner.count(kind, where=where)

    def insert(self, record: Record) -> None:
        self._inner.insert(record)
        self._written += 1

    def update(self, record: Record) -> None:
        self._inner.update(record)
        self._written += 1

    def append_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        self._inner.append_outbox(entries)

    def commit(self) -> None:
        self._inner.commit()  # raises: nothing is counted
        self._meter.commits += 1
        self._meter.records_written += self._written

    def rollback(self) -> None:
        self._inner.rollback()
        self._meter.rollbacks += 1
