"""Driver errors in our error tree, with messages that carry no column values.

A driver's message quotes the values it refused: PostgreSQL's `DETAIL:  Key
(registration_id)=(91310000MA1FL8XQ2R) already exists`, MariaDB's `Duplicate entry '...' for
key 'registration_id'`, and SQLAlchemy's own text adds the statement's parameters (whole
documents). Our messages say what kind of violation it was and which unique column, with any
value masked to its last four characters (`creditmgmt.domain.pii.mask`); integrity and data
errors are raised without chaining the driver's exception, whose text would carry the values
into a logged traceback (the driver's error code is in the message instead).
"""

from __future__ import annotations

import re
from typing import Final

from sqlalchemy import exc as sa_exc

from creditmgmt.domain.pii import mask
from creditmgmt.ports.errors import (
    ConflictError,
    DataError,
    IntegrityError,
    PersistenceError,
    StoreUnavailableError,
)

# PostgreSQL: 40001 serialization failure, 40P01 deadlock; MySQL: 1213 deadlock, 1205 lock wait
_RETRYABLE_CODES: Final = {"40001", "40P01", "1213", "1205"}

#: PostgreSQL: `Key (registration_id)=(9131...) already exists.`
_PG_KEY: Final = re.compile(r"Key \((?P<columns>[^)]*)\)=\((?P<values>.*)\) already exists")
_PG_CONSTRAINT: Final = re.compile(r'violates unique constraint "(?P<name>[^"]+)"')
#: MariaDB / MySQL 1062: `Duplicate entry '9131...' for key 'registration_id'`.
_MY_DUPLICATE: Final = re.compile(r"Duplicate entry '(?P<value>.*)' for key '(?P<key>[^']+)'")
#: SQLite: `UNIQUE constraint failed: cm_customer.registration_id` (no value given).
_LITE_UNIQUE: Final = re.compile(r"UNIQUE constraint failed: (?P<columns>[\w., ]+)")
#: A quoted literal in any other driver message: masked, as it may be a value.
_QUOTED: Final = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def driver_code(e: sa_exc.DBAPIError) -> str:
    """The SQLSTATE (PostgreSQL) or error number (MySQL) of a driver error, or ""."""
    orig = e.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code is None and orig is not None and getattr(orig, "args", None):
        first = orig.args[0]
        code = str(first) if isinstance(first, int) else None
    return str(code or "")


def _driver_text(e: sa_exc.DBAPIError) -> str:
    orig = e.orig
    args: tuple[object, ...] = tuple(getattr(orig, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int) and isinstance(args[1], str):
        return args[1]  # PyMySQL: (code, message)
    return str(orig)


def _column(name: str) -> str:
    column = name.strip().rsplit(".", 1)[-1]
    return "id" if column == "PRIMARY" else column


def describe(e: sa_exc.DBAPIError) -> str:
    """What the driver refused, without the values it quotes (masked to their last four
    characters where the driver names them: a duplicate unique value)."""
    text = _driver_text(e)
    code = driver_code(e)
    tag = f" [{code}]" if code else ""
    key = _PG_KEY.search(text)
    if key is not None:
        constraint = _PG_CONSTRAINT.search(text)
        named = f" (constraint {constraint.group('name')})" if constraint else ""
        return (
            f"duplicate value {mask(key.group('values'))} in unique column(s) "
            f"{key.group('columns')}{named}{tag}"
        )
    duplicate = _MY_DUPLICATE.search(text)
    if duplicate is not None:
        return (
            f"duplicate value {mask(duplicate.group('value'))} in unique column "
            f"{_column(duplicate.group('key'))}{tag}"
        )
    unique = _LITE_UNIQUE.search(text)
    if unique is not None:
        columns = ", ".join(_column(c) for c in unique.group("columns").split(","))
        return f"duplicate value in unique column(s) {columns}{tag}"
    # anything else: the first line (PostgreSQL's DETAIL and CONTEXT lines quote values),
    # every quoted literal masked
    first = text.strip().splitlines()[0] if text.strip() else type(e.orig).__name__
    return _QUOTED.sub(lambda m: repr(mask(m.group(1) or m.group(2) or "")), first) + tag


def translate(e: BaseException, what: str) -> PersistenceError:
    """Map a SQLAlchemy / driver error to our persistence error tree; the message names
    `what` was being done and never shows a column value (see the module doc)."""
    if isinstance(e, sa_exc.DBAPIError):
        code = driver_code(e)
        if code in _RETRYABLE_CODES:
            return ConflictError(f"{what}: concurrent transaction conflict ({code}); retry")
        if e.connection_invalidated or isinstance(
            e, (sa_exc.OperationalError, sa_exc.InterfaceError)
        ):
            return StoreUnavailableError(f"{what}: database unavailable: {describe(e)}")
        if isinstance(e, sa_exc.IntegrityError):
            return IntegrityError(f"{what}: {describe(e)}")
        if isinstance(e, sa_exc.DataError):
            return DataError(f"{what}: {describe(e)}")
        return PersistenceError(f"{what}: {type(e).__name__}: {describe(e)}")
    if isinstance(e, sa_exc.DisconnectionError | sa_exc.TimeoutError):
        return StoreUnavailableError(f"{what}: database unavailable: {e}")
    if isinstance(e, sa_exc.StatementError):  # its text lists the statement's parameters
        return PersistenceError(f"{what}: {type(e).__name__}: {type(e.orig).__name__}")
    return PersistenceError(f"{what}: {e}")


def chained(error: PersistenceError, cause: BaseException) -> BaseException | None:
    """The exception to chain `error` to: none for integrity and data errors (the driver's
    text quotes values), else the driver's exception."""
    return None if isinstance(error, IntegrityError | DataError) else cause
