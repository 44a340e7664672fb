"""The audit chain of the record stores: entries chained at commit under a head record.

A unit of work's audit entries are kept until its commit (`RecordAuditLog.append`), then
chained after the stored head and inserted with the moved head in the same transaction
(`append_chained`), so the chain is as atomic as the aggregates it describes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Protocol

from creditmgmt.adapters.records import codec
from creditmgmt.adapters.records.contract import ColumnValue, Record, RecordTransaction
from creditmgmt.adapters.records.kinds import AUDIT_SPEC
from creditmgmt.ports.audit import GENESIS, AuditEntry, AuditLog, ChainHead, chain
from creditmgmt.ports.errors import IntegrityError

#: The id of the audit chain's head record, stored beside the entries (never an entry id:
#: entry ids are the desk's, which never start with "~").
AUDIT_HEAD_ID: Final = "~chain-head"
_HEAD_COLUMNS: Final[Mapping[str, ColumnValue]] = {
    "subject": "~audit-chain",
    "actor": "~store",
    "action": "chain-head",
}


def read_head(tx: RecordTransaction) -> tuple[Record | None, ChainHead]:
    record = tx.get(AUDIT_SPEC.kind, AUDIT_HEAD_ID)
    if record is None:
        return None, ChainHead(0, GENESIS)
    return record, codec.decode_audit_head(record.document)


def append_chained(tx: RecordTransaction, entries: list[AuditEntry]) -> bool:
    """Insert `entries` chained after the stored head and move the head; True when the
    chain had no head yet (so a racing first append shows up as a duplicate head)."""
    head_record, head = read_head(tx)
    chained, new_head = chain(entries, head)
    for entry in chained:
        if entry.id == AUDIT_HEAD_ID:
            raise IntegrityError(f"audit entry id {entry.id!r} is reserved")
        tx.insert(
            Record(
                AUDIT_SPEC.kind,
                entry.id,
                1,
                codec.encode_audit(entry),
                {"subject": entry.subject, "actor": entry.actor, "action": entry.action},
            )
        )
    document = codec.encode_audit_head(new_head)
    if head_record is None:
        tx.insert(Record(AUDIT_SPEC.kind, AUDIT_HEAD_ID, 1, document, _HEAD_COLUMNS))
        return True
    tx.update(
        Record(AUDIT_SPEC.kind, AUDIT_HEAD_ID, head_record.version + 1, document, _HEAD_COLUMNS)
    )
    return False


class AuditSession(Protocol):
    """What the audit log needs from its unit of work (`RecordUnitOfWork` is one)."""

    @property
    def tx(self) -> RecordTransaction: ...

    def stage_audit(self, entry: AuditEntry) -> None:
        """Keep `entry` to be chained and inserted at the unit's commit."""


class RecordAuditLog(AuditLog):
    """The `AuditLog` of a record unit of work: appends are chained at commit."""

    def __init__(self, uow: AuditSession) -> None:
        self._uow = uow

    def append(self, entry: AuditEntry) -> None:
        if entry.at.tzinfo is None:
            raise IntegrityError(f"audit entry {entry.id}: timestamp must be timezone-aware")
        self._uow.stage_audit(entry)

    def get(self, entry_id: str) -> AuditEntry | None:
        if entry_id == AUDIT_HEAD_ID:
            return None
        record = self._uow.tx.get(AUDIT_SPEC.kind, entry_id)
        return None if record is None else codec.decode_audit(record.document, record_id=record.id)

    def entries(self, *, subject: str | None = None, actor: str | None = None) -> list[AuditEntry]:
        where = {k: v for k, v in {"subject": subject, "actor": actor}.items() if v is not None}
        records = self._uow.tx.find(AUDIT_SPEC.kind, where=where)
        entries = [
            codec.decode_audit(r.document, record_id=r.id) for r in records if r.id != AUDIT_HEAD_ID
        ]
        return sorted(entries, key=lambda e: (e.at, e.sequence or 0, e.id))

    def head(self) -> ChainHead:
        return read_head(self._uow.tx)[1]
