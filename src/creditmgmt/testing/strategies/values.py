"""Values: money, rates, identifiers, texts, dates, and the value objects aggregates hold.

Every strategy returns valid objects; bounds are keyword-only.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TypeVar

from hypothesis import strategies as st

from creditmgmt.domain.application import Assessment
from creditmgmt.domain.classification import Category
from creditmgmt.domain.collateral import Valuation
from creditmgmt.domain.covenant import Covenant, CovenantBound, CovenantMetric
from creditmgmt.domain.credit_file import (
    BureauReport,
    DocumentRef,
    FinancialStatement,
    LitigationCase,
    LitigationRole,
)
from creditmgmt.domain.errors import DomainError
from creditmgmt.domain.ids import EntityId, UserId
from creditmgmt.domain.loan import Repayment
from creditmgmt.domain.loan_risk import LoanTally, MonitoringMark, MonthEndUtilisation
from creditmgmt.domain.money import MINOR_UNITS, Money, Percentage, Rate
from creditmgmt.testing.builders import make_uscc

E = TypeVar("E", bound=EntityId)

MAX_AMOUNT = Decimal("999999999999999.99")
HOSTILE = ("'; DROP TABLE customers; --", "a\"b'c", "\x01ctl\x1f", "\\", "上海浦东发展", "😀")
RULESET_REF = "cn-2023@1.0.0#0123456789ab"


class DrawnIds:
    """An IdSource driven by a Hypothesis-drawn `random.Random` (unique within an example)."""

    def __init__(self, rnd: random.Random) -> None:
        self._rnd = rnd
        self._seen: set[str] = set()

    def next_id(self) -> str:
        while True:
            token = f"{self._rnd.getrandbits(64):016x}"
            if token not in self._seen:
                self._seen.add(token)
                return token


def id_sources() -> st.SearchStrategy[DrawnIds]:
    """Id sources for the named constructors (`Customer.onboard(ids, ...)`); shrink well."""
    return st.randoms(use_true_random=False).map(DrawnIds)


def _attempt(action: Callable[[], object]) -> None:
    """Apply an operation the drawn state may refuse (a refusal changes nothing)."""
    with contextlib.suppress(DomainError):
        action()


# values --------------------------------------------------------------------------------------
def currencies() -> st.SearchStrategy[str]:
    """Common currencies, including JPY (0 decimals) and KWD (3 decimals)."""
    return st.sampled_from(["CNY", "USD", "HKD", "EUR", "JPY", "KWD"])


def amounts(
    *, min_value: Decimal = Decimal("0.01"), max_value: Decimal = MAX_AMOUNT
) -> st.SearchStrategy[Decimal]:
    """Decimal amounts with two places between the bounds (inclusive)."""
    return st.decimals(min_value=min_value, max_value=max_value, places=2)


def money(
    currency: str | None = "CNY", *, min_value: str = "0.01", max_value: str = str(MAX_AMOUNT)
) -> st.SearchStrategy[Money]:
    """Money of `currency` (any of `currencies()` when None), between the bounds (inclusive,
    decimal text), quantised to the currency's minor unit.

    Raises:
        hypothesis.errors.InvalidArgument: `min_value` above `max_value`.
    """
    ccy = st.just(currency) if currency else currencies()

    def build(c: str) -> st.SearchStrategy[Money]:
        places = MINOR_UNITS[c]
        return st.decimals(
            min_value=Decimal(min_value), max_value=Decimal(max_value), places=places
        ).map(lambda a: Money(a, c))

    built = ccy.flatmap(build)
    # quantising to the currency must not turn a positive amount into zero
    return built.filter(lambda m: m.is_positive) if Decimal(min_value) > 0 else built


def rates(
    *, min_value: str = "-0.01", max_value: str = "0.36", places: int = 6
) -> st.SearchStrategy[Rate]:
    """Annual rates as fractions (negative rates exist in some markets)."""
    return st.decimals(min_value=min_value, max_value=max_value, places=places).map(Rate)


def percentages() -> st.SearchStrategy[Percentage]:
    """Percentages from -100 to 1000 with four places."""
    return st.decimals(min_value="-100", max_value="1000", places=4).map(Percentage)


def identifiers(kind: type[E]) -> st.SearchStrategy[E]:
    """Fresh identifiers of one kind (`identifiers(CustomerId)`)."""
    return id_sources().map(kind.new)


def texts(*, min_size: int = 1, max_size: int = 60) -> st.SearchStrategy[str]:
    """Any text the domain accepts, plus hostile samples (quotes, SQL, controls, Chinese,
    emoji): no NUL, no lone surrogate (`domain.text.check_text` refuses them)."""
    alphabet = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
    return st.one_of(
        st.sampled_from(HOSTILE), st.text(alphabet, min_size=min_size, max_size=max_size)
    )


def names() -> st.SearchStrategy[str]:
    """Non-blank names (hostile samples included)."""
    return texts(max_size=80).filter(lambda s: bool(s.strip()))


def business_dates(
    *, min_value: date = date(2020, 1, 1), max_value: date = date(2035, 12, 31)
) -> st.SearchStrategy[date]:
    """Business dates between the bounds (inclusive)."""
    return st.dates(min_value=min_value, max_value=max_value)


def timestamps() -> st.SearchStrategy[datetime]:
    """Aware timestamps in UTC and in other offsets (China Standard Time among them)."""
    zones = st.sampled_from([UTC, *(timezone(timedelta(hours=h)) for h in (8, -5, 5))])
    return st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=zones
    )


def users() -> st.SearchStrategy[UserId]:
    """Staff ids `usr_0001` ... `usr_9999` (never `usr_checker`, which strategies use as the
    second pair of eyes)."""
    return st.integers(min_value=1, max_value=9999).map(lambda n: UserId(f"usr_{n:04d}"))


def uscc_codes() -> st.SearchStrategy[str]:
    """Valid unified social credit codes (random body, correct check digit)."""
    return st.integers(0, 999_999_999).map(make_uscc)


#: Six-digit division codes: Shanghai (and Pudong), Hangzhou, Beijing, Shenzhen, Chengdu.
REGIONS = ("310000", "310115", "330100", "110000", "440300", "510100")
regions = st.sampled_from(REGIONS)


@st.composite
def valuations(draw: st.DrawFn, currency: str = "CNY") -> Valuation:
    """An appraisal: a positive value in `currency`, a date, an appraiser."""
    return Valuation(draw(money(currency)), draw(business_dates()), draw(names()))


#: The grades of the built-in rule sets' master scales, best first.
GRADES = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")


@st.composite
def assessments(draw: st.DrawFn) -> Assessment:
    """A rating outcome, sometimes overridden (with reason and approver)."""
    overridden = draw(st.booleans())
    return Assessment(
        score=draw(st.none() | st.decimals(min_value="300", max_value="900", places=2)),
        pd=draw(st.decimals(min_value=0, max_value=1, places=6)),
        grade=draw(st.sampled_from(GRADES)),
        ruleset_ref=RULESET_REF,
        override_grade=draw(st.sampled_from(GRADES)) if overridden else None,
        override_reason=draw(names()) if overridden else "",
        override_by=draw(users()) if overridden else None,
    )


@st.composite
def financial_statements(draw: st.DrawFn, currency: str = "CNY") -> FinancialStatement:
    """A consistent statement: current ≤ total, stocks non-negative, profits of any sign."""

    def figure(min_value: str = "0", max_value: str = "100000000000") -> Money:
        places = MINOR_UNITS[currency]
        value = draw(st.decimals(min_value=min_value, max_value=max_value, places=places))
        return Money(value, currency)

    total_assets = figure()
    total_liabilities = figure()
    return FinancialStatement(
        period_end=draw(business_dates()),
        currency=currency,
        current_assets=Money(
            draw(st.decimals(min_value=0, max_value=total_assets.amount, places=0)), currency
        ),
        total_assets=total_assets,
        current_liabilities=Money(
            draw(st.decimals(min_value=0, max_value=total_liabilities.amount, places=0)), currency
        ),
        total_liabilities=total_liabilities,
        equity=total_assets - total_liabilities,
        revenue=figure(),
        ebitda=figure("-1000000000"),
        ebit=figure("-1000000000"),
        interest_expense=figure(max_value="1000000000"),
        net_profit=figure("-1000000000"),
        operating_cash_flow=figure("-1000000000"),
        debt_service=figure(max_value="1000000000"),
        audited=draw(st.booleans()),
    )


@st.composite
def bureau_reports(draw: st.DrawFn) -> BureauReport:
    """A credit bureau report (PBOC, Baihang, external)."""
    return BureauReport(
        bureau=draw(st.sampled_from(["PBOC", "Baihang", "external"])),
        report_date=draw(business_dates()),
        overdue_at_other_banks=draw(st.booleans()),
        npl_share_all_banks=draw(st.decimals(min_value=0, max_value=1, places=4)),
        total_debt=draw(money(min_value="0")),
        external_rating=draw(st.none() | st.sampled_from(["AAA", "BBB-", "BB+"])),
    )


@st.composite
def litigation_cases(draw: st.DrawFn) -> LitigationCase:
    """A court case the customer is party to, in any role and status."""
    return LitigationCase(
        case_id=draw(names()),
        claim=draw(money(min_value="0")),
        role=draw(st.sampled_from(list(LitigationRole))),
        status=draw(st.sampled_from(["pending", "judged", "enforced", "closed"])),
    )


def covenants() -> st.SearchStrategy[Covenant]:
    """A financial covenant on any ratio and bound, threshold 0 to 100 (four places)."""
    return st.builds(
        Covenant,
        metric=st.sampled_from(list(CovenantMetric)),
        bound=st.sampled_from(list(CovenantBound)),
        threshold=st.decimals(min_value=0, max_value=100, places=4),
    )


def document_refs() -> st.SearchStrategy[DocumentRef]:
    """A reference to a document kept elsewhere (title and reference text)."""
    return st.builds(DocumentRef, title=names(), reference=texts())


@st.composite
def repayments(draw: st.DrawFn, currency: str = "CNY") -> Repayment:
    """A positive repayment in `currency` on a business date."""
    return Repayment(
        draw(money(currency)), draw(business_dates()), reference=draw(texts(min_size=0))
    )


#: Early-warning trigger ids of the built-in rule sets (a mark's `fired`).
_TRIGGERS = ("y_covenant_breach", "y_dpd_1_30", "r_dpd_over_30", "r_key_person_change")


def monitoring_marks() -> st.SearchStrategy[MonitoringMark]:
    """Marks the daily run may leave on a customer: a next check date or none, tallies of
    loans by category and currency, up to three month-end utilisations (newest first, None
    for no limit) and the triggers that fired (sorted)."""
    tally = st.builds(
        LoanTally,
        category=st.sampled_from(list(Category)),
        currency=currencies(),
        loans=st.integers(1, 50),
        balance=amounts(),
        provision=amounts(min_value=Decimal(0)),
    )
    month_end = st.builds(
        MonthEndUtilisation,
        month_end=business_dates(),
        utilisation=st.none() | st.decimals(min_value=0, max_value=2, places=4),
    )
    return st.builds(
        MonitoringMark,
        next_check=st.none() | business_dates(),
        basis=texts(max_size=80),
        facilities=st.integers(0, 40),
        loans=st.lists(tally, max_size=3, unique_by=lambda t: (t.category, t.currency)).map(tuple),
        month_ends=st.lists(month_end, max_size=3, unique_by=lambda m: m.month_end).map(
            lambda found: tuple(sorted(found, key=lambda m: m.month_end, reverse=True))
        ),
        fired=st.lists(st.sampled_from(_TRIGGERS), unique=True).map(lambda f: tuple(sorted(f))),
    )


__all__ = [
    "GRADES",
    "HOSTILE",
    "MAX_AMOUNT",
    "REGIONS",
    "RULESET_REF",
    "DrawnIds",
    "amounts",
    "assessments",
    "bureau_reports",
    "business_dates",
    "covenants",
    "currencies",
    "document_refs",
    "financial_statements",
    "id_sources",
    "identifiers",
    "litigation_cases",
    "money",
    "monitoring_marks",
    "names",
    "percentages",
    "rates",
    "regions",
    "repayments",
    "texts",
    "timestamps",
    "uscc_codes",
    "users",
    "valuations",
]
