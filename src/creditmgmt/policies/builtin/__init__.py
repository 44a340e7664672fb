"""The rule sets shipped with the package, as data (`<name>.yaml` next to this module).

    from creditmgmt.policies import builtin_ruleset
    rules = builtin_ruleset("cn-2023")
    rules.evaluate("classification", {"dpd": 91}).outputs["category"]   # "substandard"

`cn-2023` implements the PRC rules of DOMAIN.md (classification, provisioning, IFRS 9,
concentration, collections, early warning, master scale, approval authority, review
frequency, limit); `basel-lex` is the Basel large-exposures alternative for `concentration`.
The files are read with `importlib.resources`, so they load from a wheel or a zip as well as
from a checkout. A copy of a file, edited, loads with `load_ruleset(path)`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from creditmgmt.policies.errors import PolicyError
from creditmgmt.policies.ruleset import RuleSet, load_ruleset

_SUFFIX = ".yaml"


class UnknownRuleSetError(PolicyError):
    """No built-in rule set has the requested name; the message lists the available ones."""

    default_message = "no such built-in rule set"


def _directory() -> Traversable:
    return resources.files(__name__)


def builtin_names() -> tuple[str, ...]:
    """Names of the shipped rule sets, sorted (e.g. `("basel-lex", "cn-2023")`)."""
    return tuple(
        sorted(
            entry.name.removesuffix(_SUFFIX)
            for entry in _directory().iterdir()
            if entry.is_file() and entry.name.endswith(_SUFFIX)
        )
    )


@cache
def builtin_ruleset(name: str) -> RuleSet:
    """The shipped rule set `name`, loaded, checked and compiled once per process.

    The same object is returned on every call with the same name; it is safe to share
    (evaluation keeps no state). The shipped files are `approved`, so they pass through
    the same gate as any approved document: `load_ruleset` runs `check()` and refuses
    error findings (loading, checking and compiling cn-2023 takes under 0.1 s, once).

    Raises:
        UnknownRuleSetError: `name` is not one of `builtin_names()` (the message lists them).
        PolicyLoadError, PolicyCheckError: the shipped file is broken — a packaging bug the
            test suite guards against.
    """
    names = builtin_names()
    if name not in names:
        raise UnknownRuleSetError(
            f"no built-in rule set {name!r}; available: {', '.join(names) or '(none)'}"
        )
    text = _directory().joinpath(name + _SUFFIX).read_text(encoding="utf-8")
    return load_ruleset(text, source_name=f"creditmgmt/policies/builtin/{name}{_SUFFIX}")


__all__ = ["UnknownRuleSetError", "builtin_names", "builtin_ruleset"]
