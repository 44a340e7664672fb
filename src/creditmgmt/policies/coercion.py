"""Input coercion: a value given for a declared input, as the evaluator reads it.

`coerce(spec, value, block)` is the one definition of what an input accepts (its declared type,
nullability and min/max). The reference evaluator and the generated evaluators call it for
every value not already of the declared type, and the checks call it to judge declared defaults
the way evaluation will.
"""

from __future__ import annotations

import decimal
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.money import Money
from creditmgmt.domain.numbers import excerpt, parse_decimal
from creditmgmt.policies.errors import PolicyInputError
from creditmgmt.policies.messages import Text
from creditmgmt.policies.model import InputSpec


def coerce(spec: InputSpec, value: Any, block: str) -> Any:
    """`value` for input `spec` of block `block`, converted to the declared type.

    Raises:
        PolicyInputError: None for an input that is not nullable, a float, a value that is
            not of (or convertible to) the declared type, not a declared enum value, or
            outside min/max; the message names the block and the input.
    """
    # fast paths: a value already of the declared type (numbers within their bounds) is used
    # as is — the same result the conversions below give, without their cost
    kind = type(value)
    t = spec.type
    if (kind is int and t == "int") or (
        kind is Decimal and t in ("decimal", "money") and value.is_finite()
    ):
        if (spec.min is None or value >= spec.min) and (spec.max is None or value <= spec.max):
            return value
    elif (
        (kind is str and (t == "string" or (t == "enum" and value in spec.values)))
        or (kind is bool and t == "bool")
        or (kind is date and t == "date")
    ):
        return value
    where = f"block {block}: input {spec.name}"
    if value is None:
        if spec.nullable:
            return None
        reason = Text.of("note.input-missing")
        raise PolicyInputError(f"{where} {reason}", reason=reason)
    t = spec.type
    if isinstance(value, float):
        raise _refused(where, Text.of("note.input-float", value=repr(value)))
    try:
        if t == "int":
            if isinstance(value, bool):
                raise TypeError
            if isinstance(value, str):  # one written form, bounded (no `1,000`, no `١٢`)
                result: Any = int(parse_decimal(value, integer=True))
            else:
                result = int(value) if isinstance(value, int) else int(str(value).strip())
        elif t in ("decimal", "money"):
            if isinstance(value, Money):
                result = value.amount
            elif isinstance(value, bool):
                raise TypeError
            else:
                if isinstance(value, Decimal):
                    result = value
                elif isinstance(value, str):  # one written form, bounded: `1,50` is refused
                    result = parse_decimal(value, exponent=True)
                else:
                    result = Decimal(str(value).strip())
                if not result.is_finite():
                    raise TypeError
        elif t == "bool":
            if isinstance(value, bool):
                result = value
            elif isinstance(value, str) and value.strip().lower() in ("true", "false"):
                result = value.strip().lower() == "true"
            else:
                raise TypeError
        elif t == "date":
            if isinstance(value, datetime):  # a timestamp is not a business date
                raise TypeError
            result = value if isinstance(value, date) else date.fromisoformat(str(value))
        elif t == "enum":
            result = str(value.value) if hasattr(value, "value") else str(value)
            if result not in spec.values:
                raise _refused(
                    where,
                    Text.of(
                        "note.input-not-one-of", value=repr(result), values=", ".join(spec.values)
                    ),
                )
        else:
            if not isinstance(value, str):
                raise TypeError
            result = value
    except PolicyInputError:
        raise
    except InvalidValueError as e:
        invalid = Text.of(
            "note.input-invalid-detail", value=excerpt(str(value)), type=t, detail=str(e)
        )
        raise _refused(where, invalid) from None
    except (TypeError, ValueError, decimal.InvalidOperation):
        raise _refused(where, Text.of("note.input-invalid", value=repr(value), type=t)) from None
    if t in ("int", "decimal", "money"):
        if spec.min is not None and result < spec.min:
            below = Text.of("note.input-below-min", value=str(result), min=str(spec.min))
            raise _refused(where, below)
        if spec.max is not None and result > spec.max:
            above = Text.of("note.input-above-max", value=str(result), max=str(spec.max))
            raise _refused(where, above)
    return result


def _refused(where: str, reason: Text) -> PolicyInputError:
    """`where: reason`, keeping the reason as a catalogue message (a refused default shows it)."""
    return PolicyInputError(f"{where}: {reason}", reason=reason)
