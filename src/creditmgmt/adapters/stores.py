"""Open a store from its URL or a mapping — the store URLs of the architecture.

    memory://                              the in-memory reference store
    sqlite:///path/book.db   sqlite://     SQLite file (WAL) or in-memory database
    postgresql+psycopg://user@host/db      PostgreSQL (psycopg 3; `postgresql://` means it too)
    mysql+pymysql://user@host/db           MariaDB / MySQL (PyMySQL; also `mariadb+pymysql://`,
                                           and `mysql://` / `mariadb://` mean it too)
    file:///var/lib/credit                 the crash-safe directory store

A mapping holds the URL under "url" and the adapter's options by name, e.g.
`{"url": "postgresql+psycopg://app@db/credit", "schema": "credit"}`. `open_store` hands them
to the `open_backend(url, **options)` of the adapter module (`adapters.memory.backend`,
`adapters.sql.backend`, `adapters.files.backend`), which names any option it does not take. `create` differs by
kind: a SQL store creates or upgrades its schema unless `create=False` (the database itself
must exist); a file store opens only a directory holding a store unless `create=True` (so a
mistyped `file:///` path is refused, never made into a new empty store). Nothing is read from the
environment; nothing connects or creates files until `open_store` is called.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from creditmgmt.adapters.records.contract import RecordBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.ports.clock import Clock
from creditmgmt.ports.errors import ConfigurationError

_SQL_SCHEMES: Final = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


#: `scheme://user:password@` — the password part of a URL's authority.
_PASSWORD: Final = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:)[^@\s]*@")
#: The extra that installs each SQL driver.
_DRIVER_EXTRAS: Final = {"psycopg": "postgres", "pymysql": "mysql", "sqlalchemy": "sql"}


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced by `***`."""
    return _PASSWORD.sub(lambda m: f"{m.group('head')}***@", text)


def store_kind(url: str) -> str:
    """ "memory", "sql" or "file" for a store URL.

    Raises:
        ConfigurationError: a URL of no supported store (names the scheme, password hidden,
            and the supported ones); a `ValueError` too.
    """
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme == "memory":
        return "memory"
    if scheme == "file":
        return "file"
    if scheme.split("+", 1)[0] in _SQL_SCHEMES:
        return "sql"
    raise ConfigurationError(
        f"unsupported store URL {redact(url)!r}: use memory://, sqlite:///path.db, "
        "postgresql+psycopg://..., mysql+pymysql://... or file:///dir"
    )


def open_store(config: str | Mapping[str, Any], *, clock: Clock) -> RecordStore:
    """Open (or create) the store a URL or mapping names (see the module doc for `create`).

    Messages never show a URL's password.

    Raises:
        ConfigurationError: an unsupported URL or driver, a missing "url", an option the
            store does not take (named), or a driver that is not installed (names the extra
            to install); a `ValueError` too.
        StoreUnavailableError: the database or directory cannot be reached or is locked; a
            file URL naming a directory that holds no store, without `create=True`.
        DataError: the store holds a newer schema than this release, or is damaged.
    """
    if isinstance(config, str):
        url, options = config, {}
    else:
        if not isinstance(config.get("url"), str):
            raise ConfigurationError("a store mapping needs its URL under 'url'")
        url = config["url"]
        options = {k: v for k, v in config.items() if k != "url"}
    kind = store_kind(url)
    try:
        return RecordStore(_opener(kind)(url, **options), clock=clock)
    except ConfigurationError:
        raise
    except ModuleNotFoundError as e:
        package = (e.name or "").split(".", 1)[0]
        extra = _DRIVER_EXTRAS.get(package.lower(), "all")
        raise ConfigurationError(
            f"store {redact(url)!r} needs the {package or 'driver'} package: "
            f"pip install creditmgmt[{extra}]"
        ) from None
    except ValueError as e:
        raise ConfigurationError(redact(str(e))) from None


def _opener(kind: str) -> Callable[..., RecordBackend]:
    """The `open_backend(url, **options)` of the adapter module of a kind of store (imported
    only when used: the SQL and file adapters need their drivers)."""
    if kind == "memory":
        from creditmgmt.adapters.memory import backend as memory

        return memory.open_backend
    if kind == "file":
        from creditmgmt.adapters.files import backend as files

        return files.open_backend
    from creditmgmt.adapters.sql import backend as sql

    return sql.open_backend
