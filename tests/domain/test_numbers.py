"""The one canonical form of numbers read from text, and its bounds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.numbers import MAX_DIGITS, MAX_EXPONENT, parse_decimal


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", "0"),
        (" -12.50 ", "-12.50"),
        ("+7", "7"),
        ("1_000_000", "1000000"),
        ("0.000_1", "0.0001"),
        ("1" * 20 + "." + "1" * (MAX_DIGITS - 20), "1" * 20 + "." + "1" * (MAX_DIGITS - 20)),
        ("9" + "0" * MAX_EXPONENT, "9e30"),
        ("0." + "0" * (MAX_EXPONENT - 1) + "1", "1e-30"),
    ],
)
def test_the_canonical_form_is_read_exactly(text: str, value: str) -> None:
    assert parse_decimal(text) == Decimal(value)
    assert str(parse_decimal(text)) == str(Decimal(text.strip().replace("_", "")))


@pytest.mark.parametrize(
    ("text", "value"), [("1e5", "1e5"), ("2.5E-3", "0.0025"), ("1e0000000030", "1e30")]
)
def test_an_exponent_is_read_where_allowed(text: str, value: str) -> None:
    assert parse_decimal(text, exponent=True) == Decimal(value)
    with pytest.raises(InvalidValueError, match="is not a number"):
        parse_decimal(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,50", "is not a number"),
        ("1.5.0", "is not a number"),
        ("\u0661", "is not a number"),
        ("\uff11", "is not a number"),
        ("١٢", "is not a number"),
        ("1_", "is not a number"),
        ("NaN", "is not a number"),
        ("Infinity", "is not a number"),
        ("1" * (MAX_DIGITS + 1), f"more than {MAX_DIGITS} digits"),
        ("1" + "0" * (MAX_EXPONENT + 1), "out of range"),
        ("1e31", "out of range"),
        ("1e-31", "out of range"),
        ("1e1000", "exponent out of range"),
        ("1e999999999", "exponent out of range"),
        ("9" * 100_000, "too long for a number"),
    ],
)
def test_anything_else_is_refused_quoting_an_excerpt(text: str, message: str) -> None:
    with pytest.raises(InvalidValueError, match=message) as raised:
        parse_decimal(text, exponent=True)
    assert len(str(raised.value)) < 250


def test_integer_refuses_a_fraction_and_an_exponent() -> None:
    assert parse_decimal("-42", integer=True) == -42
    for text in ("4.0", "4e1"):
        with pytest.raises(InvalidValueError, match="is not an integer"):
            parse_decimal(text, exponent=True, integer=True)
