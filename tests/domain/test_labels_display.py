"""Display labels and the one money-display rule (`creditmgmt.domain.labels`)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditmgmt.domain import Money, format_amount, format_money, label
from creditmgmt.domain.labels import CATEGORIES, CUSTOMER_STATUSES, SHARED_SYMBOLS
from creditmgmt.domain.money import SYMBOLS


def test_customer_statuses_read_differently_from_the_five_categories() -> None:
    assert label("active", "zh") == "存续客户"
    assert label("normal", "zh") == "正常"
    statuses = {label(s, "zh") for s in CUSTOMER_STATUSES}
    categories = {label(c, "zh") for c in CATEGORIES}
    assert len(statuses) == len(CUSTOMER_STATUSES)
    assert statuses.isdisjoint(categories)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("33000000.0"), "33,000,000.00"),
        (Decimal("1E+5"), "100,000.00"),
        (Decimal("0.0150"), "0.0150"),
        (Decimal("-1234.5"), "-1,234.50"),
        (Decimal("0"), "0.00"),
        (7, "7.00"),
        (Decimal("NaN"), "NaN"),
    ],
)
def test_amounts_are_grouped_with_at_least_two_places(value: Decimal | int, text: str) -> None:
    assert format_amount(value) == text


def test_a_shared_symbol_is_followed_by_the_iso_code() -> None:
    assert "¥" in SHARED_SYMBOLS and "$" not in SHARED_SYMBOLS
    assert format_money(Money.of("1234", "CNY")) == "¥1,234.00 CNY"
    assert format_money(Money.of("1234", "JPY")) == "¥1,234 JPY"
    assert format_money(Decimal("800000.00"), "CNY") == "¥800,000.00 CNY"
    assert format_money(Decimal("-5"), "USD") == "-$5.00"
    assert format_money(Decimal("1234.5"), "HKD") == "HK$1,234.50"
    assert format_money(Decimal("12"), None) == "12.00"
    # a currency without a symbol shows its code
    without = next(c for c in ("CHF", "SEK", "NOK", "XAU") if c not in SYMBOLS)
    assert format_money(Decimal("1"), without).endswith(f" {without}")
    # CNY and JPY amounts never read the same
    assert format_money(Decimal("1000"), "CNY") != format_money(Decimal("1000"), "JPY")
