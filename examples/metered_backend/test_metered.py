from metered import MeteredBackend

from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.testing.conformance import RecordBackendContract, UnitOfWorkContract, fixed_clock


class TestMeteredRecords(RecordBackendContract):
    def create_backend(self, kinds):
        return MeteredBackend(MemoryBackend(kinds))


class TestMeteredUnitOfWork(UnitOfWorkContract):
    def create_store(self):
        return RecordStore(MeteredBackend(MemoryBackend()), clock=fixed_clock())

    def corrupt_document(self, store, kind, record_id, text):
        rows = store.backend.inner.state.rows[kind]
        rows[record_id] = type(rows[record_id])(
            rows[record_id].version, rows[record_id].columns, text
        )
