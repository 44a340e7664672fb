"""Suite-wide settings: Hypothesis profiles (`dev` quick by default, `ci` deeper when CI=true,
`soak` by hand with HYPOTHESIS_PROFILE=soak), and the database servers the adapter and desk
tests share: one schema (PostgreSQL) or database (MariaDB) per run. `sql_server` runs a test
on each server, `sql_database` on SQLite (a file) and each server; both give (url, schema),
the schema None where the place is a whole database.

Server URLs come from CREDITMGMT_TEST_POSTGRES_URL / CREDITMGMT_TEST_MYSQL_URL. When a server
cannot be reached the tests skip with the reason — unless CREDITMGMT_REQUIRE_SERVERS=1 (CI),
where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

QUIET = [HealthCheck.too_slow, HealthCheck.large_base_example]
settings.register_profile(
    "dev",
    max_examples=40,
    deadline=None,
    print_blob=False,  # explicit: Hypothesis's own CI defaults would switch it on
    suppress_health_check=QUIET,
)
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=QUIET, print_blob=True
)
# by hand, before a release or after a change to a rule engine: HYPOTHESIS_PROFILE=soak
settings.register_profile(
    "soak", max_examples=2000, deadline=None, suppress_health_check=QUIET, print_blob=True
)


def _profile(env: Mapping[str, str]) -> str:
    """`HYPOTHESIS_PROFILE` wins; otherwise `ci` when CI is set to a true value, else `dev`."""
    explicit = env.get("HYPOTHESIS_PROFILE")
    if explicit:
        return explicit
    ci = env.get("CI", "").strip().lower()
    return "ci" if ci in {"1", "true", "yes", "on"} else "dev"


settings.load_profile(_profile(os.environ))

POSTGRES_URL = os.environ.get(
    "CREDITMGMT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("CREDITMGMT_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRED = os.environ.get("CREDITMGMT_REQUIRE_SERVERS") == "1"


def _unreachable(what: str, error: Exception) -> None:
    message = f"{what} not reachable ({type(error).__name__}: {error})"
    if REQUIRED:
        pytest.fail(f"{message}; CREDITMGMT_REQUIRE_SERVERS=1 makes this a failure")
    pytest.skip(message)


def run_name() -> str:
    return f"cm_{os.getpid()}_{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[tuple[str, str]]:
    """(url, schema): a fresh schema for this test run, dropped at the end."""
    engine = sa.create_engine(POSTGRES_URL)
    schema = run_name()
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    except Exception as e:
        engine.dispose()
        _unreachable(f"PostgreSQL at {POSTGRES_URL}", e)
    try:
        yield POSTGRES_URL, schema
    finally:
        drop_postgres_schema(engine, schema)
        engine.dispose()


def drop_postgres_schema(engine: sa.Engine, schema: str) -> None:
    """Drop a schema table by table, one transaction each, then the schema: a single
    `DROP SCHEMA ... CASCADE` of a run's hundreds of tables and indexes needs more locks
    than the server's lock table holds (max_locks_per_transaction)."""
    with engine.connect() as conn:
        tables = (
            conn.exec_driver_sql(
                "SELECT tablename FROM pg_tables WHERE schemaname = %(s)s", {"s": schema}
            )
            .scalars()
            .all()
        )
    for start in range(0, len(tables), 20):  # 20 tables (and their indexes) a transaction
        batch = ", ".join(f'"{schema}"."{t}"' for t in tables[start : start + 20])
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {batch} CASCADE")
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="session")
def mysql_database() -> Iterator[str]:
    """A URL to a fresh database for this test run, dropped at the end."""
    engine = sa.create_engine(MYSQL_URL)
    name = run_name()
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
    except Exception as e:
        engine.dispose()
        _unreachable(f"MariaDB/MySQL at {MYSQL_URL}", e)
    try:
        yield sa.engine.make_url(MYSQL_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP DATABASE `{name}`")
        engine.dispose()


SERVERS = [
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", marks=pytest.mark.mysql),
]


def _server_place(request: pytest.FixtureRequest, server: str) -> tuple[str, str | None]:
    if server == "postgres":
        url, schema = request.getfixturevalue("postgres_schema")
        return url, schema
    return request.getfixturevalue("mysql_database"), None


@pytest.fixture(params=SERVERS)
def sql_server(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    """(url, schema) of this run's place on each database server."""
    return _server_place(request, str(request.param))


@pytest.fixture(params=["sqlite", *SERVERS])
def sql_database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """(url, schema): a SQLite file of the test's own, then this run's place on each server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.db'}", None
    return _server_place(request, str(request.param))


@pytest.fixture
def collector_states(monkeypatch: pytest.MonkeyPatch) -> Callable[[object, str], list[bool]]:
    """`watch(module, name)` replaces the function `module.name` for the test by one that
    notes whether the cyclic GC is on at each call (then calls it); returns those notes."""
    import gc

    def watch(module: object, name: str) -> list[bool]:
        states: list[bool] = []
        real = getattr(module, name)

        def watched(*args: object, **kwargs: object) -> object:
            states.append(gc.isenabled())
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, watched)
        return states

    return watch
