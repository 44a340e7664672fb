"""How the SQL backend lays records out: a record as the row of its kind's table and back,
and the record contract's filters (`Where`: values, `In`, `Range`, `Partition`) as SQL
conditions, per dialect (SQLite keeps decimals as exact text and compares them as numbers)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from creditmgmt.adapters.records.contract import (
    ColumnValue,
    In,
    KindSpec,
    Partition,
    Range,
    Record,
    Where,
    load_document,
    record_json,
)
from creditmgmt.adapters.sql.schema import SqlSchema
from creditmgmt.ports.slices import bucket_of


class SqlRows:
    """Records ⇄ rows and filters → conditions for the tables of one `SqlSchema`."""

    def __init__(self, schema: SqlSchema, kinds: Mapping[str, KindSpec], dialect: str) -> None:
        self._schema = schema
        self.kinds = kinds
        self.dialect = dialect
        self._column_names = {k: tuple(c.name for c in spec.columns) for k, spec in kinds.items()}

    def table(self, kind: str) -> sa.Table:
        """The table of `kind`. Raises ValueError: an unknown kind."""
        try:
            return self._schema.tables[kind]
        except KeyError:
            raise ValueError(f"unknown kind {kind!r}") from None

    def spec(self, kind: str) -> KindSpec:
        """The `KindSpec` of `kind`. Raises ValueError: an unknown kind."""
        try:
            return self.kinds[kind]
        except KeyError:
            raise ValueError(f"unknown kind {kind!r}") from None

    def values(self, record: Record) -> dict[str, Any]:
        """The row of `record`: its columns, id, version, hash bucket and document."""
        columns = record.columns
        values: dict[str, Any] = {n: columns.get(n) for n in self._column_names[record.kind]}
        values["id"] = record.id
        values["version"] = record.version
        values["bucket"] = bucket_of(record.id)
        values["document"] = record_json(record)
        return values

    def record(self, kind: str, row: sa.Row[Any]) -> Record:
        """The record a row of `kind` holds (columns as the spec types them).

        Raises:
            DataError: the stored document is not a JSON object.
        """
        spec = self.kinds[kind]
        m = row._mapping
        columns: dict[str, ColumnValue] = {}
        for c in spec.columns:
            value = m[c.name]
            if c.type == "decimal" and value is not None and not isinstance(value, Decimal):
                value = Decimal(str(value))
            if c.type == "bool" and value is not None:
                value = bool(value)
            if c.type == "date" and isinstance(value, datetime):
                value = value.date()
            columns[c.name] = value
        document = load_document(kind, m["id"], m["document"])
        return Record(kind, m["id"], int(m["version"]), document, columns)

    def order_column(self, table: sa.Table, name: str) -> sa.ColumnElement[Any]:
        """The column to compare and order by (SQLite's exact decimal text as a number)."""
        col = table.c[name]
        if self.dialect == "sqlite" and self.column_type(table, name) == "decimal":
            return sa.cast(col, sa.Float)  # exact text storage; compare numerically
        return col

    def column_type(self, table: sa.Table, name: str) -> str:
        """The spec type of column `name` of `table` (`id` is text)."""
        kind = next(k for k, t in self._schema.tables.items() if t is table)
        if name == "id":
            return "str"
        return self.kinds[kind].column(name).type

    def conditions(self, kind: str, where: Where | None) -> list[sa.ColumnElement[bool]]:
        """The SQL conditions of the filters `where` on `kind`.

        Raises:
            ValueError: a `Partition` under any key but `partition`, or that key holding
                something else; an unknown kind.
        """
        table = self.table(kind)
        conditions: list[sa.ColumnElement[bool]] = []
        hinted = self._common_values(kind, where)
        for name, test in (where or {}).items():
            if name == "partition":
                if not isinstance(test, Partition):
                    raise ValueError("the 'partition' filter takes a Partition")
                conditions.append((table.c.bucket % test.count) == test.index)
                continue
            col = self.order_column(table, name)
            tests: list[sa.ColumnElement[bool]] = []
            if isinstance(test, In):
                tests.append(col.in_([v for v in test.values if v is not None]))
            elif isinstance(test, Range):
                tests.append(col.is_not(None))
                if test.lower is not None:
                    tests.append(col >= self.bind(table, name, test.lower))
                if test.upper is not None:
                    upper = self.bind(table, name, test.upper)
                    tests.append(col <= upper if test.upper_inclusive else col < upper)
            elif isinstance(test, Partition):
                raise ValueError(f"a Partition filter goes under the key 'partition', not {name!r}")
            elif test is None:
                tests.append(table.c[name].is_(None))
            else:
                tests.append(col == self.bind(table, name, test))
            if name in hinted:
                tests = [sa.func.likely(t) for t in tests]
            conditions.extend(tests)
        return conditions

    def _common_values(self, kind: str, where: Where | None) -> frozenset[str]:
        """The filters SQLite should not find rows by: those on a column of few values
        (`ColumnSpec.few_values`) when another filter of the query is on a column of many.

        SQLite plans without statistics (no ANALYZE is run) and takes every equality as
        selective: for `customer_id IN (...) AND status = 'performing' ORDER BY id` it would
        walk the (status, id) index, which also gives the order, over every performing loan
        of the book, once per batch of customers. `likely(...)` tells it the test passes for
        most rows, so the customer index finds them. Other dialects keep statistics."""
        if self.dialect != "sqlite" or not where or len(where) < 2:
            return frozenset()
        spec = self.spec(kind)
        named = [n for n in where if n != "partition" and n in spec.column_names]
        few = {n for n in named if spec.column(n).few_values}
        return frozenset(few) if len(few) < len(named) else frozenset()

    def bind(self, table: sa.Table, name: str, value: ColumnValue) -> Any:
        """`value` as compared with `order_column(table, name)`."""
        if self.dialect == "sqlite" and self.column_type(table, name) == "decimal":
            return float(value)  # type: ignore[arg-type]
        return value
