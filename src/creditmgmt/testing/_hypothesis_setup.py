"""Hypothesis's entry point: `st.from_type(T)` knows every public creditmgmt domain type.

`pyproject.toml` names `_hypothesis_setup_hook` under `[project.entry-points.hypothesis]`;
Hypothesis calls it once, when it is imported. The hook is cheap: if `creditmgmt.domain` is
not imported yet, it only leaves a note on `sys.meta_path`, and registration happens right
after the domain is first imported (a process that never touches creditmgmt pays nothing).
It never raises: without a dependency the strategies need, nothing is registered.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

DOMAIN = "creditmgmt.domain"


def _register() -> None:
    try:
        from creditmgmt.testing.strategies import register_type_strategies
    except ImportError:  # a dependency of the strategies is missing: stay out of the way
        return
    register_type_strategies()


class _RegisterAfter(importlib.abc.Loader):
    """Runs the domain package's own loader, then registers the strategies."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _register()


class _WhenDomainImported(importlib.abc.MetaPathFinder):
    """Waits for `import creditmgmt.domain`; takes itself off `sys.meta_path` on first sight."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != DOMAIN:
            return None
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _RegisterAfter(spec.loader)
        return spec


def _hypothesis_setup_hook() -> None:
    """Register the creditmgmt strategies now, or as soon as the domain is imported."""
    if DOMAIN in sys.modules:
        _register()
    elif not any(isinstance(f, _WhenDomainImported) for f in sys.meta_path):
        sys.meta_path.insert(0, _WhenDomainImported())
