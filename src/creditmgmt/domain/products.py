"""Credit products a facility (sub-limit) or an application is for."""

from __future__ import annotations

from enum import StrEnum


class ProductType(StrEnum):
    WORKING_CAPITAL = "working_capital"
    TERM_LOAN = "term_loan"
    TRADE_FINANCE = "trade_finance"
    GUARANTEE = "guarantee"
    OVERDRAFT = "overdraft"
    CARD = "card"

    @property
    def revolving_by_default(self) -> bool:
        """Working capital, overdraft, trade finance and cards revolve; term loans do not."""
        return self in {
            ProductType.WORKING_CAPITAL,
            ProductType.OVERDRAFT,
            ProductType.TRADE_FINANCE,
            ProductType.CARD,
        }
