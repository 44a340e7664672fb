"""Reading rule-set text (YAML, and JSON as its subset) into nodes that remember positions.

This is the only module of the core that imports PyYAML, and it uses the safe composer only:
no Python objects, and no tag but the core ones YAML gives untagged values — any other tag on
a scalar, a mapping or a list is a `PolicyLoadError` at its line. Numbers keep their written
text, so `0.20` becomes `Decimal("0.20")`, never a float; they are read in the one canonical
form of `creditmgmt.domain.numbers` and within its bounds (YAML 1.1's hex, octal, binary and
sexagesimal forms, `.inf`, `.nan` and `1e999999999` are refused before any conversion).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import yaml

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.numbers import excerpt, parse_decimal
from creditmgmt.policies.base import SourceLocation
from creditmgmt.policies.errors import PolicyLoadError


@attrs.frozen
class Node:
    """A parsed value with its position: `value` is a dict[str, Node], list[Node] or scalar."""

    value: Any
    loc: SourceLocation

    def plain(self) -> Any:
        """The value with positions stripped (dicts, lists, scalars)."""
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value


def _loc(node: yaml.Node, name: str) -> SourceLocation:
    mark = node.start_mark
    return SourceLocation(name, mark.line + 1, mark.column + 1)


_RESOLVER = yaml.resolver.Resolver()
#: The only tags a mapping or a sequence may carry (the ones YAML resolves untagged ones to).
_COLLECTIONS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+")
_JSON_EXPONENT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?[eE][+-]?[0-9]+")


def _scalar(node: yaml.ScalarNode, name: str) -> Any:
    tag = node.tag
    text = node.value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return text.lower() in ("true", "yes", "on")
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        if tag == "tag:yaml.org,2002:int" and _LEADING_ZERO.fullmatch(text):
            raise PolicyLoadError(
                f"{excerpt(text)}: a leading 0 reads as octal in YAML 1.1; "
                "write the number without it, or quote the text",
                _loc(node, name),
            )
        value = _number(text, node, name)
        if tag == "tag:yaml.org,2002:int":
            return int(value)  # bounded: at most MAX_DIGITS digits
        return value
    if tag == "tag:yaml.org,2002:timestamp":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise PolicyLoadError(
                f"{text!r}: only dates (YYYY-MM-DD) are allowed", _loc(node, name)
            ) from None
    if tag == "tag:yaml.org,2002:str":
        if not node.style and _JSON_EXPONENT.fullmatch(text):  # plain: None, or "" from libyaml
            # YAML 1.1 reads a plain 1e5 or 2.5E3 as text; JSON (and YAML 1.2) as a number
            return _number(text, node, name)
        return text
    raise PolicyLoadError(f"tag {tag!r} is not allowed in a rule set", _loc(node, name))


def _number(text: str, node: yaml.ScalarNode, name: str) -> Decimal:
    """A number of the document, in the canonical form and within the bounds of
    `creditmgmt.domain.numbers` (YAML 1.1 hex, octal, binary, sexagesimal `190:20:30`, `.inf`
    and `.nan` are refused, and so is `1e999999999`: nothing later converts a huge number)."""
    try:
        return parse_decimal(text, exponent=True)
    except InvalidValueError as e:
        raise PolicyLoadError(f"number {e}", _loc(node, name)) from None


def _convert(node: yaml.Node, name: str, depth: int = 0) -> Node:
    if depth > 64:
        raise PolicyLoadError("nesting deeper than 64 levels", _loc(node, name))
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _COLLECTIONS:
        # `!!python/object/new:...`, `!!set`, `!custom` on a mapping or a list: refused, never
        # read as if the tag were not there
        raise PolicyLoadError(f"tag {node.tag!r} is not allowed in a rule set", _loc(node, name))
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, name) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | bool):
                raise PolicyLoadError("mapping keys must be plain text", _loc(key_node, name))
            key = str(key).lower() if isinstance(key, bool) else str(key)
            if key in out:
                raise PolicyLoadError(f"duplicate key {key!r}", _loc(key_node, name))
            out[key] = _convert(value_node, name, depth + 1)
        return Node(out, _loc(node, name))
    if isinstance(node, yaml.SequenceNode):
        return Node([_convert(v, name, depth + 1) for v in node.value], _loc(node, name))
    if isinstance(node, yaml.ScalarNode):
        return Node(_scalar(node, name), _loc(node, name))
    raise PolicyLoadError("aliases and other YAML features are not allowed", _loc(node, name))


def parse(text: str, name: str) -> Node:
    """Parse YAML or JSON text into a `Node` tree.

    Raises:
        PolicyLoadError: syntax errors and forbidden features, with file:line:column.
    """
    try:
        # the libyaml composer when PyYAML has it (same safe resolver, same marks, ~20x faster
        # on large tables), else the pure-Python one
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        loc = SourceLocation(name, mark.line + 1, mark.column + 1) if mark else None
        raise PolicyLoadError(f"syntax error: {e.problem or e}", loc) from None
    except yaml.YAMLError as e:
        raise PolicyLoadError(f"{name}: syntax error: {e}") from None
    if root is None:
        raise PolicyLoadError(f"{name}: the document is empty")
    if _has_alias(root):
        raise PolicyLoadError("anchors and aliases are not allowed", _loc(root, name))
    return _convert(root, name)


def _has_alias(node: yaml.Node, seen: set[int] | None = None) -> bool:
    seen = seen if seen is not None else set()
    if id(node) in seen:
        return True
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        return any(_has_alias(k, seen) or _has_alias(v, seen) for k, v in node.value)
    if isinstance(node, yaml.SequenceNode):
        return any(_has_alias(v, seen) for v in node.value)
    return False
