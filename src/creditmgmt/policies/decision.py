"""What evaluating a block returns: a `Decision` (outputs, the deciding rule ids, the rule set's
ref) and, on request, the `Trace` that explains it (inputs seen, cells matched, intermediate
values, lookups)."""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import Any

import attrs


@attrs.frozen
class Trace:
    """What a decision saw and did: inputs, matched cells, intermediate values, lookups."""

    block: str
    inputs: Mapping[str, Any]
    steps: tuple[Mapping[str, Any], ...]


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
