"""Rule decisions the desk keeps: the block, its exact inputs and outputs, the rule set.

Every decision a call takes is evaluated through `decide`, which records it on the call, so
the audit entry holds what is needed to replay it (`replay`): the same rule set version and
the same inputs give the same outputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

import attrs

from creditmgmt.domain.ids import EntityId
from creditmgmt.domain.money import Money
from creditmgmt.policies.ruleset import Decision, RuleSet
from creditmgmt.services.core import Call


def plain(value: object) -> Any:
    """A JSON-safe, exact form of a rule input or output (Decimal and Money as strings)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, EntityId):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def block_inputs(rules: RuleSet, block: str) -> tuple[str, ...]:
    """The input names a block reads."""
    found = rules.blocks[block]
    names = getattr(found, "inputs", None)
    if names:
        return tuple(names)
    single = getattr(found, "input", None)
    if isinstance(single, str):
        return (single,)
    axes = [getattr(found, axis, None) for axis in ("rows", "columns")]
    return tuple(a.input for a in axes if a is not None and hasattr(a, "input"))


def decide(call: Call, rules: RuleSet, block: str, inputs: Mapping[str, object]) -> Decision:
    """Evaluate `block` and keep (block, inputs, outputs) on the call's audit record.

    Raises:
        PolicyInputError, PolicyEvaluationError: from the rule set (named block and input).
    """
    decision = rules.evaluate(block, dict(inputs))
    kept = call.detail.setdefault("decisions", [])
    kept.append(
        {
            "block": block,
            "inputs": plain(dict(inputs)),
            "outputs": plain(dict(decision.outputs)),
            "matched": list(decision.matched),
        }
    )
    call.decided(decision.ruleset_ref)
    return decision


@attrs.frozen
class ReplayedDecision:
    block: str
    inputs: Mapping[str, Any]
    stored: Mapping[str, Any]
    replayed: Mapping[str, Any]

    @property
    def same(self) -> bool:
        return dict(self.stored) == dict(self.replayed)


@attrs.frozen
class Replay:
    """A stored decision evaluated again under its own rule set version."""

    decision_id: str
    ruleset_ref: str
    decisions: tuple[ReplayedDecision, ...]

    @property
    def same(self) -> bool:
        return all(d.same for d in self.decisions)


def kept_decisions(detail: str) -> list[dict[str, Any]]:
    """The decisions an audit entry's detail keeps (none when it holds no JSON object)."""
    try:
        stored = json.loads(detail) if detail else {}
    except ValueError:
        return []
    found = stored.get("decisions", []) if isinstance(stored, dict) else []
    return found if isinstance(found, list) else []


def replay_decisions(
    decision_id: str, ruleset_ref: str, decisions: list[dict[str, Any]], rules: RuleSet
) -> Replay:
    """Evaluate kept decisions again under `rules`."""
    replayed = [
        ReplayedDecision(
            d["block"],
            d["inputs"],
            d["outputs"],
            plain(rules.evaluate(d["block"], d["inputs"]).outputs),
        )
        for d in decisions
    ]
    return Replay(decision_id, ruleset_ref, tuple(replayed))
