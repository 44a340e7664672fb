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
from typing import Any

DOMAIN = "creditmgmt.domain"


def _register() -> None:
    try:
        from creditmgmt.testing.strategies import register_type_strategies
    except ImportError:  # a dependency of the strategies is missing: stay out of the way
        return
    register_type_strategies()


def _register_after(loader: Any) -> None:
    """Make `loader` register the strategies right after it has run the domain package.

    Only this one loader object's `exec_module` is wrapped, and only for the domain module:
    a loader shared by many modules (pytest's assertion rewriter, say) runs every other
    module untouched, also while the domain's own imports are loading. The wrapper takes
    itself off once the domain has run.
    """
    original = loader.exec_module

    def exec_module(module: ModuleType) -> None:
        if module.__name__ != DOMAIN:
            original(module)
            return
        try:
            original(module)
        finally:
            loader.__dict__.pop("exec_module", None)
        _register()

    loader.exec_module = exec_module


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
            _register_after(spec.loader)
        return spec


def _hypothesis_setup_hook() -> None:
    """Register the creditmgmt strategies now, or as soon as the domain is imported."""
    if DOMAIN in sys.modules:
        _register()
    elif not any(isinstance(f, _WhenDomainImported) for f in sys.meta_path):
        sys.meta_path.insert(0, _WhenDomainImported())
