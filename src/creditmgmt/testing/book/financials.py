"""Financial statements with ratios typical of the customer's industry, and its credit file."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from functools import partial

import attrs
from dateutil.relativedelta import relativedelta

from creditmgmt.domain.covenant import Covenant, CovenantBound, CovenantMetric
from creditmgmt.domain.credit_file import (
    BureauReport,
    Confidentiality,
    CreditFile,
    FinancialStatement,
    RefreshCycle,
    Section,
)
from creditmgmt.domain.ids import CustomerId, IdSource, UserId
from creditmgmt.domain.money import Money


@attrs.frozen
class IndustryProfile:
    """Typical figures of an industry (ranges are drawn uniformly)."""

    asset_turnover: tuple[float, float]  # revenue ÷ total assets
    current_share: tuple[float, float]  # current assets ÷ total assets
    current_ratio: tuple[float, float]  # current assets ÷ current liabilities
    debt_to_assets: tuple[float, float]  # total liabilities ÷ total assets
    ebitda_margin: tuple[float, float]  # EBITDA ÷ revenue


#: By GB/T 4754 section letter; sections not listed take `DEFAULT_PROFILE`.
PROFILES: dict[str, IndustryProfile] = {
    "A": IndustryProfile((0.4, 0.7), (0.30, 0.50), (1.0, 1.6), (0.40, 0.60), (0.08, 0.15)),
    "C": IndustryProfile((0.6, 1.1), (0.40, 0.60), (1.1, 1.8), (0.45, 0.65), (0.08, 0.20)),
    "E": IndustryProfile((0.6, 0.9), (0.60, 0.80), (1.0, 1.3), (0.65, 0.82), (0.04, 0.08)),
    "F": IndustryProfile((1.6, 2.8), (0.65, 0.85), (1.05, 1.4), (0.55, 0.75), (0.02, 0.05)),
    "G": IndustryProfile((0.8, 1.3), (0.25, 0.45), (0.9, 1.3), (0.50, 0.65), (0.10, 0.18)),
    "H": IndustryProfile((1.2, 2.0), (0.20, 0.40), (0.7, 1.1), (0.50, 0.70), (0.08, 0.14)),
    "I": IndustryProfile((0.6, 1.0), (0.55, 0.75), (1.8, 3.0), (0.25, 0.45), (0.15, 0.28)),
    "K": IndustryProfile((0.15, 0.35), (0.70, 0.90), (1.2, 1.7), (0.70, 0.82), (0.18, 0.30)),
}
DEFAULT_PROFILE = IndustryProfile((0.6, 1.2), (0.40, 0.60), (1.1, 1.6), (0.45, 0.65), (0.08, 0.15))

CREDIT_OFFICER = UserId("usr_credit_officer")
_ZERO = Decimal(0)
_RATIO = Decimal("0.01")
#: Synthetic names for the key persons of the basic information (controller, chairman, CFO).
_NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴婷", "徐刚")
#: Covenants are set at origination with headroom: at least 70% (DSCR) or 75% (current
#: ratio) of the ratio then, or at most 120% of it (debt to assets), so a borrower whose
#: figures worsen by more breaks them (about one in seven of a default book's covenants).
_COVENANT_METRICS = (
    (CovenantMetric.DSCR, CovenantBound.AT_LEAST, Decimal("0.70")),
    (CovenantMetric.CURRENT_RATIO, CovenantBound.AT_LEAST, Decimal("0.75")),
    (CovenantMetric.DEBT_TO_ASSETS, CovenantBound.AT_MOST, Decimal("1.20")),
)


def _u(rng: random.Random, bounds: tuple[float, float]) -> float:
    return rng.uniform(*bounds)


def statements(
    rng: random.Random,
    *,
    industry: str,
    total_assets: float,
    latest_period: date,
    years: int,
    currency: str,
    distressed: bool,
) -> list[FinancialStatement]:
    """`years` annual statements, oldest first, ending with `latest_period`.

    A distressed company's last year shows falling revenue and a thin margin.
    """
    profile = PROFILES.get(industry[0], DEFAULT_PROFILE)
    found: list[FinancialStatement] = []
    assets = total_assets / (1 + rng.uniform(-0.05, 0.15)) ** (years - 1)
    turnover, margin = _u(rng, profile.asset_turnover), _u(rng, profile.ebitda_margin)
    for k in range(years):
        last = k == years - 1
        if k:
            assets *= 1 + rng.uniform(-0.05, 0.15)
        revenue = assets * turnover * rng.uniform(0.9, 1.1)
        year_margin = margin * rng.uniform(0.85, 1.15)
        if distressed and last:
            revenue *= rng.uniform(0.55, 0.8)
            year_margin *= rng.uniform(-0.5, 0.4)
        current_assets = assets * _u(rng, profile.current_share)
        liabilities = assets * _u(rng, profile.debt_to_assets)
        current_liabilities = min(current_assets / _u(rng, profile.current_ratio), liabilities)
        ebitda = revenue * year_margin
        ebit = ebitda * rng.uniform(0.6, 0.8)
        interest = liabilities * rng.uniform(0.5, 0.7) * rng.uniform(0.035, 0.06)
        net_profit = (ebit - interest) * (0.75 if ebit > interest else 1)
        debt_service = interest + liabilities * rng.uniform(0.06, 0.14)

        def m(x: float) -> Money:
            return Money.of(round(x), currency)

        found.append(
            FinancialStatement(
                period_end=latest_period - relativedelta(years=years - 1 - k),
                currency=currency,
                current_assets=m(current_assets),
                total_assets=m(assets),
                current_liabilities=m(current_liabilities),
                total_liabilities=m(liabilities),
                equity=m(assets) - m(liabilities),
                revenue=m(revenue),
                ebitda=m(ebitda),
                ebit=m(ebit),
                interest_expense=m(interest),
                net_profit=m(net_profit),
                operating_cash_flow=m(ebitda * rng.uniform(0.5, 1.0)),
                debt_service=m(debt_service),
                audited=assets > 50_000_000 or rng.random() < 0.5,
            )
        )
    return found


def latest_period(as_of: date) -> date:
    """The year-end of the latest annual report available on `as_of` (reports are out by the
    end of April)."""
    year = as_of.year - 1 if as_of >= date(as_of.year, 5, 1) else as_of.year - 2
    return date(year, 12, 31)


def credit_file(
    ids: IdSource,
    rng: random.Random,
    *,
    customer_id: CustomerId,
    legal_name: str,
    as_of: date,
    history: list[FinancialStatement],
    refresh_cycle: RefreshCycle,
    overdue_elsewhere: bool,
    distressed: bool = False,
) -> CreditFile:
    """The customer's file: basic info naming its key persons (a new chairman this year for a
    few, more of the distressed), the statements (verified), a financial covenant set on the
    oldest statement for most, one bureau report."""
    file = CreditFile.open(ids, customer_id=customer_id, refresh_cycle=refresh_cycle)
    latest = history[-1]
    # the next annual report is due by the end of April after the next year-end
    statements_due = latest.period_end + relativedelta(months=16)
    basic_on = as_of - relativedelta(days=rng.randint(5, 60))
    # drawn from a generator of the customer's own, so the rest of the book stays as it was
    own = random.Random(f"creditmgmt-book-file:{customer_id}:{legal_name}")  # noqa: S311
    people = dict(zip(("controller", "chairman", "cfo"), own.sample(_NAMES, 3), strict=True))
    basic = {"legal_name": legal_name, "registered_capital": str(latest.equity.amount)}
    basic_info = partial(
        file.record,
        key="basic-info",
        section=Section.BASIC_INFO,
        source="national enterprise credit information publicity system",
        confidentiality=Confidentiality.PUBLIC,
    )
    if own.random() < (0.08 if distressed else 0.02):  # a new chairman this year
        basic_info(as_of=basic_on - relativedelta(days=own.randint(60, 300)), facts=basic | people)
        people["chairman"] = own.choice([n for n in _NAMES if n not in people.values()])
    basic_info(as_of=basic_on, facts=basic | people)
    for statement in history:
        key = f"fs-{statement.period_end.year}"
        file.record(
            key=key,
            section=Section.FINANCIAL_STATEMENTS,
            source="audited annual report" if statement.audited else "management accounts",
            as_of=statement.period_end,
            confidentiality=Confidentiality.CONFIDENTIAL,
            refresh_due=statements_due,
            financial_statement=statement,
        )
        file.verify(key, by=CREDIT_OFFICER, on=statement.period_end + relativedelta(months=4))
    if own.random() < 0.6:
        metric, bound, headroom = own.choice(_COVENANT_METRICS)
        first = history[0]
        ratio: Decimal | None = getattr(first, metric.value)  # the ratio it binds, then
        if ratio is not None and ratio > 0:
            file.record(
                key="covenant-1",
                section=Section.COVENANTS,
                source="loan agreement",
                as_of=first.period_end + relativedelta(months=4),
                confidentiality=Confidentiality.CONFIDENTIAL,
                refresh_due=as_of + relativedelta(years=1),
                covenant=Covenant(
                    metric=metric, bound=bound, threshold=(ratio * headroom).quantize(_RATIO)
                ),
            )
    report_date = as_of - relativedelta(days=rng.randint(5, 80))
    file.record(
        key="bureau",
        section=Section.CREDIT_RECORDS,
        source="PBOC credit reference centre",
        as_of=report_date,
        confidentiality=Confidentiality.SECRET,
        bureau_report=BureauReport(
            bureau="PBOC",
            report_date=report_date,
            overdue_at_other_banks=overdue_elsewhere,
            npl_share_all_banks=_npl_share(rng) if overdue_elsewhere else _ZERO,
            total_debt=latest.total_liabilities,
        ),
    )
    return file


def _npl_share(rng: random.Random) -> Decimal:
    return Decimal(rng.choice((0, 0, 5, 12, 25, 40))) / 100
