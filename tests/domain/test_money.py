from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain import CurrencyMismatchError, InvalidMoneyError, Money, Rate
from creditmgmt.domain.errors import CreditMgmtError, InvalidValueError
from creditmgmt.domain.money import (
    MAX_AMOUNT,
    MINOR_UNITS,
    MONEY_CONTEXT,
    ZERO,
    D,
    Percentage,
    _money_of_known,
    check_positive,
    money_of_decimal,
    quantize,
)


def M(text: str) -> Money:
    return Money.parse(text)


def test_quantize_rounds_half_even_to_the_minor_unit() -> None:
    assert quantize(Decimal("1.005"), "CNY") == Decimal("1.00")
    assert quantize(Decimal("1.015"), "CNY") == Decimal("1.02")
    assert quantize(Decimal("2.5"), "JPY") == Decimal("2")
    assert quantize(Decimal("3.5"), "JPY") == Decimal("4")
    assert quantize(Decimal("1.0005"), "BHD") == Decimal("1.000")
    assert (M("1.00 CNY") * Decimal("1.005")).amount == Decimal("1.00")  # arithmetic rounds


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("1.005", "CNY"), ("1.015", "CNY"), ("2.5", "JPY"), ("1.0005", "BHD"), ("0.001", "USD")],
)
def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded(
    amount: str, currency: str
) -> None:
    with pytest.raises(InvalidMoneyError, match=rf"'{re.escape(amount)}' {currency}: more"):
        Money.of(amount, currency)
    with pytest.raises(InvalidMoneyError, match=rf"'{re.escape(amount)}' {currency}: more"):
        Money.of(Decimal(amount), currency)
    with pytest.raises(InvalidMoneyError, match="more decimals"):
        Money.parse(f"{amount} {currency}")


def test_trailing_zeros_within_the_value_are_not_extra_precision() -> None:
    assert Money.of("1.000", "CNY") == M("1.00 CNY")
    assert Money.of(Decimal("100.0000"), "JPY").amount == Decimal("100")


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(InvalidMoneyError, match="float"):
        Money.of(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidMoneyError):
        Money(1.5, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidMoneyError, match="float"):
        M("1.00 CNY") * 1.5  # type: ignore[operator]
    with pytest.raises(InvalidMoneyError):
        Rate.of(0.1)  # type: ignore[arg-type]


def test_unknown_currency_and_garbage_are_named() -> None:
    with pytest.raises(InvalidMoneyError, match="'XXX'"):
        Money.of("1", "XXX")
    with pytest.raises(InvalidMoneyError, match="'abc'"):
        Money.of("abc", "CNY")
    with pytest.raises(InvalidMoneyError, match="'NaN' is not a number"):
        Money.of("NaN", "CNY")
    with pytest.raises(InvalidMoneyError, match="finite"):
        Money.of(Decimal("NaN"), "CNY")
    with pytest.raises(InvalidMoneyError):
        M("1000.00")


def test_mixed_currencies_raise() -> None:
    with pytest.raises(CurrencyMismatchError, match=r"CNY.*USD"):
        M("1.00 CNY") + M("1.00 USD")
    with pytest.raises(CurrencyMismatchError):
        _ = M("1.00 CNY") < M("1.00 USD")


def test_arithmetic_and_rates() -> None:
    assert M("100.00 CNY") * Rate.percent("2.5") == M("2.50 CNY")
    assert M("100.00 CNY") / 3 == M("33.33 CNY")
    assert M("10.00 CNY") - M("12.50 CNY") == M("-2.50 CNY")
    assert M("1,000.00 CNY").ratio_to(M("4000 CNY")) == Decimal("0.25")
    assert Percentage.of("25").rate == Rate.of("0.25")
    assert M("100 USD").convert("CNY", Decimal("7.1234")) == M("712.34 CNY")


def test_format_for_display() -> None:
    assert M("1234567.89 CNY").format() == "¥1,234,567.89"
    assert M("-5 USD").format() == "-$5.00"
    assert M("5 BHD").format() == "5.000 BHD"


def test_very_large_amounts_keep_every_cent() -> None:
    big = M("999999999999999.99 CNY")
    assert (big + M("0.01 CNY")).amount == Decimal("1000000000000000.00")


amounts = st.decimals(
    min_value=Decimal("-1e15"), max_value=Decimal("1e15"), places=2, allow_nan=False
)


@given(amounts, amounts, amounts)
def test_addition_is_associative_within_a_currency(a: Decimal, b: Decimal, c: Decimal) -> None:
    x, y, z = (Money(v, "CNY") for v in (a, b, c))
    assert (x + y) + z == x + (y + z)


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15))
def test_quantisation_is_idempotent(value: Decimal) -> None:
    once = quantize(value, "CNY")
    assert quantize(once, "CNY") == once
    assert Money(value, "CNY") == Money(once, "CNY")


@given(
    amounts.filter(lambda a: a >= 0),
    st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=8).filter(any),
)
def test_allocation_sums_exactly(total: Decimal, weights: list[int]) -> None:
    parts = Money(total, "CNY").allocate(weights)
    assert Money.sum(parts, "CNY") == Money(total, "CNY")
    assert all(p.amount >= 0 for p in parts)


def test_d_refuses_bool() -> None:
    with pytest.raises(InvalidMoneyError):
        D(True)


def test_every_way_in_refuses_a_float_with_a_clear_message() -> None:
    cny = M("10.00 CNY")
    attempts: list[Callable[[], object]] = [
        lambda: Money.of(0.1, "CNY"),  # type: ignore[arg-type]
        lambda: Money(0.1, "CNY"),  # type: ignore[arg-type]
        lambda: cny * 0.5,  # type: ignore[operator]
        lambda: 0.5 * cny,  # type: ignore[operator]
        lambda: cny / 2.0,  # type: ignore[operator]
        lambda: cny.convert("USD", 0.14),  # type: ignore[arg-type]
        lambda: cny.allocate([0.5, 0.5]),  # type: ignore[list-item]
        lambda: Rate.of(0.0435),  # type: ignore[arg-type]
        lambda: Rate(0.0435),  # type: ignore[arg-type]
        lambda: Percentage.of(4.35),  # type: ignore[arg-type]
        lambda: D(1.0),  # type: ignore[arg-type]
    ]
    for attempt in attempts:
        with pytest.raises(InvalidMoneyError, match=r"float|Decimal"):
            attempt()


def test_every_combination_of_two_currencies_raises_currency_mismatch() -> None:
    cny, usd = M("1.00 CNY"), M("1.00 USD")
    for combine in (
        lambda: cny + usd,
        lambda: cny - usd,
        lambda: cny < usd,
        lambda: cny <= usd,
        lambda: cny > usd,
        lambda: cny >= usd,
        lambda: cny.ratio_to(usd),
        lambda: cny.min(usd),
        lambda: Money.sum([cny, usd], "CNY"),
    ):
        with pytest.raises(CurrencyMismatchError, match="convert"):
            combine()
    assert cny != usd  # equality is defined (and false) across currencies


def test_quantisation_happens_once_in_money() -> None:
    # (1.00 / 3) * 3 rounds at the division; multiplying a Decimal factor rounds once
    assert M("1.00 CNY") / 3 * 3 == M("0.99 CNY")
    assert M("1.00 CNY") * (Decimal(1) / Decimal(3) * 3) == M("1.00 CNY")
    assert quantize(Decimal("0.125"), "CNY") == Decimal("0.12")  # half-even: to the even cent
    assert quantize(Decimal("0.135"), "CNY") == Decimal("0.14")
    assert quantize(Decimal("-0.125"), "CNY") == Decimal("-0.12")


def test_negative_zero_is_zero() -> None:
    tiny = Money.of(quantize(Decimal("-0.004"), "CNY"), "CNY")
    assert str(tiny) == "0.00 CNY"
    assert tiny == Money.zero("CNY")
    assert not tiny.amount.is_signed()


def test_division_and_ratios_by_zero_and_bad_fx_rates_are_refused() -> None:
    with pytest.raises(InvalidMoneyError, match="by zero"):
        M("1.00 CNY") / 0
    with pytest.raises(InvalidMoneyError, match="ratio to zero"):
        M("1.00 CNY").ratio_to(M("0.00 CNY"))
    with pytest.raises(InvalidMoneyError, match="must be positive"):
        M("1.00 USD").convert("CNY", Decimal(0))
    with pytest.raises(InvalidMoneyError, match="'XYZ'"):
        M("1.00 USD").convert("XYZ", Decimal(1))
    with pytest.raises(InvalidMoneyError, match="weights"):
        M("1.00 CNY").allocate([0, 0])


@given(amounts, amounts)
def test_addition_commutes_and_subtraction_inverts(a: Decimal, b: Decimal) -> None:
    x, y = Money(a, "CNY"), Money(b, "CNY")
    assert x + y == y + x
    assert (x + y) - y == x
    assert x - x == Money.zero("CNY")


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12))
def test_quantised_amounts_have_exactly_the_minor_unit(value: Decimal) -> None:
    for currency, places in (("CNY", 2), ("JPY", 0), ("KWD", 3)):
        assert Money(value, currency).amount.as_tuple().exponent == -places


# The fast paths (arithmetic results built by `_money_of_known`, the shared zeros) must give
# exactly what the validated constructor gives: same amount digits, sign and exponent, same
# currency, and the same error for what the constructor refuses.
Outcome = tuple[object, ...]


def _outcome(build: Callable[[], Money]) -> Outcome:
    try:
        m = build()
    except CreditMgmtError as e:
        return ("raised", type(e), str(e))
    return ("money", type(m), m.amount.as_tuple(), m.currency)


@st.composite
def _same_currency_pairs(draw: st.DrawFn) -> tuple[Money, Money]:
    currency = draw(st.sampled_from(sorted(MINOR_UNITS)))
    places = MINOR_UNITS[currency]
    # up to the bound of 10^18: sums and products past it raise, on both paths alike
    top = MAX_AMOUNT - Decimal(1).scaleb(-places)
    amount = st.decimals(min_value=-top, max_value=top, places=places, allow_nan=False)
    return Money(draw(amount), currency), Money(draw(amount), currency)


_factors = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.decimals(min_value=-(10**6), max_value=10**6, allow_nan=False, allow_infinity=False),
)


@given(_same_currency_pairs(), _factors)
def test_fast_arithmetic_gives_what_the_validated_constructor_gives(
    pair: tuple[Money, Money], factor: Decimal | int
) -> None:
    x, y = pair
    c = x.currency
    f = Decimal(factor)
    cases: list[tuple[Callable[[], Money], Callable[[], Money]]] = [
        (lambda: x + y, lambda: Money(x.amount + y.amount, c)),
        (lambda: x - y, lambda: Money(x.amount - y.amount, c)),
        (lambda: y - y, lambda: Money(y.amount - y.amount, c)),
        (lambda: -x, lambda: Money(-x.amount, c)),
        (lambda: abs(x), lambda: Money(abs(x.amount), c)),
        (lambda: x * factor, lambda: Money(x.amount * f, c)),
        (lambda: x * Rate(f), lambda: Money(x.amount * f, c)),
        # a sum adds one at a time: a partial sum past the bound raises first
        (
            lambda: Money.sum([x, y, x], c),
            lambda: Money(Money(x.amount + y.amount, c).amount + x.amount, c),
        ),
    ]
    if f != 0:
        cases.append((lambda: x / factor, lambda: Money(MONEY_CONTEXT.divide(x.amount, f), c)))
    for fast, validated in cases:
        assert _outcome(fast) == _outcome(validated)
    assert (x < y, x <= y, x > y, x >= y) == (
        x.amount < y.amount,
        x.amount <= y.amount,
        x.amount > y.amount,
        x.amount >= y.amount,
    )


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.decimals(min_value=-(10**40), max_value=10**40, allow_nan=False, allow_infinity=False)
    | st.sampled_from([Decimal("-0"), Decimal("-0.004"), Decimal("-0E+5"), Decimal("1E+37")]),
    st.sampled_from(sorted(MINOR_UNITS)),
)
def test_trusted_constructor_gives_what_the_validated_constructor_gives(
    value: Decimal, currency: str
) -> None:
    assert _outcome(lambda: _money_of_known(value, currency)) == _outcome(
        lambda: Money(value, currency)
    )


@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from([Decimal("-0"), Decimal("-0.004"), Decimal("1E+37"), Decimal("NaN")]),
    st.sampled_from([*sorted(MINOR_UNITS), "XXX", "cny", ""]),
)
def test_money_of_decimal_gives_what_the_validated_constructor_gives(
    value: Decimal, currency: str
) -> None:
    assert _outcome(lambda: money_of_decimal(value, currency)) == _outcome(
        lambda: Money(value, currency)
    )


def test_trusted_constructor_refuses_non_finite_amounts_like_the_constructor() -> None:
    for value in (Decimal("Infinity"), Decimal("-Infinity"), Decimal("NaN")):
        fast = _outcome(lambda v=value: _money_of_known(v, "CNY"))  # type: ignore[misc]
        assert fast[0] == "raised"
        assert fast == _outcome(lambda v=value: Money(v, "CNY"))  # type: ignore[misc]


@pytest.mark.parametrize("currency", sorted(MINOR_UNITS))
def test_the_shared_zero_of_each_currency_is_the_validated_zero(currency: str) -> None:
    zero = Money.zero(currency)
    assert _outcome(lambda: zero) == _outcome(lambda: Money(ZERO, currency))
    assert Money.zero(currency) is zero
    with pytest.raises(InvalidMoneyError, match="'XXX'"):
        Money.zero("XXX")


# The bound every store holds (10^18; SQL columns are NUMERIC(30, 6)) ----------------------
def test_the_largest_amount_is_accepted_and_one_unit_more_is_refused() -> None:
    largest = Money.of("999999999999999999.99", "CNY")
    assert largest.amount == MAX_AMOUNT - Decimal("0.01")
    assert -largest == Money.of("-999999999999999999.99", "CNY")
    with pytest.raises(InvalidMoneyError, match=r"too large: amounts stay below 10\^18"):
        Money.of("1000000000000000000", "CNY")
    with pytest.raises(InvalidMoneyError, match="too large"):
        Money.of(Decimal("-1E+24"), "USD")  # what NUMERIC(30, 6) would refuse at commit
    with pytest.raises(InvalidMoneyError, match="too large"):
        largest + Money.of("0.01", "CNY")  # arithmetic is bounded the same way
    with pytest.raises(InvalidMoneyError, match="too large"):
        Money.of("999999999999999999.995", "CNY")  # rounds up onto the bound


# text is read in one form: a comma, a foreign digit or an exponent never changes the amount
MALFORMED_AMOUNTS = [
    "1,50",  # a decimal comma: 150.00 before
    "1,2,3",  # 123 before
    "1,000.00",  # grouping: only Money.parse reads it, and only well formed
    "12,34.5",
    "\u0661\u0662",  # Arabic-Indic ١٢
    "\uff11\uff12",  # fullwidth １２
    "1e3",
    "1 000",
    ".5",
    "5.",
    "+-1",
    "1__0",
    "_1",
    "0x10",
    "",
    "9" * 5000,  # refused by its length, fast; the message quotes an excerpt only
]


@pytest.mark.parametrize("text", MALFORMED_AMOUNTS, ids=range(len(MALFORMED_AMOUNTS)))
def test_amount_text_outside_the_canonical_form_is_refused_naming_it(text: str) -> None:
    with pytest.raises(InvalidMoneyError) as raised:
        Money.of(text, "EUR")
    message = str(raised.value)
    assert repr(text[:32])[:-1] in message
    assert len(message) < 300
    with pytest.raises(InvalidMoneyError):
        D(text)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("12.50", "12.50"), ("-3", "-3.00"), ("+7.1", "7.10"), ("1_000_000.25", "1000000.25")],
)
def test_the_canonical_form_is_read(text: str, amount: str) -> None:
    assert Money.of(text, "EUR").amount == Decimal(amount)


@pytest.mark.parametrize(
    ("text", "amount"),
    [("1,000.00 CNY", "1000.00"), ("1,234,567.89 CNY", "1234567.89"), ("-12,345 CNY", "-12345")],
)
def test_parse_reads_a_well_formed_thousands_grouping(text: str, amount: str) -> None:
    assert Money.parse(text).amount == Decimal(amount)


@pytest.mark.parametrize(
    "text", ["1,50 EUR", "1,2,3 EUR", "12,34.5 EUR", "1,0000 EUR", ",100 EUR", "1,000,00 EUR"]
)
def test_parse_refuses_a_malformed_grouping(text: str) -> None:
    with pytest.raises(InvalidMoneyError, match=re.escape(repr(text.split()[0]))):
        Money.parse(text)


@pytest.mark.parametrize("value", [M("0.01 CNY"), 1])
def test_check_positive_lets_a_positive_amount_or_count_pass(value: Money | int) -> None:
    check_positive("what", value)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(M("0.00 CNY"), "0.00 CNY"), (M("-1 CNY"), "-1.00 CNY"), (0, "0"), (-3, "-3")],
)
def test_check_positive_refuses_zero_and_below_naming_what(value: Money | int, shown: str) -> None:
    with pytest.raises(
        InvalidValueError, match=re.escape(f"principal must be positive, got {shown}")
    ):
        check_positive("principal", value)
