"""Money, rates and the one place where amounts are quantised.

`Money` is a Decimal amount with an ISO 4217 currency, always a whole number of the currency's
minor unit. An amount given as input (`Money.of`, `Money.parse`) is taken exactly: text in one
canonical form (`creditmgmt.domain.numbers`), and more decimals than the currency has are
refused, never silently rounded. The results of arithmetic are rounded with banker's rounding
(ROUND_HALF_EVEN) in one place, `quantize`. Floats are refused everywhere: a float
has already lost the cents. Arithmetic across currencies raises `CurrencyMismatchError`;
conversion needs an explicit rate (`Money.convert`).
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Final, Self

import attrs

from creditmgmt.domain.errors import CurrencyMismatchError, InvalidMoneyError, InvalidValueError
from creditmgmt.domain.numbers import excerpt, parse_decimal

# One decimal context for money arithmetic: wide enough for 10^18 with 6 decimals and
# intermediate products, strict about invalid operations.
MONEY_CONTEXT: Final = decimal.Context(
    prec=38,
    rounding=ROUND_HALF_EVEN,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)

#: ISO 4217 minor units for the currencies a Chinese institution meets in practice.
MINOR_UNITS: Final[dict[str, int]] = {
    "CNY": 2,
    "CNH": 2,
    "HKD": 2,
    "MOP": 2,
    "TWD": 2,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "KRW": 0,
    "SGD": 2,
    "CHF": 2,
    "AUD": 2,
    "CAD": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "RUB": 2,
    "INR": 2,
    "THB": 2,
    "MYR": 2,
    "IDR": 2,
    "PHP": 2,
    "VND": 0,
    "AED": 2,
    "SAR": 2,
    "BHD": 3,
    "KWD": 3,
    "OMR": 3,
    "JOD": 3,
    "ZAR": 2,
    "BRL": 2,
    "MXN": 2,
    "KZT": 2,
    "PKR": 2,
    "LAK": 2,
    "MNT": 2,
    "XAU": 4,
}

#: Display symbols; stored codes stay language-neutral (the ISO code).
SYMBOLS: Final[dict[str, str]] = {
    "CNY": "¥",
    "CNH": "¥",
    "JPY": "¥",
    "USD": "$",
    "HKD": "HK$",
    "EUR": "€",
    "GBP": "£",
    "MOP": "MOP$",
    "TWD": "NT$",
    "KRW": "₩",
    "SGD": "S$",
    "AUD": "A$",
    "CAD": "C$",
}

_QUANTA: Final[dict[str, Decimal]] = {c: Decimal(1).scaleb(-n) for c, n in MINOR_UNITS.items()}

#: Every amount is below 10^18 units in absolute value (a billion billion; any balance sheet
#: fits). Every store holds these exactly: SQL columns are NUMERIC(30, 6) (24 integer digits),
#: SQLite and the file store keep the decimal text. An amount or a result of arithmetic at
#: or beyond it raises `InvalidMoneyError`, the same on every store.
MAX_AMOUNT_DIGITS: Final = 18
MAX_AMOUNT: Final = Decimal(10) ** MAX_AMOUNT_DIGITS

AmountLike = Decimal | int | str

# a well-formed display grouping: 1,234 or 12,345,678.90 (Money.parse only)
_GROUPED: Final = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?", re.ASCII)


def D(value: AmountLike) -> Decimal:
    """Build a Decimal from a str, int or Decimal; refuse floats and bools.

    Text is read in the one canonical form of `creditmgmt.domain.numbers.parse_decimal`:
    ASCII digits, an optional leading sign, `.` before a fraction, `_` only between digits,
    no `,` grouping and no exponent, at most 40 digits.

    Raises:
        InvalidMoneyError: for a float, bool, text not in the canonical form (the message
            quotes it), NaN or infinity.
    """
    if isinstance(value, (bool, float)):
        raise InvalidMoneyError(
            f"{value!r} is a {type(value).__name__}; pass a str, int or Decimal (floats lose cents)"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            # one form only (see creditmgmt.domain.numbers): `1,50` is refused, not read as
            # 150; `١٢` and fullwidth digits are refused too
            result = parse_decimal(value)
        except InvalidValueError as e:
            raise InvalidMoneyError(str(e)) from None
    else:
        raise InvalidMoneyError(f"{value!r} ({type(value).__name__}) is not a decimal number")
    if not result.is_finite():
        raise InvalidMoneyError(f"{value!r} is not a finite number")
    return result


def check_currency(code: str) -> str:
    """Return `code` if it is a supported ISO 4217 currency code.

    Raises:
        InvalidMoneyError: naming the code when it is not known.
    """
    if not isinstance(code, str) or code not in MINOR_UNITS:
        raise InvalidMoneyError(f"unknown currency code {code!r} (ISO 4217, e.g. 'CNY')")
    return code


def minor_unit(currency: str) -> int:
    """Number of decimal places of `currency` (2 for CNY, 0 for JPY).

    Raises:
        InvalidMoneyError: an unknown currency.
    """
    return MINOR_UNITS[check_currency(currency)]


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round `amount` to the currency's minor unit, half-even. The only rounding of money.

    Raises:
        InvalidMoneyError: for an unknown currency or a non-finite amount.
    """
    check_currency(currency)
    return _quantize_known(amount, currency)


def _quantize_known(amount: Decimal, currency: str) -> Decimal:
    """`quantize` for a currency already known to be supported; the rounding itself.

    Raises:
        InvalidMoneyError: a non-finite amount, or one too large to represent.
    """
    if not amount.is_finite():
        raise InvalidMoneyError(f"{amount!r} is not a finite amount")
    try:
        # positional arguments: the C implementation parses keywords several times slower
        result = amount.quantize(_QUANTA[currency], None, MONEY_CONTEXT)
    except decimal.InvalidOperation:
        raise InvalidMoneyError(f"{amount} {currency} is too large to represent") from None
    if result.adjusted() >= MAX_AMOUNT_DIGITS and result:
        raise InvalidMoneyError(
            f"{amount} {currency} is too large: amounts stay below 10^{MAX_AMOUNT_DIGITS}"
        )
    return result


def _check_amount(instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal):
        raise InvalidMoneyError(
            f"Money.amount must be a Decimal, got {type(value).__name__} {value!r}; "
            "use Money.of(...) to build from str or int"
        )


@attrs.frozen(order=False, repr=False)
class Money:
    """An amount of one currency, quantised to its minor unit.

    Build with `Money.of("1000.00", "CNY")` or `Money.parse("1000.00 CNY")`.

    Raises:
        InvalidMoneyError: for floats, non-finite or malformed amounts, unknown currencies.
        CurrencyMismatchError: when combining or comparing two currencies.
    """

    amount: Decimal = attrs.field(validator=_check_amount)
    currency: str = attrs.field(validator=lambda _i, _a, v: check_currency(v))

    def __attrs_post_init__(self) -> None:
        # the field validators have already accepted the currency
        amount = _quantize_known(self.amount, self.currency)
        if not amount and amount.is_signed():
            amount = amount.copy_abs()  # -0.00 is shown, stored and compared as 0.00
        object.__setattr__(self, "amount", amount)

    # construction -------------------------------------------------------------------------
    @classmethod
    def of(cls, amount: AmountLike, currency: str) -> Money:
        """Money from a str, int or Decimal amount, taken exactly: an amount finer than the
        currency's minor unit (`Money.of("1.005", "CNY")`) is refused rather than rounded —
        round a computed amount explicitly with `quantize(amount, currency)` first.
        (Arithmetic on Money rounds its results half-even, in `quantize`.)

        Raises:
            InvalidMoneyError: a float, text not in the canonical form of `D`, a non-finite
                value, more decimals than the currency has (naming the amount), an unknown
                currency.
        """
        value = D(amount)
        exact = quantize(value, currency)
        if exact != value:
            raise InvalidMoneyError(
                f"{excerpt(str(amount))} {currency}: more decimals than {currency} has "
                f"({MINOR_UNITS[currency]}); round it explicitly "
                "(creditmgmt.domain.money.quantize) if that is meant"
            )
        return cls(exact, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """The zero amount of `currency` (one shared instance per currency: Money is immutable).

        Raises:
            InvalidMoneyError: an unknown currency.
        """
        if cls is Money and isinstance(currency, str):
            cached = _ZEROS.get(currency)
            if cached is not None:
                return cached
        return cls(ZERO, currency)

    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse `"1000.00 CNY"` or the display form `"1,000.00 CNY"` (amount then code).

        The amount is read as by `Money.of`, except that `,` may group thousands when the
        grouping is well formed: one to three digits, then groups of exactly three
        (`1,234,567.89`). Anything else with a comma (`1,50`, `1,2,3`, `12,34.5`) is refused,
        never read as another number.

        Raises:
            InvalidMoneyError: text not `<amount> <CCY>`, a malformed amount or grouping, more
                decimals than the currency has, an unknown currency (as `Money.of`).
        """
        parts = text.split() if isinstance(text, str) else []
        if len(parts) != 2:
            raise InvalidMoneyError(
                f"{excerpt(str(text))} is not '<amount> <currency>', e.g. '1000.00 CNY'"
            )
        amount, currency = parts
        if "," in amount:
            if not _GROUPED.fullmatch(amount):
                raise InvalidMoneyError(
                    f"{excerpt(amount)}: ',' only groups thousands (1,234,567.89)"
                )
            amount = amount.replace(",", "")
        return cls.of(amount, currency)

    @classmethod
    def sum(cls, items: Iterable[Money], currency: str) -> Money:
        """Sum amounts of `currency` (the currency names the zero of an empty sum)."""
        total = cls.zero(currency)
        for item in items:
            total = total + item
        return total

    # arithmetic ---------------------------------------------------------------------------
    def _same(self, other: Money, op: str) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot {op} Money and {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {op} {self} and {other}: currencies differ (convert with an FX rate first)"
            )

    # Results below are built with `_money_of_known`: the currency is this (valid) Money's,
    # so only the amount is rounded, by the same `quantize` as the validated constructor.
    def __add__(self, other: Money) -> Money:
        if type(other) is not Money or other.currency != self.currency:
            self._same(other, "add")
        return _money_of_known(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        if type(other) is not Money or other.currency != self.currency:
            self._same(other, "subtract")
        return _money_of_known(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return _money_of_known(-self.amount, self.currency)

    def __abs__(self) -> Money:
        return _money_of_known(abs(self.amount), self.currency)

    def __mul__(self, factor: Decimal | int | Rate) -> Money:
        return _money_of_known(self.amount * _factor(factor), self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: Decimal | int) -> Money:
        """Divide by a number (Decimal or int), rounding once. Zero raises `InvalidMoneyError`."""
        d = _factor(divisor)
        if d == 0:
            raise InvalidMoneyError(f"cannot divide {self} by zero")
        return _money_of_known(MONEY_CONTEXT.divide(self.amount, d), self.currency)

    def ratio_to(self, other: Money) -> Decimal:
        """`self / other` as an unrounded Decimal (e.g. utilisation); zero `other` raises."""
        self._same(other, "divide")
        if other.amount == 0:
            raise InvalidMoneyError(f"cannot take a ratio to zero {other.currency}")
        return MONEY_CONTEXT.divide(self.amount, other.amount)

    def convert(self, currency: str, rate: Decimal) -> Money:
        """Convert with an explicit rate (units of `currency` per one unit of self.currency).

        Raises:
            InvalidMoneyError: a float, zero or negative rate, or an unknown currency.
        """
        factor = _factor(rate)
        if factor <= 0:
            raise InvalidMoneyError(
                f"FX rate {self.currency}->{currency} must be positive, got {rate}"
            )
        return Money(self.amount * factor, currency)

    def allocate(self, weights: Iterable[Decimal | int]) -> list[Money]:
        """Split into parts proportional to `weights` whose sum is exactly `self`.

        Remainders of the minor unit go to the largest weights first (ties: earliest).

        Raises:
            InvalidMoneyError: no weights, a negative or float weight, or all weights zero.
        """
        ws = [_factor(w) for w in weights]
        if not ws or any(w < 0 for w in ws) or sum(ws) == 0:
            raise InvalidMoneyError("allocation weights must be non-negative and not all zero")
        total_w = sum(ws)
        quantum = _QUANTA[self.currency]
        units = int(self.amount / quantum)
        raw = [MONEY_CONTEXT.divide(MONEY_CONTEXT.multiply(Decimal(units), w), total_w) for w in ws]
        floors = [int(r.to_integral_value(rounding=decimal.ROUND_FLOOR)) for r in raw]
        left = units - sum(floors)
        order = sorted(range(len(ws)), key=lambda i: (-(raw[i] - floors[i]), -ws[i], i))
        for i in order[: abs(left)]:
            floors[i] += 1 if left > 0 else -1
        return [Money(Decimal(n) * quantum, self.currency) for n in floors]

    # comparison ---------------------------------------------------------------------------
    def __lt__(self, other: Money) -> bool:
        if type(other) is not Money or other.currency != self.currency:
            self._same(other, "compare")
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        if type(other) is not Money or other.currency != self.currency:
            self._same(other, "compare")
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        if type(other) is not Money or other.currency != self.currency:
            self._same(other, "compare")
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        if type(other) is not Money or other.currency != self.currency:
            self._same(other, "compare")
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_negative(self) -> bool:
        return self.amount < 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def min(self, other: Money) -> Money:
        return self if self <= other else other

    def max(self, other: Money) -> Money:
        return self if self >= other else other

    # display ------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __repr__(self) -> str:
        return f"Money('{self.amount}', '{self.currency}')"

    def format(self, *, symbol: bool = True) -> str:
        """Human display: `¥1,234,567.89` (the ISO code when no symbol is known)."""
        places = MINOR_UNITS[self.currency]
        body = f"{abs(self.amount):,.{places}f}"
        sign = "-" if self.amount < 0 else ""
        if symbol and self.currency in SYMBOLS:
            return f"{sign}{SYMBOLS[self.currency]}{body}"
        return f"{sign}{body} {self.currency}"


_new_money = object.__new__
_set_amount = Money.__dict__["amount"].__set__  # the slots' own setters: no validation
_set_currency = Money.__dict__["currency"].__set__


def _money_of_known(amount: Decimal, currency: str) -> Money:
    """`Money(amount, currency)` for a currency already known to be supported (that of an
    existing Money): the same quantisation and -0 rule, without re-checking the currency or
    re-running the attrs validators. Gives exactly what `Money(amount, currency)` gives.

    Raises:
        InvalidMoneyError: a non-finite amount, or one too large to represent.
    """
    amount = _quantize_known(amount, currency)
    if not amount and amount.is_signed():
        amount = amount.copy_abs()
    money = _new_money(Money)
    _set_amount(money, amount)
    _set_currency(money, currency)
    return money


def money_of_decimal(amount: Decimal, currency: str) -> Money:
    """Exactly `Money(amount, currency)` for a Decimal `amount` — the same quantisation, -0
    rule and errors — without the attrs `__init__` pipeline (a store reads millions).

    Raises:
        InvalidMoneyError: an unknown currency, a non-finite amount or one too large.
    """
    check_currency(currency)
    return _money_of_known(amount, currency)


_ZEROS: Final[dict[str, Money]] = {c: Money(ZERO, c) for c in MINOR_UNITS}


def check_positive(what: str, value: Money | int) -> None:
    """Refuse an amount or a count that is zero or negative.

    Raises:
        InvalidValueError: `"{what} must be positive, got {value}"`.
    """
    if not (value.is_positive if isinstance(value, Money) else value > 0):
        raise InvalidValueError(f"{what} must be positive, got {value}")


def _factor(value: object) -> Decimal:
    if isinstance(value, Rate):
        return value.value
    if isinstance(value, (bool, float)):
        raise InvalidMoneyError(f"{value!r} is a {type(value).__name__}; use Decimal or int")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidMoneyError(f"{value!r} is not finite")
        return value
    if isinstance(value, int):
        return Decimal(value)
    raise TypeError(f"cannot multiply Money by {type(value).__name__}")


def _check_rate(instance: object, attribute: attrs.Attribute[Decimal], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidMoneyError(f"{attribute.name} must be a finite Decimal, got {value!r}")


@attrs.frozen(order=True)
class _Figure:
    """A finite Decimal figure, unrounded: the common part of `Rate` and `Percentage` (a
    `Rate` never equals a `Percentage`: attrs compares the class too).

    Raises:
        InvalidMoneyError: for floats and non-finite values.
    """

    value: Decimal = attrs.field(validator=_check_rate)

    @classmethod
    def of(cls, value: AmountLike) -> Self:
        """The figure as written, from a str, int or Decimal (`Rate.of("0.0435")`,
        `Percentage.of("4.35")`).

        Raises:
            InvalidMoneyError: a float, a non-numeric or non-finite value.
        """
        return cls(D(value))


@attrs.frozen(order=True)
class Rate(_Figure):
    """A fraction (0.0435 = 4.35%), unrounded. Build with `Rate.of("0.0435")`.

    Raises:
        InvalidMoneyError: for floats and non-finite values.
    """

    @classmethod
    def percent(cls, value: AmountLike) -> Rate:
        """`Rate.percent("4.35") == Rate.of("0.0435")`.

        Raises:
            InvalidMoneyError: a float, a non-numeric or non-finite value.
        """
        return cls(MONEY_CONTEXT.divide(D(value), Decimal(100)))

    def as_percentage(self) -> Percentage:
        return Percentage(MONEY_CONTEXT.multiply(self.value, Decimal(100)))

    def __str__(self) -> str:
        return f"{self.as_percentage().value.normalize():f}%"


@attrs.frozen(order=True)
class Percentage(_Figure):
    """A percentage figure as written (25 = 25%); `.rate` gives the fraction. Build with
    `Percentage.of("4.35")`.

    Raises:
        InvalidMoneyError: for floats and non-finite values.
    """

    @property
    def rate(self) -> Rate:
        return Rate(MONEY_CONTEXT.divide(self.value, Decimal(100)))

    def __str__(self) -> str:
        return f"{self.value.normalize():f}%"
