"""The audit log port: an append-only record of who did what, when and why."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

import attrs


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One audited action. `subject` names the aggregate (e.g. "facility:fac_123")."""

    id: str
    at: datetime
    actor: str
    action: str
    subject: str
    detail: str = ""
    ruleset_ref: str | None = None


class AuditLog(ABC):
    """Append-only; entries are written in the unit of work's transaction."""

    @abstractmethod
    def append(self, entry: AuditEntry) -> None:
        """Record an entry (`IntegrityError` if its id was used before)."""

    @abstractmethod
    def entries(self, *, subject: str | None = None, actor: str | None = None) -> list[AuditEntry]:
        """Committed entries, oldest first."""
