"""What evaluating a block returns: a `Decision` (outputs, the deciding rule ids, the rule set's
ref) and, on request, the `Trace` that explains it (inputs seen, cells matched, intermediate
values, lookups)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from operator import attrgetter
from types import MappingProxyType
from typing import Any

import attrs

from creditmgmt.domain.labels import format_amount

#: trace keys whose values are the policy's own identifiers (never translated or formatted)
IDENTIFIER_KEYS = frozenset({"rule", "trigger", "block", "lookup", "line", "bin", "matched"})
#: the mark after the step of the row that decided under hit policy PRIORITY
DECIDES = "<- decides"


def _plain(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal) and key not in IDENTIFIER_KEYS:
        return format_amount(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_plain(str(k), v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "|".join(_plain(key, v) for v in value) if value else "[]"
    return "null" if value is None else str(value)


@attrs.frozen
class Trace:
    """What a decision saw and did: inputs, matched cells, intermediate values, lookups.

    A step is a mapping: a table row that matched (`rule`, `cells`, `line`; under hit policy
    PRIORITY the row that decided also has `decides: True`), a scorecard bin, a grade, a
    ladder step, a matrix cell, a `let` or `output` value, a fired trigger, or a `lookup`
    with its own `steps`. `str(trace)` (and `lines()`) render it as numbered lines.
    """

    block: str
    inputs: Mapping[str, Any]
    steps: tuple[Mapping[str, Any], ...]

    def lines(
        self,
        show: Callable[[str, Any], str] | None = None,
        mark: str = DECIDES,
    ) -> list[tuple[str, str]]:
        """The steps as (number, text): `key=value, ...` per step, a lookup's own steps
        numbered under it (2.1, 2.2 ...), the row that decided under PRIORITY followed by
        `mark`. `show(key, value)` renders a value (default: booleans lower case, decimals
        as amounts — `33,000,000.00`, never `33000000.0` — lists joined by `|`)."""
        return _lines(self.steps, show or _plain, mark, "")

    def __str__(self) -> str:
        return "\n".join(f"{n}. {text}" for n, text in self.lines())


def _lines(
    steps: Sequence[Mapping[str, Any]], show: Callable[[str, Any], str], mark: str, prefix: str
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for i, step in enumerate(steps, 1):
        number = f"{prefix}{i}"
        inner = step.get("steps") if "lookup" in step else None
        shown = ", ".join(
            f"{k}={show(k, v)}"
            for k, v in step.items()
            if not (k == "steps" and inner is not None) and k != "decides"
        )
        out.append((number, f"{shown} {mark}" if step.get("decides") else shown))
        if inner:
            out.extend(_lines(inner, show, mark, f"{number}."))
    return out


class Decision:
    """The result of evaluating one block: `block`, `outputs` (a read-only mapping),
    `matched` (the deciding rule ids), `ruleset_ref` and `trace` (None unless requested).

    Immutable: the attributes cannot be set and `outputs` cannot be changed (take
    `dict(decision.outputs)` for a copy to edit). Decisions of constant table rows are built
    once and shared, which is why nothing about them may change. `decision[name]` is
    `decision.outputs[name]` (raises KeyError for an unknown output).
    """

    __slots__ = ("_block", "_matched", "_outputs", "_ruleset_ref", "_trace")

    def __init__(
        self,
        block: str,
        outputs: Mapping[str, Any],
        matched: tuple[str, ...],
        ruleset_ref: str,
        trace: Trace | None = None,
    ) -> None:
        self._block = block
        self._outputs = _frozen(outputs)
        self._matched = matched
        self._ruleset_ref = ruleset_ref
        self._trace = trace

    # read-only views of the slots (a C-level getter: nearly as cheap as a plain slot)
    block: str = property(attrgetter("_block"))  # type: ignore[assignment]
    outputs: Mapping[str, Any] = property(attrgetter("_outputs"))  # type: ignore[assignment]
    matched: tuple[str, ...] = property(attrgetter("_matched"))  # type: ignore[assignment]
    ruleset_ref: str = property(attrgetter("_ruleset_ref"))  # type: ignore[assignment]
    trace: Trace | None = property(attrgetter("_trace"))  # type: ignore[assignment]

    def __getitem__(self, name: str) -> Any:
        return self._outputs[name]

    def _fields(self) -> tuple[Any, ...]:
        return (self._block, self._outputs, self._matched, self._ruleset_ref, self._trace)

    def __eq__(self, other: object) -> bool:
        if type(other) is not Decision:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # outputs is a mapping, as before

    def __repr__(self) -> str:
        return (
            f"Decision(block={self._block!r}, outputs={dict(self._outputs)!r}, "
            f"matched={self._matched!r}, ruleset_ref={self._ruleset_ref!r}, "
            f"trace={self._trace!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy: the outputs travel as a plain dict and are frozen again
        return (
            Decision,
            (self._block, dict(self._outputs), self._matched, self._ruleset_ref, self._trace),
        )


def _frozen(outputs: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a private copy of `outputs`."""
    return MappingProxyType(dict(outputs))
