from __future__ import annotations

import json
from collections.abc import Mapping

from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.records.contract import KindSpec, RecordBackend
from creditmgmt.adapters.records.in_process import StoredRow
from creditmgmt.adapters.records.unit_of_work import RecordStore
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


def test_memory_documents_read_back_as_the_codec_wrote_them() -> None:
    """A stored row's document is what the codec made of the aggregate, as plain JSON types
    (a durable store would give back the same), whether kept as text or as a pristine copy."""
    from creditmgmt.adapters.records import codec
    from creditmgmt.testing.builders import SequentialIds, a_customer

    backend = MemoryBackend()
    assert backend.read_outbox() == []
    store = RecordStore(backend, clock=fixed_clock())
    customer = a_customer(SequentialIds(1))
    with store.unit_of_work() as uow:
        uow.customers.add(customer)
        uow.commit()
    tx = backend.begin()
    record = tx.get("customer", str(customer.id))
    tx.rollback()
    assert record is not None and record.version == 1
    assert record.document == json.loads(json.dumps(codec.encode("customer", customer)))
    assert [type(e).__name__ for _, e in store.events()] == ["CustomerOnboarded"]
