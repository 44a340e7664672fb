"""Ports to the outside world: credit bureau reports and exchange rates."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from decimal import Decimal

from creditmgmt.domain.credit_file import BureauReport
from creditmgmt.domain.errors import CreditMgmtError


class ExternalServiceError(CreditMgmtError):
    """A bureau or rate provider could not answer (names the provider and the request)."""

    default_message = "external service unavailable"


class CreditBureau(ABC):
    """Fetches a credit report (征信报告) for a registration id (USCC or national id)."""

    @abstractmethod
    def fetch_report(self, registration_id: str, *, as_of: date) -> BureauReport:
        """Raises `ExternalServiceError` when the bureau cannot answer; `LookupError` subclass
        `NotFoundError` from ports.errors when it has no record of the subject."""


class ExchangeRates(ABC):
    """Explicit FX: money is never converted without a rate from here."""

    @abstractmethod
    def rate(self, from_currency: str, to_currency: str, *, on: date) -> Decimal:
        """Units of `to_currency` per one unit of `from_currency` on a date.

        Raises `ExternalServiceError` when no rate is known for that pair and date."""
