"""The SQL store's schema: one table per kind, the outbox and its state, the column types,
and the migrations every database walks up to `CURRENT_SCHEMA_VERSION`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection

from creditmgmt.adapters.records.contract import (
    ColumnSpec,
    KindSpec,
)

CURRENT_SCHEMA_VERSION: Final = 3
T = TypeVar("T")


class _ExactDecimal(sa.types.TypeDecorator[Decimal]):
    """Decimals as exact text on SQLite (its NUMERIC keeps only 15 significant digits)."""

    impl = sa.String(64)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def _text_type(length: int | None = None) -> sa.types.TypeEngine[str]:
    base: sa.types.TypeEngine[str] = sa.String(length) if length else sa.Text()
    # byte-order comparison everywhere, so ordering and equality match Python's
    return base.with_variant(
        sa.String(length, collation="C") if length else sa.Text(collation="C"), "postgresql"
    ).with_variant(
        mysql.VARCHAR(length, charset="utf8mb4", collation="utf8mb4_bin")
        if length
        else mysql.LONGTEXT(charset="utf8mb4", collation="utf8mb4_bin"),
        "mysql",
        "mariadb",
    )


def _column_type(spec: ColumnSpec, dialect: str) -> sa.types.TypeEngine[Any]:
    if spec.type == "str":
        return _text_type(255)
    if spec.type == "int":
        return sa.BigInteger()
    if spec.type == "bool":
        return sa.Boolean()
    if spec.type == "date":
        return sa.Date()
    if dialect == "sqlite":
        return _ExactDecimal()
    return sa.Numeric(30, 6, asdecimal=True)


def checked_prefix(prefix: str) -> str:
    if not prefix.replace("_", "").isalnum():
        raise ValueError(f"table prefix {prefix!r} may hold letters, digits and '_' only")
    return prefix


class SqlSchema:
    """The tables of one store."""

    def __init__(
        self, kinds: Mapping[str, KindSpec], dialect: str, schema: str | None, prefix: str
    ) -> None:
        self.metadata = sa.MetaData(schema=schema)
        self.dialect = dialect
        table_kw: dict[str, Any] = {}
        if dialect in ("mysql", "mariadb"):
            table_kw = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
        self.tables: dict[str, sa.Table] = {}
        for kind, spec in kinds.items():
            cols: list[sa.Column[Any]] = [
                sa.Column("id", _text_type(64), primary_key=True),
                sa.Column("version", sa.Integer(), nullable=False),
                sa.Column("bucket", sa.Integer(), nullable=False),
                sa.Column("document", _text_type(), nullable=False),
            ]
            for c in spec.columns:
                cols.append(
                    sa.Column(
                        c.name,
                        _column_type(c, dialect),
                        nullable=True,
                        unique=c.unique,
                    )
                )
            self.tables[kind] = sa.Table(f"{prefix}{kind}", self.metadata, *cols, **table_kw)
        self.kinds = dict(kinds)
        self.table_kw = table_kw
        # SQLite AUTOINCREMENT: never hand out a rowid again, even once every entry is pruned
        self.outbox = _outbox_table(
            self.metadata, f"{prefix}outbox", table_kw, sqlite_autoincrement=True
        )
        #: one row (id 1): the highest sequence ever pruned, the last sequence when the outbox
        #: is empty (schema 3)
        self.outbox_state = sa.Table(
            f"{prefix}outbox_state",
            self.metadata,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
            sa.Column("pruned_through", sa.BigInteger(), nullable=False),
            **table_kw,
        )
        self.version_table = sa.Table(
            f"{prefix}schema",
            self.metadata,
            sa.Column("version", sa.Integer(), primary_key=True),
            sa.Column("applied_at", _text_type(40), nullable=False),
            **table_kw,
        )


def _outbox_table(
    metadata: sa.MetaData, name: str, table_kw: Mapping[str, Any], *, sqlite_autoincrement: bool
) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column(
            "sequence",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("aggregate_kind", _text_type(64), nullable=False),
        sa.Column("aggregate_id", _text_type(64), nullable=False),
        sa.Column("event_type", _text_type(64), nullable=False),
        sa.Column("document", _text_type(), nullable=False),
        sa.Column("recorded_at", _text_type(40), nullable=False),
        sqlite_autoincrement=sqlite_autoincrement,
        **table_kw,
    )


def _scan_columns(schema: SqlSchema) -> list[tuple[sa.Table, str]]:
    """(table, column) of every queryable column that gets a scan index (unique ones have
    their own)."""
    return [
        (schema.tables[kind], c.name)
        for kind, spec in schema.kinds.items()
        for c in spec.columns
        if c.indexed and not c.unique
    ]


def _bucket_index(table: sa.Table) -> sa.Index:
    """The index of a kind's hash buckets (partitioned scans), since schema 1."""
    return sa.Index(f"ix_{table.name}_bucket", table.c.bucket)


def _scan_index(table: sa.Table, name: str) -> sa.Index:
    """The keyset-scan index of a queryable column: (column, id), since schema 2."""
    return sa.Index(f"ix_{table.name}_{name}_id", table.c[name], table.c.id)


# Migrations: version -> the step from the previous version. A released step never changes:
# every database written by any release walks the same steps up to CURRENT_SCHEMA_VERSION.
def _migration_1(conn: Connection, schema: SqlSchema) -> None:
    """Tables, unique constraints, a bucket index and one index per queryable column."""
    schema.metadata.create_all(conn, tables=[*schema.tables.values(), schema.version_table])
    # the outbox exactly as release 0.1 made it (schema 3 changes it on SQLite)
    _outbox_table(
        sa.MetaData(schema=schema.metadata.schema),
        schema.outbox.name,
        schema.table_kw,
        sqlite_autoincrement=False,
    ).create(conn)
    for table in schema.tables.values():
        _bucket_index(table).create(conn)
    for table, name in _scan_columns(schema):
        sa.Index(f"ix_{table.name}_{name}", table.c[name]).create(conn)


def _migration_2(conn: Connection, schema: SqlSchema) -> None:
    """Scan indexes: (column, id) instead of (column), so a keyset scan filtered on a column
    seeks straight to its next batch instead of sorting every remaining match per batch."""
    for table, name in _scan_columns(schema):
        old = sa.Index(f"ix_{table.name}_{name}", table.c[name])
        old.drop(conn)
        table.indexes.discard(old)
        _scan_index(table, name).create(conn)


def _migration_3(conn: Connection, schema: SqlSchema) -> None:
    """Outbox pruning: a state row keeping the highest sequence pruned, and on SQLite an
    AUTOINCREMENT outbox (rebuilt with its rows), so no sequence is handed out twice even
    after every entry was pruned. PostgreSQL sequences and InnoDB counters never go back."""
    schema.outbox_state.create(conn)
    conn.execute(schema.outbox_state.insert(), {"id": 1, "pruned_through": 0})
    if schema.dialect != "sqlite":
        return
    outbox = schema.outbox
    quote = conn.dialect.identifier_preparer
    old_name = f"{outbox.name}_schema2"
    conn.exec_driver_sql(
        f"ALTER TABLE {quote.format_table(outbox)} RENAME TO {quote.quote(old_name)}"
    )
    outbox.create(conn)
    old = quote.format_table(sa.table(old_name, schema=outbox.schema))
    names = ", ".join(quote.quote(c.name) for c in outbox.columns)
    conn.exec_driver_sql(  # identifiers only, each quoted by the dialect: no value in the SQL
        f"INSERT INTO {quote.format_table(outbox)} ({names}) SELECT {names} FROM {old}"  # noqa: S608
    )
    conn.exec_driver_sql(f"DROP TABLE {old}")


def create_current(conn: Connection, schema: SqlSchema) -> None:
    """An empty database straight at `CURRENT_SCHEMA_VERSION`: the tables, indexes and outbox
    state the migrations would leave, in a fraction of the statements (a test compares the
    two). MySQL/MariaDB gets each table's indexes in one ALTER TABLE: InnoDB rebuilds per
    statement, so one CREATE INDEX each costs several times more."""
    schema.metadata.create_all(
        conn,
        tables=[
            *schema.tables.values(),
            schema.outbox,
            schema.outbox_state,
            schema.version_table,
        ],
    )
    scans: dict[str, list[str]] = {}
    for table, name in _scan_columns(schema):
        scans.setdefault(table.name, []).append(name)
    for table in schema.tables.values():
        indexes = [_bucket_index(table)] + [
            _scan_index(table, name) for name in scans.get(table.name, [])
        ]
        if schema.dialect not in ("mysql", "mariadb"):
            for index in indexes:
                index.create(conn)
            continue
        quote = conn.dialect.identifier_preparer
        clauses = ", ".join(
            f"ADD INDEX {quote.quote(str(i.name))} "
            f"({', '.join(quote.quote(c.name) for c in i.columns)})"
            for i in indexes
        )
        # identifiers only, each quoted by the dialect: no value in the SQL
        conn.exec_driver_sql(f"ALTER TABLE {quote.format_table(table)} {clauses}")
    conn.execute(schema.outbox_state.insert(), {"id": 1, "pruned_through": 0})


MIGRATIONS: Final[dict[int, Callable[[Connection, SqlSchema], None]]] = {
    1: _migration_1,
    2: _migration_2,
    3: _migration_3,
}
