"""The statements a SQL unit of work commits with: updates checked against the version each
record was read at (batched where the driver counts a batch's rows), inserts per kind in one
statement, and the outbox rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

from creditmgmt.adapters.records.contract import OutboxEntry, Record
from creditmgmt.adapters.sql.errors import describe
from creditmgmt.ports.errors import ConflictError, IntegrityError


def by_kind(records: dict[tuple[str, str], Record]) -> list[tuple[str, list[Record]]]:
    """The records grouped by kind, in (kind, id) order."""
    groups: dict[str, list[Record]] = {}
    for key in sorted(records):
        groups.setdefault(key[0], []).append(records[key])
    return list(groups.items())


def update_rows(
    conn: Connection,
    table: sa.Table,
    kind: str,
    records: list[Record],
    row_values: Callable[[Record], dict[str, Any]],
) -> None:
    """Write one kind's updates, each checked against the version it was read at: one
    batched statement where the driver counts the rows of a batch, else one per row.

    Raises:
        IntegrityError: a unique value is taken (the record, or the batch's first ids, named).
        ConflictError: a record is no longer at the version it was read at (named).
    """
    stmt = table.update().where(
        table.c.id == sa.bindparam("cm_key"), table.c.version == sa.bindparam("cm_read")
    )
    rows = []
    for record in records:
        values = row_values(record)
        del values["id"]
        values["cm_key"], values["cm_read"] = record.id, record.version - 1
        rows.append(values)
    batched = len(rows) > 1 and conn.dialect.supports_sane_multi_rowcount
    for chunk in [rows] if batched else [[row] for row in rows]:
        try:
            result = conn.execute(stmt, chunk)
        except sa_exc.IntegrityError as e:  # not chained: the driver quotes values
            ids = ", ".join(row["cm_key"] for row in chunk[:5])
            among = f"{kind} {ids}" if len(chunk) == 1 else f"{kind}: one of {ids}"
            raise IntegrityError(f"{among}: {describe(e)}") from None
        if result.rowcount != len(chunk):
            raise ConflictError(_lost_race(conn, table, kind, chunk))


def _lost_race(conn: Connection, table: sa.Table, kind: str, rows: list[dict[str, Any]]) -> str:
    """Name the first record of a failed update batch that this batch did not write: its row
    is missing, or not at the version and document this batch set (the caller's transaction
    is rolled back)."""
    wanted = {row["cm_key"]: row for row in rows}
    stored = {
        r.id: (r.version, r.document)
        for r in conn.execute(
            sa.select(table.c.id, table.c.version, table.c.document).where(table.c.id.in_(wanted))
        )
    }
    for key, row in wanted.items():
        if stored.get(key) != (row["cm_read"] + 1, row["document"]):
            return (
                f"{kind} {key}: expected version {row['cm_read']}, "
                "but it was changed or removed by someone else"
            )
    ids = ", ".join(list(wanted)[:5])
    return f"{kind}: one of {ids} was changed by someone else to what this unit wrote"


def insert_rows(conn: Connection, table: sa.Table, kind: str, rows: list[dict[str, Any]]) -> None:
    """Insert one kind's new records in one statement.

    Raises:
        IntegrityError: a duplicate id or unique value (the first ids of the batch named).
    """
    try:
        conn.execute(table.insert(), rows)
    except sa_exc.IntegrityError as e:
        raise IntegrityError(
            f"{kind}: duplicate id or unique value among "
            f"{', '.join(r['id'] for r in rows[:5])}: {describe(e)}"
        ) from None


def outbox_rows(entries: Iterable[OutboxEntry]) -> list[dict[str, Any]]:
    """The outbox table's rows for a unit's entries (which share one timestamp text)."""
    stamps: dict[datetime, str] = {}
    rows = []
    for entry in entries:
        stamp = stamps.get(entry.recorded_at)
        if stamp is None:
            stamp = stamps[entry.recorded_at] = entry.recorded_at.isoformat()
        rows.append(
            {
                "aggregate_kind": entry.aggregate_kind,
                "aggregate_id": entry.aggregate_id,
                "event_type": entry.event_type,
                "document": entry.document_text(),
                "recorded_at": stamp,
            }
        )
    return rows
