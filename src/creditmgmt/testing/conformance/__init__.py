"""The storage conformance suite, shipped: every adapter — ours and yours — passes it.

Two layers, each an abstract pytest class with one factory hook:

- `RecordBackendContract`: the record contract of `creditmgmt.adapters.records` on small
  synthetic kinds. Implement `create_backend(kinds)`; a durable store also implements
  `reopen_backend(backend, kinds)` (close it and open the same store again), which the
  reopen tests need (they skip without it).
- `UnitOfWorkContract`: the domain-level behaviour through the shared unit of work.
  Implement `create_store()` (a `RecordStore`) and `corrupt_document(store, kind, id, text)`.
  It mixes in `testing.consistency` (snapshot reads, bounded inputs) and `testing.hygiene`
  (no value in error messages, a closed store refuses, no change after commit is lost).

    class TestMyBackend(RecordBackendContract):
        def create_backend(self, kinds):
            return MyBackend(kinds)

Both classes are collected by pytest only through subclasses named `Test...`.

The rooms: `synthetic` (the kinds, records and values stored), `backend_base` and `backend`
(the record contract) with `backend_outbox`; `store_base` and `unit_of_work` (the domain-level
contract) with `store_queries` (scans, finders) and `store_audit` (the audit chain).
"""

from creditmgmt.testing.conformance.backend import RecordBackendContract
from creditmgmt.testing.conformance.synthetic import (
    AT,
    BIG,
    HOSTILE_TEXTS,
    OTHER,
    TEST_KINDS,
    THING,
    fixed_clock,
    thing,
)
from creditmgmt.testing.conformance.unit_of_work import UnitOfWorkContract

__all__ = [
    "AT",
    "BIG",
    "HOSTILE_TEXTS",
    "OTHER",
    "TEST_KINDS",
    "THING",
    "RecordBackendContract",
    "UnitOfWorkContract",
    "fixed_clock",
    "thing",
]
