"""The audit log through the unit of work: append-only, written with its unit, chained at
commit, and never forked by concurrent appends."""

from __future__ import annotations

import pytest

from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.ports.audit import (
    GENESIS,
    AuditEntry,
    AuditVerification,
    ChainHead,
    verify_chain,
)
from creditmgmt.ports.errors import (
    ConflictError,
    IntegrityError,
)
from creditmgmt.testing.conformance.store_base import StoreHooks
from creditmgmt.testing.conformance.synthetic import AT, in_threads


class AuditChainContract(StoreHooks):
    """The audit trail (mixed into `UnitOfWorkContract`)."""

    def test_audit_log_is_append_only_and_transactional(self, store: RecordStore) -> None:
        with store.unit_of_work() as uow:
            uow.audit.append(
                AuditEntry(id="a1", at=AT, actor="usr_1", action="approve", subject="app:1")
            )
        with store.unit_of_work() as uow:
            assert uow.audit.entries() == []
            uow.audit.append(
                AuditEntry(id="a1", at=AT, actor="usr_1", action="approve", subject="app:1")
            )
            uow.commit()
        with store.unit_of_work() as uow:
            assert [e.action for e in uow.audit.entries(subject="app:1")] == ["approve"]
            uow.audit.append(
                AuditEntry(id="a1", at=AT, actor="usr_2", action="again", subject="app:1")
            )
            with pytest.raises(IntegrityError):
                uow.commit()

    def test_audit_entries_are_chained_at_commit(self, store: RecordStore) -> None:
        with store.unit_of_work() as uow:
            assert uow.audit.head() == ChainHead(0, GENESIS)
            for i in (1, 2):
                uow.audit.append(
                    AuditEntry(id=f"c{i}", at=AT, actor="usr_1", action="draw", subject="f:1")
                )
            uow.commit()
            uow.audit.append(
                AuditEntry(id="c3", at=AT, actor="usr_2", action="repay", subject="f:1")
            )
            uow.commit()
        with store.unit_of_work() as uow:
            entries = uow.audit.entries()
            head = uow.audit.head()
            assert uow.audit.get("c2") == entries[1]
            assert uow.audit.get("nope") is None
        assert [(e.id, e.sequence) for e in entries] == [("c1", 1), ("c2", 2), ("c3", 3)]
        assert entries[0].prev_hash == GENESIS
        assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
        assert head == ChainHead(3, entries[-1].hash)
        assert verify_chain(entries, head).ok
        assert not verify_chain(entries[:-1], head).ok  # a dropped last entry shows

    def test_concurrent_audit_appends_never_fork_the_chain(self, store: RecordStore) -> None:

        def work(worker: int) -> None:
            for n in range(5):
                while True:
                    try:
                        with store.unit_of_work() as uow:
                            uow.audit.append(
                                AuditEntry(
                                    id=f"w{worker}-{n}",
                                    at=AT,
                                    actor=f"usr_{worker}",
                                    action="x",
                                    subject="s",
                                )
                            )
                            uow.commit()
                        break
                    except ConflictError:
                        continue

        in_threads(work, 4)
        with store.unit_of_work() as uow:
            entries, head = uow.audit.entries(), uow.audit.head()
        assert sorted(e.sequence or 0 for e in entries) == list(range(1, 21))
        assert verify_chain(entries, head) == AuditVerification(True, 20)
