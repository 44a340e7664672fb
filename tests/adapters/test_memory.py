from __future__ import annotations

import json
from collections.abc import Mapping

from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.records import KindSpec, RecordBackend
from creditmgmt.adapters.state import StoredRow
from creditmgmt.adapters.unit_of_work import RecordStore
from creditmgmt.testing.conformance import (
    RecordBackendContract,
    UnitOfWorkContract,
    fixed_clock,
)


class TestMemoryRecords(RecordBackendContract):
    def create_backend(self, kinds: Mapping[str, KindSpec]) -> RecordBackend:
        return MemoryBackend(kinds)


class TestMemoryUnitOfWork(UnitOfWorkContract):
    def create_store(self) -> RecordStore:
        return RecordStore(MemoryBackend(), clock=fixed_clock())

    def corrupt_document(self, store: RecordStore, kind: str, record_id: str, text: str) -> None:
        backend = store.backend
        assert isinstance(backend, MemoryBackend)
        rows = backend.state.rows[kind]
        rows[record_id] = StoredRow(rows[record_id].version, rows[record_id].columns, text)


def test_memory_documents_are_json_text() -> None:
    backend = MemoryBackend()
    assert json.loads("{}") == {}
    assert backend.read_outbox() == []
