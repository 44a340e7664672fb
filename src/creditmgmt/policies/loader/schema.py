"""A document's schema and identity: the published JSON Schema it must follow, and the
content hash (sha256 of its canonical form) that names the exact text."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from creditmgmt.policies.errors import PolicyLoadError
from creditmgmt.policies.yaml_source import Node


@cache
def json_schema() -> dict[str, Any]:
    """The published JSON Schema of rule-set documents (shipped with the package)."""
    text = resources.files("creditmgmt.policies").joinpath("schema/ruleset.schema.json")
    schema: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return schema


def schema_check(root: Node) -> None:
    """Validate the document against the published JSON Schema.

    Raises:
        PolicyLoadError: at the node of the first violation, saying what was expected.
    """
    validator = jsonschema.Draft202012Validator(json_schema())
    errors = sorted(
        validator.iter_errors(_leaves(root.plain(), _jsonable)), key=lambda e: list(e.path)
    )
    if not errors:
        return
    error = min(errors, key=lambda e: (len(e.path), list(map(str, e.path))))
    node = root
    for part in error.absolute_path:
        child = node.value[part] if isinstance(node.value, dict | list) else None
        if not isinstance(child, Node):
            break
        node = child
    where = "/".join(str(p) for p in error.absolute_path) or "document"
    message = error.message
    if error.validator == "additionalProperties" and isinstance(error.schema, dict):
        allowed = sorted(error.schema.get("properties", {}))
        if allowed:
            message += f"; expected only {', '.join(allowed)}"
    raise PolicyLoadError(f"{where}: {message}", node.loc)


def _leaves(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """`value` (plain dicts and lists) with `leaf` applied to every value that is neither."""
    if isinstance(value, dict):
        return {k: _leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v, leaf) for v in value]
    return leaf(value)


def _jsonable(value: Any) -> Any:
    """Decimals as JSON numbers and dates as ISO text, for the JSON Schema validator."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value.isoformat() if isinstance(value, date) else value


def _canonical(value: Any) -> Any:
    """Decimals normalised (tagged, so `1.0` and `1` hash alike and apart from text), dates as
    ISO text."""
    if isinstance(value, Decimal):
        return {"$decimal": str(value.normalize())}
    return value.isoformat() if isinstance(value, date) else value


def canonical_hash(root: Node, attachments: dict[str, Any] | None = None) -> str:
    """sha256 of the canonical form: keys sorted, decimals normalised, dates as ISO text
    (YAML dates and JSON strings agree), no whitespace or comments; `attachments` (imported
    CSV tables, by file name) are part of the content."""
    content = _leaves(root.plain(), _canonical)
    if attachments:
        content = {"document": content, "attachments": _leaves(attachments, _canonical)}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
