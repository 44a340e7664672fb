"""The desk's arguments of the domain's own types, checked where host code hands them over.

A desk call annotated `amount: Money`, `on: date | None` or `statement: FinancialStatement`
is called from host code that a type checker may not watch. `checked(method)` wraps a desk
method so that an argument of another type — an amount given as text, a date as a string, a
dict for a statement — is refused with `InvalidValueError` naming the call, the parameter and
what it got, before any unit of work starts, instead of failing deep inside with Python's
`AttributeError` or `TypeError` (or as a `DataError` when the store cannot encode it).

Only parameters annotated with one class (optionally `| None`) are checked, when that class
is `Money`, `date`, `datetime` or an attrs record of the domain other than an id (ids are
taken as their text too); unions with `str` (codes, `Decimal | str`) are the call's own to
convert. `DeskCore.__init_subclass__` applies it to every public method of the desk's
mixins.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, TypeVar

import attrs

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.ids import EntityId
from creditmgmt.domain.money import Money

F = TypeVar("F", bound=Callable[..., Any])

#: (parameter, the class its argument must be an instance of, whether None is allowed)
Check = tuple[str, type, bool]


def _checked_class(hint: object) -> tuple[type, bool] | None:
    """The class a parameter annotated `hint` must hold, and whether None is allowed; None
    when the annotation is not one the desk checks."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(args) < len(typing.get_args(hint))
        if len(args) != 1:
            return None
        hint = args[0]
    if not isinstance(hint, type):
        return None
    domain_record = (
        attrs.has(hint)
        and hint.__module__.startswith("creditmgmt.domain.")
        and not issubclass(hint, EntityId)  # ids: the repositories take their text too
    )
    if hint in (Money, date, datetime) or domain_record:
        return hint, optional
    return None


def checks_of(method: Callable[..., Any]) -> list[Check]:
    """The parameters of `method` whose arguments `checked` verifies."""
    hints = typing.get_type_hints(method)
    found: list[Check] = []
    for name in inspect.signature(method).parameters:
        checked = _checked_class(hints.get(name))
        if checked is not None:
            found.append((name, *checked))
    return found


def checked(method: F) -> F:
    """`method`, refusing an argument of a checked parameter that is not of its class.

    The wrapper raises `InvalidValueError` naming the call and the parameter; everything else
    is the method's own (wrong arity stays Python's `TypeError`, as for any call).
    """
    checks = checks_of(method)
    if not checks:
        return method
    signature = inspect.signature(method)

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        given = signature.bind(*args, **kwargs).arguments
        for name, cls, optional in checks:
            if name not in given:
                continue
            value = given[name]
            if (value is None and optional) or isinstance(value, cls):
                continue
            shown = repr(value)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise InvalidValueError(
                f"{method.__name__}: {name} must be a {cls.__name__}"
                f"{' or None' if optional else ''}, got {type(value).__name__} {shown}"
            )
        return method(*args, **kwargs)

    return typing.cast(F, call)


__all__ = ["checked", "checks_of"]
