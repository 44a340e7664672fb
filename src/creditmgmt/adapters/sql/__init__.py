"""The SQL store: SQLAlchemy 2 Core on SQLite (embedded default), PostgreSQL and MariaDB/MySQL.

One table per aggregate kind — id, version, hash bucket, the kind's queryable columns and the
JSON document — plus an outbox and a schema-version table. Reads run without holding locks;
a transaction's writes are flushed at commit in one short database transaction (SQLite:
`BEGIN IMMEDIATE`), sorted by kind and id so concurrent writers cannot deadlock on each other,
with `UPDATE ... WHERE id = :id AND version = :v` so a stale writer gets `ConflictError` and
can never lose someone else's update or over-draw a limit. Outbox sequences come from the
database and never go back; a one-row outbox state table keeps the highest sequence pruned,
and (PostgreSQL, MariaDB) is locked by a unit while it appends its events, so sequences become
visible in commit order.

URLs: `sqlite:///path.db`, `sqlite://` (in memory), `postgresql+psycopg://...`,
`mysql+pymysql://...` (also `mariadb+pymysql://`). Nothing connects at import time.
"""

from creditmgmt.adapters.sql.backend import SqlBackend, open_backend
from creditmgmt.adapters.sql.schema import CURRENT_SCHEMA_VERSION

__all__ = ["CURRENT_SCHEMA_VERSION", "SqlBackend", "open_backend"]
