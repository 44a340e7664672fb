"""The audit log port: an append-only, hash-chained record of who did what, when and why.

Every entry a unit of work appends is chained by the store at commit, inside the same
transaction: it gets the next `sequence` of its chain, the `hash` of the entry before it
(`prev_hash`) and its own `hash` over its content (`entry_digest`). The chain's last sequence
and hash are kept in a head the store updates with an optimistic check, so two units that
append at once cannot both link to the same predecessor: one of them gets `ConflictError`
and is retried. Editing, deleting, inserting or reordering stored entries breaks the chain,
which `verify_chain` finds and names.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime
from typing import Final

import attrs

#: The hash a chain's first entry links to.
GENESIS: Final = "0" * 64


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One audited action. `subject` names the main aggregate (e.g. "facility:fac_123").

    `subjects` lists every aggregate the call touched with its version before and after
    (`"facility:fac_1@3>4"`; `@0>1` is a new one). `outcome` is "ok" or "refused". The chain
    fields (`sequence`, `prev_hash`, `hash`) are set by the store at commit; leave them empty.
    """

    id: str
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str = ""
    ruleset_ref: str | None = None
    subjects: tuple[str, ...] = ()
    outcome: str = "ok"
    sequence: int | None = None
    prev_hash: str = ""
    hash: str = ""


@attrs.frozen
class ChainHead:
    """The last sequence and hash of the audit chain (0 and `GENESIS` when empty)."""

    sequence: int
    hash: str


def entry_digest(entry: AuditEntry, *, sequence: int, prev_hash: str) -> str:
    """SHA-256 (hex) over an entry's content, its position and its predecessor's hash."""
    content = {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
        "ruleset_ref": entry.ruleset_ref,
        "subjects": list(entry.subjects),
        "outcome": entry.outcome,
        "sequence": sequence,
        "prev_hash": prev_hash,
    }
    text = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def chain(entries: Iterable[AuditEntry], head: ChainHead) -> tuple[list[AuditEntry], ChainHead]:
    """The entries with their chain fields set, following `head`, and the new head."""
    out: list[AuditEntry] = []
    sequence, previous = head.sequence, head.hash
    for entry in entries:
        sequence += 1
        digest = entry_digest(entry, sequence=sequence, prev_hash=previous)
        out.append(attrs.evolve(entry, sequence=sequence, prev_hash=previous, hash=digest))
        previous = digest
    return out, ChainHead(sequence, previous)


@attrs.frozen
class AuditVerification:
    """What `verify_chain` found: `ok`, how many entries it `checked`, and the id of the
    `first_broken` entry (or a description of what is missing) with the `reason`."""

    ok: bool
    checked: int
    first_broken: str | None = None
    reason: str = ""


def verify_chain(entries: Iterable[AuditEntry], head: ChainHead) -> AuditVerification:
    """Recompute the chain over the stored entries (any order) against the stored head.

    Reports the first entry, in sequence order, whose sequence, link or hash does not match;
    an entry missing at the end is reported against the head.
    """
    chained = sorted(
        (e for e in entries if e.sequence is not None), key=lambda e: (e.sequence or 0, e.id)
    )
    expected_sequence, previous = 1, GENESIS
    for checked, entry in enumerate(chained):
        if entry.sequence != expected_sequence:
            what = "duplicated" if (entry.sequence or 0) < expected_sequence else "missing"
            return AuditVerification(
                False,
                checked,
                entry.id,
                f"sequence {entry.sequence} where {expected_sequence} was expected "
                f"(an entry is {what} or moved)",
            )
        if entry.prev_hash != previous:
            return AuditVerification(
                False,
                checked,
                entry.id,
                f"entry {entry.sequence} does not link to the hash of entry {entry.sequence - 1}",
            )
        digest = entry_digest(entry, sequence=expected_sequence, prev_hash=previous)
        if digest != entry.hash:
            return AuditVerification(
                False, checked, entry.id, f"entry {entry.sequence} was changed after it was written"
            )
        previous = digest
        expected_sequence += 1
    last = expected_sequence - 1
    if (last, previous) != (head.sequence, head.hash):
        return AuditVerification(
            False,
            len(chained),
            f"sequence {last + 1}" if last < head.sequence else "head",
            f"the chain ends at entry {last} but its head records entry {head.sequence}: "
            "entries are missing at the end, or the head was altered",
        )
    return AuditVerification(True, len(chained))


class AuditLog(ABC):
    """Append-only; entries are written (and chained) in the unit of work's transaction."""

    @abstractmethod
    def append(self, entry: AuditEntry) -> None:
        """Record an entry (`IntegrityError` at commit if its id was used before)."""

    @abstractmethod
    def get(self, entry_id: str) -> AuditEntry | None:
        """The committed entry with that id, or None."""

    @abstractmethod
    def entries(self, *, subject: str | None = None, actor: str | None = None) -> list[AuditEntry]:
        """Committed entries, oldest first."""

    @abstractmethod
    def head(self) -> ChainHead:
        """The committed chain head (sequence 0 and `GENESIS` for an empty log)."""
