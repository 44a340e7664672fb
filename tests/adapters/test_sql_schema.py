"""A new database is created straight at the current schema version; what it holds must be
exactly what an old database walked up the migrations holds (on SQLite and each server)."""

from __future__ import annotations

import itertools
from typing import Any

import sqlalchemy as sa

from creditmgmt.adapters.sql import CURRENT_SCHEMA_VERSION, SqlBackend

_prefixes = itertools.count()


def _shape(backend: SqlBackend, schema: str | None) -> dict[str, Any]:
    """Tables by name (prefix dropped) with their columns, primary key, unique constraints
    and indexes, as the database reports them."""
    prefix = backend.table_prefix
    found: dict[str, Any] = {}
    with backend.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for name in inspector.get_table_names(schema=schema):
            if not name.startswith(prefix):
                continue
            short = name[len(prefix) :]
            columns = [
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspector.get_columns(name, schema=schema)
            ]
            indexes = sorted(
                (i["name"][len(f"ix_{prefix}") :] if i["name"] else "", tuple(i["column_names"]))
                for i in inspector.get_indexes(name, schema=schema)
                if not i.get("unique")
            )
            uniques = sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(name, schema)
            ) + sorted(
                tuple(i["column_names"])
                for i in inspector.get_indexes(name, schema=schema)
                if i.get("unique")
            )
            found[short] = {
                "columns": columns,
                "primary_key": inspector.get_pk_constraint(name, schema)["constrained_columns"],
                "indexes": indexes,
                "unique": sorted(set(uniques)),
            }
    return found


def test_a_new_database_matches_one_migrated_from_the_first_release(
    sql_database: tuple[str, str | None],
) -> None:
    url, schema = sql_database
    walked = SqlBackend.from_url(
        url, schema=schema, table_prefix=f"w{next(_prefixes)}_", create=False
    )
    fresh = SqlBackend.from_url(url, schema=schema, table_prefix=f"f{next(_prefixes)}_")
    try:
        assert walked.migrate(to=1) == 1
        assert walked.migrate() == CURRENT_SCHEMA_VERSION
        assert fresh.current_schema_version() == CURRENT_SCHEMA_VERSION
        old, new = _shape(walked, schema), _shape(fresh, schema)
        assert set(new) == set(old)
        assert any(shape["indexes"] for shape in new.values())
        for table in old:
            assert new[table] == old[table], table
        # the outbox state row every schema-3 store starts from, and every step recorded
        with fresh.engine.connect() as conn:
            meta = sa.MetaData(schema=schema)
            state = sa.Table(f"{fresh.table_prefix}outbox_state", meta, autoload_with=conn)
            versions = sa.Table(f"{fresh.table_prefix}schema", meta, autoload_with=conn)
            assert conn.execute(sa.select(state.c.id, state.c.pruned_through)).all() == [(1, 0)]
            recorded = conn.execute(sa.select(versions.c.version).order_by("version"))
            assert [v for (v,) in recorded] == list(range(1, CURRENT_SCHEMA_VERSION + 1))
    finally:
        walked.drop_all()
        fresh.drop_all()
        walked.close()
        fresh.close()
