"""SQL implementation of the record contract (see the package doc)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.pool import StaticPool

from creditmgmt.adapters.records.contract import (
    CheckedTransaction,
    In,
    Keyset,
    KindSpec,
    OutboxEntry,
    Partition,
    Range,
    Record,
    RecordBackend,
    RecordTransaction,
    Where,
    check_new_record,
    check_options,
    check_prune,
    check_record,
    load_document,
    select,
)
from creditmgmt.adapters.records.kinds import ALL_SPECS
from creditmgmt.adapters.sql.engine import create_engine
from creditmgmt.adapters.sql.errors import chained, translate
from creditmgmt.adapters.sql.rows import SqlRows
from creditmgmt.adapters.sql.schema import (
    CURRENT_SCHEMA_VERSION,
    MIGRATIONS,
    SqlSchema,
    checked_prefix,
    create_current,
)
from creditmgmt.adapters.sql.writes import by_kind, insert_rows, outbox_rows, update_rows
from creditmgmt.ports.errors import (
    DataError,
    IntegrityError,
    StoreUnavailableError,
)


class SqlBackend(RecordBackend):
    """A record store in a SQL database. Build with `SqlBackend.from_url(url)`."""

    def __init__(
        self,
        engine: Engine,
        *,
        kinds: Mapping[str, KindSpec] | None = None,
        schema: str | None = None,
        table_prefix: str = "cm_",
        create: bool = True,
    ) -> None:
        self.engine = engine
        self.kinds = dict(kinds if kinds is not None else ALL_SPECS)
        self.dialect = engine.dialect.name
        self.schema_name = schema
        self.table_prefix = table_prefix
        # whether the database has the outbox state of schema 3 (known after `migrate`, else
        # read on first use: a store opened with create=False may hold an older schema)
        self._outbox_state: bool | None = None
        self._schema = SqlSchema(self.kinds, self.dialect, schema, checked_prefix(table_prefix))
        #: records ⇄ rows, and filters as SQL conditions
        self.rows = SqlRows(self._schema, self.kinds, self.dialect)
        # an in-memory SQLite database is one shared connection: serialise its use
        self._serial = threading.RLock() if isinstance(engine.pool, StaticPool) else None
        self._closed = False
        if create:
            self.migrate()

    @classmethod
    def from_url(
        cls,
        url: str | URL,
        *,
        kinds: Mapping[str, KindSpec] | None = None,
        schema: str | None = None,
        table_prefix: str = "cm_",
        create: bool = True,
        sqlite_synchronous: str = "NORMAL",
    ) -> SqlBackend:
        """Open a store; creates or upgrades the schema when `create` (the default).

        Raises:
            StoreUnavailableError: the database cannot be reached.
            DataError: the database holds a newer schema than this release knows.
            ValueError: an unsupported URL.

        With `create=False` the schema is left as found; a store below schema 3 reads and
        commits as before, and `prune_outbox` raises `DataError` until it is migrated.
        """
        engine = create_engine(url, sqlite_synchronous=sqlite_synchronous)
        try:
            return cls(engine, kinds=kinds, schema=schema, table_prefix=table_prefix, create=create)
        except BaseException:
            engine.dispose()
            raise

    # plumbing ---------------------------------------------------------------------------------
    def check_open(self) -> None:
        """Raises `StoreUnavailableError` once the store is closed."""
        if self._closed:
            raise StoreUnavailableError(
                f"the store {self.engine.url.render_as_string(hide_password=True)} was closed"
            )

    @contextmanager
    def _connect(self, what: str) -> Iterator[Connection]:
        self.check_open()
        lock = self._serial
        if lock is not None:
            lock.acquire()
        try:
            with self.engine.connect() as conn:
                yield conn
        except sa_exc.SQLAlchemyError as e:
            error = translate(e, what)
            raise error from chained(error, e)
        finally:
            if lock is not None:
                lock.release()

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        with self._connect(what) as conn:
            if self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def table(self, kind: str) -> sa.Table:
        """The SQLAlchemy table of `kind` (for inspecting the store, e.g. in tests).

        Raises:
            ValueError: an unknown kind.
        """
        return self.rows.table(kind)

    # schema -------------------------------------------------------------------------------
    def current_schema_version(self) -> int | None:
        """The schema version stored in the database (None for an empty database)."""
        with self._connect("read schema version") as conn:
            if not sa.inspect(conn).has_table(
                self._schema.version_table.name, schema=self.schema_name
            ):
                return None
            value = conn.execute(sa.select(sa.func.max(self._schema.version_table.c.version)))
            return value.scalar()

    def migrate(self, *, to: int = CURRENT_SCHEMA_VERSION) -> int:
        """Bring the database to schema version `to` (default: the current one) by running
        the missing migration steps in order, each in its own transaction and recorded in the
        schema table; idempotent. An empty database is created at the current version in one
        transaction (the same tables and indexes, every step recorded). Returns the version
        reached.

        Raises:
            DataError: the database was written by a newer release.
            ValueError: `to` is not a schema version of this release.
        """
        if not 1 <= to <= CURRENT_SCHEMA_VERSION:
            raise ValueError(f"schema versions are 1..{CURRENT_SCHEMA_VERSION}, not {to}")
        found = self.current_schema_version() or 0
        if found > CURRENT_SCHEMA_VERSION:
            raise DataError(
                f"the store's schema is version {found}; this release knows up to "
                f"{CURRENT_SCHEMA_VERSION}: upgrade creditmgmt"
            )
        if found == 0 and to == CURRENT_SCHEMA_VERSION:
            with self._write("create schema") as conn:
                create_current(conn, self._schema)
                applied_at = datetime.now().astimezone().isoformat()
                conn.execute(
                    self._schema.version_table.insert(),
                    [{"version": v, "applied_at": applied_at} for v in MIGRATIONS],
                )
            self._outbox_state = True
            return to
        for version in range(found + 1, to + 1):
            with self._write(f"migrate to schema {version}") as conn:
                MIGRATIONS[version](conn, self._schema)
                conn.execute(
                    self._schema.version_table.insert(),
                    {"version": version, "applied_at": datetime.now().astimezone().isoformat()},
                )
        reached = max(found, to)
        self._outbox_state = reached >= 3
        return reached

    def _has_outbox_state(self) -> bool:
        if self._outbox_state is None:
            self._outbox_state = (self.current_schema_version() or 0) >= 3
        return self._outbox_state

    def drop_all(self) -> None:
        """Drop every table of this store (tests and tear-down)."""
        with self._write("drop tables") as conn:
            self._schema.metadata.drop_all(conn)

    # RecordBackend --------------------------------------------------------------------------
    def begin(self) -> RecordTransaction:
        """Start a transaction.

        Raises:
            StoreUnavailableError: the store is closed.
        """
        self.check_open()
        return _SqlTransaction(self)

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[OutboxEntry]:
        t = self._schema.outbox
        query = sa.select(t).where(t.c.sequence > after).order_by(t.c.sequence).limit(limit)
        with self._connect("read outbox") as conn:
            rows = conn.execute(query).all()
        return [
            OutboxEntry(
                aggregate_kind=r.aggregate_kind,
                aggregate_id=r.aggregate_id,
                event_type=r.event_type,
                document=load_document("outbox", str(r.sequence), r.document),
                recorded_at=datetime.fromisoformat(r.recorded_at),
                sequence=int(r.sequence),
            )
            for r in rows
        ]

    def prune_outbox(self, *, through: int) -> int:
        """Delete the outbox entries with `sequence <= through` in one transaction; see
        `RecordBackend`. The highest sequence pruned is kept in the outbox state table, so the
        last sequence is known even when the outbox is empty; sequences come from the
        database (SQLite AUTOINCREMENT, PostgreSQL sequence, InnoDB counter) and never go
        back. Concurrent prunes are serialised on the state row; concurrent commits are not
        blocked beyond the rows being deleted.

        Raises:
            OutboxRangeError: `through` is negative or beyond the last sequence.
            StoreUnavailableError: the database cannot be reached.
        """
        if not self._has_outbox_state():
            self._outbox_state = None  # look again: another process may have migrated it
        if not self._has_outbox_state():
            raise DataError(
                f"the store's schema is version {self.current_schema_version()}: pruning the "
                "outbox needs schema 3; open it with create=True or call migrate()"
            )
        outbox, state = self._schema.outbox, self._schema.outbox_state
        with self._write("prune outbox") as conn:
            pruned = conn.execute(
                sa.select(state.c.pruned_through).where(state.c.id == 1).with_for_update()
            ).scalar()
            if pruned is None:
                raise DataError(f"{state.name}: the outbox state row is missing")
            last = conn.execute(sa.select(sa.func.max(outbox.c.sequence))).scalar()
            check_prune(through, max(int(pruned), int(last or 0)))
            deleted = conn.execute(outbox.delete().where(outbox.c.sequence <= through)).rowcount
            if through > pruned:
                conn.execute(state.update().where(state.c.id == 1).values(pruned_through=through))
        return int(deleted)

    def close(self) -> None:
        """Release the database connections; from here on every operation, a commit of a
        transaction begun before too, raises `StoreUnavailableError` (a second close does
        nothing)."""
        self._closed = True
        self.engine.dispose()


class _SqlTransaction(CheckedTransaction):
    """Reads see one snapshot; writes are buffered and flushed at commit.

    The first read opens a read transaction that every later read of the unit shares: on
    SQLite a deferred `BEGIN` (in WAL mode its snapshot is taken by the first SELECT), on
    PostgreSQL and MariaDB a REPEATABLE READ transaction (a snapshot from its first read). An
    in-memory SQLite database is one connection: the unit holds it from its first read to its
    end instead, so no other unit commits in between. At commit the read transaction ends and
    the writes run as before in a transaction of their own (READ COMMITTED on servers), each
    update checking the version it read: a row changed since the snapshot is a
    `ConflictError`, exactly as without snapshots.
    """

    def __init__(self, backend: SqlBackend) -> None:
        self._b = backend
        self._inserts: dict[tuple[str, str], Record] = {}
        self._updates: dict[tuple[str, str], Record] = {}
        self._outbox: list[OutboxEntry] = []
        self._done = False
        self._conn: Connection | None = None  # the read transaction (None until a read)
        self._holds_serial = False  # in-memory SQLite: this unit holds the connection

    def _check(self) -> None:
        if self._done:
            raise StoreUnavailableError("this transaction has ended")

    @contextmanager
    def _reading(self, what: str) -> Iterator[Connection]:
        """The connection of this unit's read transaction (opened by the first read)."""
        b = self._b
        if b._serial is not None:
            if not self._holds_serial:
                b._serial.acquire()
                self._holds_serial = True
            with b._connect(what) as conn:
                yield conn
            return
        try:
            if self._conn is None:
                b.check_open()
                opened = self._conn = b.engine.connect()
                if b.dialect == "sqlite":
                    opened.exec_driver_sql("BEGIN")
                else:
                    opened.execution_options(isolation_level="REPEATABLE READ")
                    opened.begin()
            yield self._conn
        except sa_exc.SQLAlchemyError as e:
            self._end_reads()  # a failed statement may have aborted the transaction
            error = translate(e, what)
            raise error from chained(error, e)

    def _end_reads(self) -> None:
        """End the read transaction (if any) and give its connection back."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.rollback()
                conn.close()
            except sa_exc.SQLAlchemyError:
                conn.invalidate()
        if self._holds_serial:
            self._holds_serial = False
            assert self._b._serial is not None
            self._b._serial.release()

    def _staged(self, kind: str, record_id: str) -> Record | None:
        key = (kind, record_id)
        return self._updates.get(key) or self._inserts.get(key)

    def get(self, kind: str, record_id: str) -> Record | None:
        self._check()
        staged = self._staged(kind, record_id)
        if staged is not None:
            return staged
        table = self._b.rows.table(kind)
        with self._reading(f"read {kind} {record_id}") as conn:
            row = conn.execute(sa.select(table).where(table.c.id == record_id)).first()
        return None if row is None else self._b.rows.record(kind, row)

    def get_many(self, kind: str, record_ids: Sequence[str]) -> list[Record]:
        self._check()
        table = self._b.rows.table(kind)
        found: dict[str, Record] = {}
        wanted = list(dict.fromkeys(record_ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            with self._reading(f"read {kind}") as conn:
                rows = conn.execute(sa.select(table).where(table.c.id.in_(chunk))).all()
            found.update({r._mapping["id"]: self._b.rows.record(kind, r) for r in rows})
        for i in wanted:
            staged = self._staged(kind, i)
            if staged is not None:
                found[i] = staged
        return [found[i] for i in record_ids if i in found]

    def _spec(self, kind: str) -> KindSpec:
        return self._b.rows.spec(kind)

    def _find(
        self, kind: str, where: Where | None, order_by: str, after: Keyset | None, limit: int | None
    ) -> list[Record]:
        table = self._b.rows.table(kind)
        query = sa.select(table).where(*self._b.rows.conditions(kind, where))
        if order_by == "id":
            if after is not None:
                query = query.where(table.c.id > after[1])
            query = query.order_by(table.c.id)
        else:
            raw, col = table.c[order_by], self._b.rows.order_column(table, order_by)
            test = (where or {}).get(order_by)
            # a filter on the order column that rules NULLs out lets the (column, id) index
            # serve both the keyset condition and the order: no sort per batch
            no_nulls = isinstance(test, Range) or (
                test is not None
                and not isinstance(test, Partition)
                and (not isinstance(test, In) or None not in test.values)
            )
            if after is not None:
                value, last_id = after
                if value is None:
                    query = query.where(raw.is_(None), table.c.id > last_id)
                else:
                    bound = self._b.rows.bind(table, order_by, value)
                    later = sa.tuple_(col, table.c.id) > sa.tuple_(bound, last_id)
                    query = query.where(later if no_nulls else sa.or_(later, raw.is_(None)))
            if no_nulls:
                query = query.order_by(col, table.c.id)
            else:
                query = query.order_by(raw.is_(None), col, table.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._reading(f"find {kind}") as conn:
            rows = conn.execute(query).all()
        records = [self._b.rows.record(kind, r) for r in rows]
        staged = [r for (k, _i), r in {**self._inserts, **self._updates}.items() if k == kind]
        if not staged:
            return records
        merged = {r.id: r for r in records}
        merged.update({r.id: r for r in staged})
        return select(merged.values(), where=where, order_by=order_by, after=after, limit=limit)

    def count(self, kind: str, *, where: Where | None = None) -> int:
        self._check()
        table = self._b.rows.table(kind)
        query = sa.select(sa.func.count()).select_from(table)
        query = query.where(*self._b.rows.conditions(kind, where))
        with self._reading(f"count {kind}") as conn:
            value = conn.execute(query).scalar()
        return int(value or 0)

    def insert(self, record: Record) -> None:
        self._check()
        check_new_record(record, self._b.rows.spec(record.kind))
        key = (record.kind, record.id)
        if key in self._inserts or key in self._updates:
            raise IntegrityError(f"{record.kind} {record.id} already exists")
        self._inserts[key] = record

    def update(self, record: Record) -> None:
        self._check()
        check_record(record, self._b.rows.spec(record.kind))
        self._updates[(record.kind, record.id)] = record

    def append_outbox(self, entries: Iterable[OutboxEntry]) -> None:
        self._check()
        self._outbox.extend(entries)

    def commit(self) -> None:
        self._check()
        self._done = True
        try:
            self._flush()
        finally:
            self._end_reads()

    def _flush(self) -> None:
        # the read transaction ends first (one connection per unit at a time), unless this
        # unit holds the one connection of an in-memory database (then it writes through it)
        if not self._holds_serial:
            self._end_reads()
        if not (self._inserts or self._updates or self._outbox):
            return
        b = self._b
        with b._write("commit") as conn:
            # updates first: a value an update frees may be taken by an insert
            for kind, records in by_kind(self._updates):
                update_rows(conn, b.rows.table(kind), kind, records, b.rows.values)
            for kind, records in by_kind(self._inserts):
                insert_rows(conn, b.rows.table(kind), kind, [b.rows.values(r) for r in records])
            if self._outbox:
                if b.dialect != "sqlite" and b._has_outbox_state():
                    # Take the outbox state row first: units append to the outbox one at a
                    # time, so sequences become visible in order (a reader paging with `after`
                    # never skips a sequence committed late) and a prune sees every entry
                    # up to its position. (SQLite: BEGIN IMMEDIATE serialises already.)
                    state = b._schema.outbox_state
                    conn.execute(sa.select(state.c.id).where(state.c.id == 1).with_for_update())
                conn.execute(b._schema.outbox.insert(), outbox_rows(self._outbox))

    def rollback(self) -> None:
        self._done = True
        self._end_reads()
        self._inserts.clear()
        self._updates.clear()
        self._outbox.clear()


#: The options `open_backend` takes.
OPTIONS: Final = frozenset({"schema", "table_prefix", "create", "sqlite_synchronous"})


def open_backend(url: str, **options: Any) -> SqlBackend:
    """Open the SQL store at `url` (`SqlBackend.from_url`): `schema`, `table_prefix`
    (default "cm_"), `create` (default true: create or upgrade the schema) and
    `sqlite_synchronous` (default "NORMAL").

    Raises:
        ConfigurationError: an option it does not take (named).
        ValueError: an unsupported URL or driver; and as `SqlBackend.from_url`.
    """
    check_options("sql", options, OPTIONS)
    return SqlBackend.from_url(url, **options)
