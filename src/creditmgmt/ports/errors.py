"""Persistence errors: what every storage adapter raises, whatever its technology.

No SQLAlchemy, driver, OS or cattrs error escapes an adapter untranslated; each is re-raised
as one of these with `raise ... from e`.
"""

from __future__ import annotations

from creditmgmt.domain.errors import CreditMgmtError


class PersistenceError(CreditMgmtError):
    """Base of storage errors."""

    default_message = "storage error"


class NotFoundError(PersistenceError, LookupError):
    """No aggregate of that kind with that id is stored."""

    default_message = "not found"


class ConflictError(PersistenceError):
    """Optimistic concurrency: the aggregate changed since it was loaded; nothing was stored."""

    default_message = "stale version: the aggregate was changed by someone else"


class IntegrityError(PersistenceError):
    """A uniqueness or referential rule of the store would be broken; nothing was stored."""

    default_message = "integrity rule of the store violated"


class DataError(PersistenceError):
    """A stored document cannot be read (corrupt payload, unknown schema version, bad field)."""

    default_message = "stored data cannot be read"


class StoreUnavailableError(PersistenceError):
    """The store cannot be reached or dropped the connection; the transaction was not committed.

    One exception, which the message states: when the store could not learn whether a commit
    became durable (the file store after a journal write and fsync failed and the commit could
    not be cut off again), the message says "the outcome of commit N is unknown". The store
    then refuses every operation until it is closed and opened again, and the reopened store
    holds either all of that commit or none of it.
    """

    default_message = "store unavailable"


class ChangedAfterCommitError(PersistenceError):
    """An aggregate of a unit of work was changed after that unit's `commit()` and the change
    would be lost: the next `commit()` of the unit, or leaving its `with` block normally,
    raises this (naming the kind and id) instead of dropping it. Load the aggregate again (in
    the same unit after the commit, or a new unit) to change it. What was committed stays."""

    default_message = "an aggregate was changed after its unit of work committed"


class OutboxRangeError(PersistenceError, ValueError):
    """An outbox position outside what the store has assigned (e.g. pruning beyond the last
    sequence); names the value and the last sequence. Nothing was changed."""

    default_message = "outbox sequence out of range"


class ConfigurationError(CreditMgmtError, ValueError):
    """A store, desk or rule-set configuration cannot be used (names the option and value).

    Raised before anything connects or is written."""

    default_message = "invalid configuration"
