"""A deterministic fake credit bureau (征信) for tests, demos and examples.

Its answers depend only on the registration id and the date, so runs repeat exactly:
`FakeBureau(overdue={"91310000MA1FL4T01A"})` reports that customer overdue elsewhere.
Not a real bureau: hosts plug their own `CreditBureau` adapter in production.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from creditmgmt.domain.credit_file import BureauReport
from creditmgmt.domain.money import Money
from creditmgmt.ports.errors import NotFoundError
from creditmgmt.ports.external import CreditBureau, ExternalServiceError

_RATINGS = ("AAA", "AA", "A", "BBB", "BBB", "BB", "BB", "B")


class FakeBureau(CreditBureau):
    """Reports derived from a hash of the registration id.

    `overdue`: ids reported overdue at other banks; `unknown`: ids the bureau has no record
    of (`NotFoundError`); `down`: every call raises `ExternalServiceError`.
    """

    name = "fake-pboc"

    def __init__(
        self,
        *,
        overdue: Iterable[str] = (),
        unknown: Iterable[str] = (),
        currency: str = "CNY",
        down: bool = False,
    ) -> None:
        self._overdue = frozenset(overdue)
        self._unknown = frozenset(unknown)
        self._currency = currency
        self.down = down
        self.calls: list[tuple[str, date]] = []

    def fetch_report(self, registration_id: str, *, as_of: date) -> BureauReport:
        """Raises `ExternalServiceError` when down, `NotFoundError` for an unknown id."""
        self.calls.append((registration_id, as_of))
        if self.down:
            raise ExternalServiceError(f"{self.name}: no answer for a report as of {as_of}")
        if registration_id in self._unknown:
            raise NotFoundError(f"{self.name}: no record of the subject")
        h = zlib.crc32(registration_id.encode("utf-8"))
        overdue = registration_id in self._overdue
        return BureauReport(
            bureau=self.name,
            report_date=as_of,
            overdue_at_other_banks=overdue,
            npl_share_all_banks=Decimal("0.25") if overdue else Decimal(0),
            total_debt=Money.of(Decimal(h % 50_000) * 1000, self._currency),
            external_rating=_RATINGS[h % len(_RATINGS)],
        )
