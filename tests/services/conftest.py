"""The PostgreSQL schema fixture of the adapter tests, for the one service run on a server."""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_adapter_servers", Path(__file__).parent.parent / "adapters" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_servers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_servers)

postgres_schema = _servers.postgres_schema
