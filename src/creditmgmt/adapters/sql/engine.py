"""Connecting the SQL store: engines for the supported URLs and drivers, configured for its
transaction pattern."""

from __future__ import annotations

import os
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool


def create_engine(url: str | URL, *, sqlite_synchronous: str = "NORMAL") -> Engine:
    """An engine for a store URL, configured for our transaction pattern.

    Raises:
        ValueError: an unsupported URL (names the driver).
    """
    try:
        u = make_url(url)
    except sa_exc.ArgumentError as e:
        raise ValueError(f"not a store URL: {url!r} ({e})") from e
    u = u.set(drivername=_drivername(u.drivername))
    backend = u.get_backend_name()
    if backend == "sqlite":
        memory = u.database in (None, "", ":memory:")
        if not memory:
            _create_private(u.database)
        if memory:
            engine = sa.create_engine(
                u, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            engine = sa.create_engine(u, connect_args={"check_same_thread": False, "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={_synchronous(sqlite_synchronous)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if backend == "postgresql":
        return sa.create_engine(u, pool_pre_ping=False, isolation_level="READ COMMITTED")
    if backend in ("mysql", "mariadb"):
        if "charset" not in u.query:
            u = u.update_query_dict({"charset": "utf8mb4"})
        return sa.create_engine(u, isolation_level="READ COMMITTED", pool_recycle=3600)
    raise ValueError(f"unsupported store URL driver {u.drivername!r} (sqlite, postgresql, mysql)")


def _create_private(database: str | None) -> None:
    """Create a missing SQLite database file empty and owner-only (0o600) before SQLite opens
    it: SQLite then makes the -wal and -shm files with the same mode. An existing file keeps
    its mode (a host wanting another one creates the file first)."""
    if not database or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:  # it exists, or its directory does not: SQLite says what is wrong
        return
    try:
        os.fchmod(fd, 0o600)  # exactly, whatever the umask
    finally:
        os.close(fd)


#: The drivers the adapter is tested with, and what a bare database name means.
_DRIVERS: Final = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "mariadb+pymysql": "mariadb+pymysql",
}


def _drivername(name: str) -> str:
    try:
        return _DRIVERS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unsupported store URL driver {name!r}: use sqlite, postgresql+psycopg (psycopg 3) "
            "or mysql+pymysql / mariadb+pymysql (PyMySQL)"
        ) from None


def _synchronous(value: str) -> str:
    if value.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"sqlite synchronous must be OFF, NORMAL, FULL or EXTRA, got {value!r}")
    return value.upper()
