"""`st.from_type(T)` knows every public domain type in a host's process, through the
Hypothesis entry point, with nothing of ours imported first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

import pytest
from hypothesis import given
from hypothesis import strategies as st

import creditmgmt.domain as domain
from creditmgmt.services import DEFAULT_ACCESS, Principal, Role

HOOK = "creditmgmt.testing._hypothesis_setup:_hypothesis_setup_hook"

# a host's test module: hypothesis first, then our types, then st.from_type for each of them
HOST_SUITE = """
import hypothesis
from hypothesis import HealthCheck, given, settings, strategies as st
import creditmgmt.domain as domain

types = [getattr(domain, n) for n in domain.__all__ if isinstance(getattr(domain, n), type)]
assert len(types) > 80, len(types)
def checker(cls):
    @settings(max_examples=3, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.from_type(cls))
    def check(value):
        assert isinstance(value, cls), (cls, value)
    return check

for cls in types:
    try:
        checker(cls)()
    except Exception as e:
        raise SystemExit(f"st.from_type({cls.__name__}) failed: {type(e).__name__}: {e}")

@settings(max_examples=10, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_type(domain.Facility), st.from_type(domain.Money))
def check_known_failures(facility, money):
    assert facility.currency != "" and money.currency != ""
    assert domain.LimitTree([facility]).nodes == [facility]
check_known_failures()
print("ok", len(types))
"""


def _run(code: str, *, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
        check=False,
    )


def test_the_package_declares_the_hypothesis_entry_point() -> None:
    # present once the package metadata is (re)installed: `pip install -e .` / `make test`
    hooks = [e.value for e in entry_points(group="hypothesis")]
    assert HOOK in hooks


def test_a_host_suite_gets_every_public_type_from_st_from_type() -> None:
    result = _run(HOST_SUITE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok ")


def test_the_hook_registers_when_the_domain_was_imported_first() -> None:
    code = """
    import creditmgmt.domain as domain
    from creditmgmt.testing._hypothesis_setup import _hypothesis_setup_hook
    from hypothesis import strategies as st, find, settings, HealthCheck
    _hypothesis_setup_hook()
    fast = settings(database=None, suppress_health_check=list(HealthCheck))
    assert find(st.from_type(domain.Facility), lambda f: True, settings=fast).currency
    """
    result = _run(code, env={"HYPOTHESIS_NO_PLUGINS": "1"})
    assert result.returncode == 0, result.stderr


def test_the_hook_waits_for_the_domain_and_imports_nothing_itself() -> None:
    code = """
    import sys
    from creditmgmt.testing._hypothesis_setup import _hypothesis_setup_hook
    _hypothesis_setup_hook()
    _hypothesis_setup_hook()  # twice: still one waiting finder
    assert "creditmgmt.domain" not in sys.modules
    assert "creditmgmt.testing.strategies" not in sys.modules
    waiting = [f for f in sys.meta_path if type(f).__name__ == "_WhenDomainImported"]
    assert len(waiting) == 1
    from hypothesis import strategies as st, find, settings, HealthCheck
    from creditmgmt.domain import Money
    assert not [f for f in sys.meta_path if type(f).__name__ == "_WhenDomainImported"]
    loader = sys.modules["creditmgmt.domain"].__spec__.loader
    assert type(loader).__name__ == "SourceFileLoader"  # the real loader, unwrapped again
    assert "exec_module" not in vars(loader)
    fast = settings(database=None, suppress_health_check=list(HealthCheck))
    assert find(st.from_type(Money), lambda m: True, settings=fast).currency
    """
    result = _run(code, env={"HYPOTHESIS_NO_PLUGINS": "1"})
    assert result.returncode == 0, result.stderr


BLOCKER = """
import sys
class Block:
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in BLOCKED or name in BLOCKED:
            raise ImportError(f"{name} is not installed")
        return None
sys.meta_path.insert(0, Block())
"""


def test_the_hook_works_without_the_optional_dependencies() -> None:
    blocked = {"sqlalchemy", "cattrs", "click", "rich", "pytest", "filelock", "psycopg"}
    code = f"BLOCKED = {sorted(blocked)!r}\n{BLOCKER}\n{HOST_SUITE}"
    result = _run(code)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_hook_never_breaks_hypothesis_when_the_strategies_cannot_load() -> None:
    code = (
        'BLOCKED = ["creditmgmt.testing.strategies"]\n'
        + BLOCKER
        + textwrap.dedent("""
    import hypothesis
    from creditmgmt.testing._hypothesis_setup import _hypothesis_setup_hook
    _hypothesis_setup_hook()
    import creditmgmt.domain  # registration is attempted here and quietly skipped
    print("imported")
    """)
    )
    result = _run(code, env={"HYPOTHESIS_NO_PLUGINS": "1"})
    assert result.returncode == 0, result.stderr
    assert "imported" in result.stdout


def test_the_domain_exports_the_types_the_host_suite_covers() -> None:
    classes = [n for n in domain.__all__ if isinstance(getattr(domain, n), type)]
    for name in ("Money", "Facility", "LimitTree", "IdSource", "Classification", "Category"):
        assert name in classes


@given(st.from_type(Principal))
def test_principals_come_from_the_kit(principal: Principal) -> None:
    assert principal.roles
    assert (principal.authority is not None) == (Role.APPROVER in principal.roles)
    assert DEFAULT_ACCESS.allows(principal, "facility")


def test_the_hook_leaves_a_shared_loader_alone_for_every_other_module(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A loader shared by many modules (pytest's assertion rewriter) may load others while
    the domain loads: they run untouched, and the wrapper goes away once the domain ran."""
    import types

    from creditmgmt.testing import _hypothesis_setup as hook

    registered: list[str] = []
    monkeypatch.setattr(hook, "_register", lambda: registered.append("now"))
    ran: list[str] = []

    class SharedLoader:
        def exec_module(self, module: types.ModuleType) -> None:
            ran.append(module.__name__)
            if module.__name__ == hook.DOMAIN:  # the domain imports another module
                self.exec_module(types.ModuleType("creditmgmt.domain.money"))

    loader = SharedLoader()
    hook._register_after(loader)
    loader.exec_module(types.ModuleType("tests.something_else"))
    assert registered == [] and "exec_module" in vars(loader)
    loader.exec_module(types.ModuleType(hook.DOMAIN))
    assert ran == ["tests.something_else", hook.DOMAIN, "creditmgmt.domain.money"]
    assert registered == ["now"] and "exec_module" not in vars(loader)
