"""Typed values read from a document's nodes; every error names the node's location."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.numbers import excerpt, parse_decimal
from creditmgmt.policies import model as m
from creditmgmt.policies.base import SourceLocation
from creditmgmt.policies.errors import PolicyLoadError
from creditmgmt.policies.yaml_source import Node


def get(node: Node, key: str, *, required: bool = True) -> Node | None:
    """The value node under `key` of a mapping node (None when absent and not required)."""
    if not isinstance(node.value, dict):
        raise PolicyLoadError("expected a mapping", node.loc)
    found = node.value.get(key)
    if found is None and required:
        raise PolicyLoadError(f"missing required field {key!r}", node.loc)
    return found


def text(node: Node | None, what: str) -> str:
    """The node's text; `what` names the field in the error."""
    if node is None or not isinstance(node.value, str):
        raise PolicyLoadError(f"{what} must be text", node.loc if node else None)
    return node.value


def number(node: Node | None, what: str) -> Decimal:
    """The node's number as a Decimal; `what` names the field in the error."""
    if node is None or isinstance(node.value, bool) or not isinstance(node.value, int | Decimal):
        raise PolicyLoadError(f"{what} must be a number", node.loc if node else None)
    return Decimal(node.value)


def items(node: Node | None, what: str) -> list[Node]:
    """The node's list items; `what` names the field in the error."""
    if node is None or not isinstance(node.value, list):
        raise PolicyLoadError(f"{what} must be a list", node.loc if node else None)
    return node.value


def input_spec(name: str, node: Node) -> m.InputSpec:
    """A declared input (`inputs.<name>`)."""
    g = get
    type_ = text(g(node, "type"), f"inputs.{name}.type")
    if type_ not in m.INPUT_TYPES:
        raise PolicyLoadError(
            f"input {name}: type {type_!r} is not one of {', '.join(m.INPUT_TYPES)}", node.loc
        )
    values: tuple[str, ...] = ()
    if type_ == "enum":
        vals = items(g(node, "values"), f"inputs.{name}.values")
        for v in vals:
            if isinstance(v.value, bool):  # YAML reads bare yes/no/on/off as booleans
                raise PolicyLoadError(
                    f"input {name}: enum value {v.value!r} is a boolean; quote it", v.loc
                )
        values = tuple(str(v.value) for v in vals)
        if len(set(values)) != len(values) or not values:
            raise PolicyLoadError(f"input {name}: enum values must be distinct", node.loc)
    lo, hi = g(node, "min", required=False), g(node, "max", required=False)
    default_node = g(node, "default", required=False)
    has_default = isinstance(node.value, dict) and "default" in node.value
    nullable_node = g(node, "nullable", required=False)
    return m.InputSpec(
        name=name,
        type=type_,
        loc=node.loc,
        nullable=bool(nullable_node.value) if nullable_node else False,
        values=values,
        min=number(lo, f"inputs.{name}.min") if lo else None,
        max=number(hi, f"inputs.{name}.max") if hi else None,
        default=None if default_node is None else default_node.value,
        has_default=has_default,
    )


def output_specs(node: Node | None) -> tuple[m.OutputSpec, ...]:
    """A block's declared outputs (`outputs: {name: {type: ...}}`)."""
    if node is None:
        return ()
    if not isinstance(node.value, dict):
        raise PolicyLoadError("outputs must be a mapping of name to {type: ...}", node.loc)
    out = []
    for name, spec in node.value.items():
        type_ = text(get(spec, "type"), f"outputs.{name}.type")
        if type_ not in m.OUTPUT_TYPES:
            raise PolicyLoadError(
                f"output {name}: type {type_!r} is not one of {', '.join(m.OUTPUT_TYPES)}",
                spec.loc,
            )
        values: tuple[Any, ...] = ()
        if type_ == "enum":
            values = tuple(v.value for v in items(get(spec, "values"), "values"))
        out.append(m.OutputSpec(name, type_, spec.loc, values))
    return tuple(out)


def date_value(node: Node | None, what: str) -> date | None:
    """A date written in YAML (a date) or JSON (ISO text); None stays None."""
    if node is None or node.value is None:
        return None
    if isinstance(node.value, date):
        return node.value
    if isinstance(node.value, str):
        try:
            return date.fromisoformat(node.value)
        except ValueError:
            pass
    raise PolicyLoadError(f"{what} must be a date YYYY-MM-DD, got {node.value!r}", node.loc)


def step_value(node: Node, spec: m.InputSpec) -> Any:
    """Where a threshold-ladder step starts, as a value of its input."""
    if spec.type == "enum":
        if node.value not in spec.values:
            raise PolicyLoadError(f"{node.value!r} is not a value of {spec.name}", node.loc)
        return node.value
    if spec.type == "date":
        return date_value(node, "a step of a date input")
    return number(node, "step")


def csv_value(text: str) -> Any:
    """A CSV cell as the text of a rule's cell."""
    return text.strip()


def csv_output(text: str, spec: m.OutputSpec, loc: SourceLocation) -> Any:
    """A CSV cell as a value of output `spec`."""
    text = text.strip()
    if spec.type == "bool":
        if text.lower() not in ("true", "false"):
            raise PolicyLoadError(f"output {spec.name}: {excerpt(text)} is not true or false", loc)
        return text.lower() == "true"
    try:
        if spec.type == "int":
            return int(parse_decimal(text, integer=True))
        if spec.type == "decimal":
            return parse_decimal(text, exponent=True)
    except InvalidValueError as e:
        raise PolicyLoadError(f"output {spec.name}: {e}", loc) from None
    return text
