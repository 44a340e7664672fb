"""Numbers written as text: one canonical form, bounded in size.

Every number the library reads from text — an amount (`Money.of("12.50", ...)`), a rate, a
number in a rule-set document, a table cell, a policy input given as text — goes through
`parse_decimal`. It accepts exactly one form:

- ASCII digits `0-9` only (no Arabic-Indic, fullwidth or other Unicode digits);
- an optional leading `+` or `-`;
- an optional fraction after a `.`, with digits on both sides (`0.5`, not `.5` or `5.`);
- `_` only *between* two digits (`1_000_000`), never a `,` or a space: `1,50` is refused
  rather than read as 150, and `1,2,3` rather than read as 123;
- where the caller allows it (rule-set documents and policy inputs, not money), an exponent
  `e`/`E` with an optional sign.

And it is bounded, so that no number can make a later step (an `int()` conversion, a
quantisation, a JSON Schema check) run for minutes: at most `MAX_DIGITS` digits, and a
magnitude (the adjusted exponent, the position of the leading digit) within
±`MAX_EXPONENT`. A refusal is `InvalidValueError` quoting at most the first
`EXCERPT` characters of the text, never all of it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Final

from creditmgmt.domain.errors import InvalidValueError

#: At most this many digits in a number's text (the digits of 10^18 with 6 decimals are 25).
MAX_DIGITS: Final = 40
#: |adjusted exponent| ≤ this: numbers from 1e-30 to 9.99…e30 in magnitude (and zero).
MAX_EXPONENT: Final = 30
#: A refusal quotes at most this many characters of the text.
EXCERPT: Final = 32

_DIGITS = r"[0-9]+(?:_[0-9]+)*"
_NUMBER: Final = re.compile(
    rf"(?P<sign>[+-]?)(?P<int>{_DIGITS})(?:\.(?P<frac>{_DIGITS}))?"
    r"(?:[eE](?P<exp>[+-]?[0-9]+))?",
    re.ASCII,
)


def excerpt(text: str) -> str:
    """`text` as quoted in an error: its first `EXCERPT` characters, marked when cut."""
    return repr(text if len(text) <= EXCERPT else text[:EXCERPT] + "…")


def parse_decimal(text: str, *, exponent: bool = False, integer: bool = False) -> Decimal:
    """The number written in `text` (surrounding white space ignored), in the canonical form
    described in the module docstring; `exponent` allows `1e5`, `integer` refuses a fraction
    and an exponent.

    Raises:
        InvalidValueError: text that is not in the canonical form, more than `MAX_DIGITS`
            digits or a magnitude beyond ±`MAX_EXPONENT`; the message quotes an excerpt.
    """
    if not isinstance(text, str):
        raise InvalidValueError(f"{text!r} is not text")
    stripped = text.strip()
    if len(stripped) > 4 * MAX_DIGITS:  # refuse before any conversion, whatever it holds
        raise InvalidValueError(f"{excerpt(stripped)} is too long for a number")
    match = _NUMBER.fullmatch(stripped)
    if (
        match is None
        or (integer and (match["frac"] is not None or match["exp"] is not None))
        or (not exponent and match["exp"] is not None)
    ):
        form = "an integer" if integer else "a number"
        raise InvalidValueError(
            f"{excerpt(stripped)} is not {form}: write ASCII digits with an optional sign"
            + ("" if integer else ", '.' before a fraction")
            + ("" if integer or not exponent else " and an optional exponent (1e5)")
            + "; no ',' or other grouping ('_' only between digits)"
        )
    digits = (match["int"] + (match["frac"] or "")).replace("_", "")
    if len(digits) > MAX_DIGITS:
        raise InvalidValueError(f"{excerpt(stripped)} has more than {MAX_DIGITS} digits")
    exp_text = match["exp"]
    if exp_text is not None and len(exp_text.lstrip("+-").lstrip("0")) > 3:
        raise InvalidValueError(f"{excerpt(stripped)}: exponent out of range")
    value = Decimal(stripped.replace("_", ""))
    if value and abs(value.adjusted()) > MAX_EXPONENT:
        raise InvalidValueError(
            f"{excerpt(stripped)} is out of range: magnitudes from 1e-{MAX_EXPONENT} "
            f"to 1e{MAX_EXPONENT}"
        )
    return value
