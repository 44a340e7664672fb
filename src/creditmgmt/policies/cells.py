"""Cells: the unary tests written in decision tables, bins and matrix headers.

    -              any value
    missing        the input is absent (None)
    < x  <= x  > x  >= x  = x   comparisons; a bare literal means "= literal"
    [a..b] [a..b) (a..b] (a..b)  intervals; open ends: [a..)  (..b]
    "A", "B"       an enumeration (strings quoted); a bare word is one value
    not(...)       negation of any of the above

A comma list is only an enumeration of quoted strings. A numeric comma list such as
`">= 30, < 50"` or `1, 2` is rejected: another engine reads it as OR, a trap for reviewers;
write an interval (`[30..50)`) or separate rows.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.numbers import parse_decimal
from creditmgmt.policies.base import SourceLocation
from creditmgmt.policies.errors import PolicyLoadError

Scalar = Decimal | int | bool | str | date

_CMP = re.compile(r"^(<=|>=|<|>|=)\s*(.+)$")
# Bounds may hold decimal points ([0.5..1.5)), so split on the one ".." rather than on "."
_INTERVAL = re.compile(r"^([\[(])(.*)([\])])$")
_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"$')


@attrs.frozen
class Cell:
    """A parsed unary test. `kind` is any, missing, range, set or not."""

    kind: str
    text: str
    low: Scalar | None = None
    high: Scalar | None = None
    low_closed: bool = True
    high_closed: bool = True
    values: tuple[Scalar, ...] = ()
    inner: Cell | None = None

    def matches(self, value: Any) -> bool:
        if self.kind == "any":
            return True
        if self.kind == "missing":
            return value is None
        if self.kind == "not":
            assert self.inner is not None
            return value is not None and not self.inner.matches(value)
        if value is None:
            return False
        if self.kind == "set":
            return value in self.values
        low, high = self.low, self.high
        try:
            if low is not None and (value < low or (value == low and not self.low_closed)):
                return False
            if high is not None and (value > high or (value == high and not self.high_closed)):
                return False
        except TypeError:
            return False
        return True

    @property
    def is_point(self) -> bool:
        return self.kind == "range" and self.low is not None and self.low == self.high

    def describe(self) -> str:
        return self.text


ANY = Cell("any", "-")


def _literal(text: str, input_type: str, loc: SourceLocation | None) -> Scalar:
    text = text.strip()
    quoted = _QUOTED.match(text)
    if quoted:
        return quoted.group(1).replace('\\"', '"')
    if input_type in ("int", "decimal", "money"):
        try:
            # one form only: `1,5` is refused, never read as 15 (nor `[1,5..20]` as [15..20])
            return parse_decimal(text, exponent=True)
        except InvalidValueError as e:
            raise PolicyLoadError(str(e), loc) from None
    if input_type == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise PolicyLoadError(f"{text!r} is not a date (YYYY-MM-DD)", loc) from None
    if input_type == "bool":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise PolicyLoadError(f"{text!r} is not true or false", loc)
    return text


def parse_cell(raw: Any, input_type: str, loc: SourceLocation | None = None) -> Cell:
    """Parse a cell written for an input of `input_type`.

    Raises:
        PolicyLoadError: malformed cells, numeric comma lists (the message says why) and
            quoted text written for a number, date or boolean input (it could never match).
    """
    cell = _parse_cell(raw, input_type, loc)
    tested = cell.inner if cell.kind == "not" and cell.inner is not None else cell
    if input_type in ("int", "decimal", "money", "date", "bool") and any(
        isinstance(v, str) for v in tested.values
    ):
        raise PolicyLoadError(
            f"{cell.text!r} lists text but the input is {input_type}; it could never match",
            loc,
        )
    return cell


def _parse_cell(raw: Any, input_type: str, loc: SourceLocation | None) -> Cell:
    if isinstance(raw, bool):
        if input_type != "bool":
            # YAML reads bare yes/no/true/false as booleans; 1 == True would then match
            raise PolicyLoadError(
                f"{str(raw).lower()} is a boolean but the input is {input_type}; "
                "if you mean the word, quote it",
                loc,
            )
        return Cell("set", str(raw).lower(), values=(raw,))
    if isinstance(raw, int | Decimal):
        if input_type in ("enum", "string"):
            # a bare 1 written for a text input names the text "1", not a number
            return Cell("set", str(raw), values=(str(raw),))
        number = Decimal(raw)
        return Cell("range", str(raw), low=number, high=number)
    if isinstance(raw, date):
        return Cell("range", raw.isoformat(), low=raw, high=raw)
    if not isinstance(raw, str):
        raise PolicyLoadError(f"a cell must be text or a scalar, got {raw!r}", loc)
    text = raw.strip()
    if text in ("-", ""):
        return ANY
    if text == "missing":
        return Cell("missing", text)
    if text.startswith("not(") and text.endswith(")"):
        inner = _parse_cell(text[4:-1], input_type, loc)
        if inner.kind in ("any", "not"):
            raise PolicyLoadError(f"not({inner.text}) is not a meaningful test", loc)
        return Cell("not", text, inner=inner)
    interval = _INTERVAL.match(text)
    if interval and ".." in text:
        lo_br, body, hi_br = interval.groups()
        if body.count("..") != 1 or "..." in body:
            raise PolicyLoadError(
                f"{text!r} is not an interval: write [a..b), (a..b], [a..) or (..b] "
                "with exactly one '..'",
                loc,
            )
        lo, hi = (part.strip() for part in body.split(".."))
        low = _literal(lo, input_type, loc) if lo else None
        high = _literal(hi, input_type, loc) if hi else None
        for bound in (low, high):
            if isinstance(bound, str | bool):
                raise PolicyLoadError(
                    f"interval {text}: bounds must be numbers or dates, got {bound!r}", loc
                )
        if (
            low is not None
            and high is not None
            and (low > high or (low == high and (lo_br, hi_br) != ("[", "]")))  # type: ignore[operator]
        ):
            raise PolicyLoadError(f"interval {text} is empty", loc)
        return Cell(
            "range",
            text,
            low=low,
            high=high,
            low_closed=lo_br == "[" and low is not None,
            high_closed=hi_br == "]" and high is not None,
        )
    cmp = _CMP.match(text)
    if cmp and "," not in text:
        op, rest = cmp.groups()
        value = _literal(rest, input_type, loc)
        if op == "=":
            if isinstance(value, str):
                return Cell("set", text, values=(value,))
            return Cell("range", text, low=value, high=value)
        if isinstance(value, str | bool):
            raise PolicyLoadError(f"{op} needs a number or a date, got {rest!r}", loc)
        if op == "<":
            return Cell("range", text, high=value, high_closed=False)
        if op == "<=":
            return Cell("range", text, high=value)
        if op == ">":
            return Cell("range", text, low=value, low_closed=False)
        return Cell("range", text, low=value)
    if "," in text:
        parts = [p.strip() for p in _split_commas(text)]
        if all(_QUOTED.match(p) for p in parts):
            return Cell("set", text, values=tuple(_literal(p, "string", loc) for p in parts))
        raise PolicyLoadError(
            f"{text!r}: a comma list is only an enumeration of quoted strings "
            '(e.g. "A", "B"). Numeric or comparison lists are rejected because other '
            "engines read them as OR; write an interval like [30..50) or separate rows",
            loc,
        )
    try:
        value = _literal(text, input_type, None)
    except PolicyLoadError as e:
        raise PolicyLoadError(
            f"{e}; a cell is one of "
            '-, missing, < x, <= x, > x, >= x, = x, [a..b), (a..b], "A", "B" or not(...)',
            loc,
        ) from None
    if isinstance(value, str | bool):
        return Cell("set", text, values=(value,))
    return Cell("range", text, low=value, high=value)


def _split_commas(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts
