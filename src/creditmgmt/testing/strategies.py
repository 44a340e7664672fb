"""Hypothesis strategies for the public domain types. Every generated object is valid.

    from creditmgmt.testing import strategies as cs

    @given(cs.customers())
    def test_round_trip(customer): ...

`aggregates()` draws any stored aggregate kind — what a storage round-trip test needs.
Text strategies include Chinese, quotes, SQL-looking text and NUL characters on purpose.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from creditmgmt.domain.application import Assessment, CreditApplication
from creditmgmt.domain.classification import Category, ClassificationEntry, Stage
from creditmgmt.domain.collateral import (
    Collateral,
    CollateralType,
    Guarantee,
    GuaranteeType,
    Valuation,
)
from creditmgmt.domain.credit_file import (
    BureauReport,
    Confidentiality,
    CreditFile,
    RefreshCycle,
    Section,
)
from creditmgmt.domain.customer import Customer, CustomerKind, Segment
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import CustomerId, FacilityId, UserId
from creditmgmt.domain.interaction import Channel, FollowUpTask, Interaction, InteractionKind
from creditmgmt.domain.loan import Drawdown, Repayment
from creditmgmt.domain.money import Money, Rate
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.risk import RiskEvent, Severity
from creditmgmt.domain.schedule import Amortisation, DayCount, Frequency, RepaymentSchedule
from creditmgmt.testing.builders import a_facility_tree, a_statement, make_uscc

MAX_AMOUNT = Decimal("999999999999999.99")
HOSTILE = ("'; DROP TABLE customers; --", "a\"b'c", "\x00nul\x00", "\\", "上海浦东发展", "😀")


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
    return st.randoms(use_true_random=False).map(DrawnIds)


def currencies() -> st.SearchStrategy[str]:
    return st.sampled_from(["CNY", "USD", "HKD", "EUR", "JPY"])


def amounts(
    *, min_value: Decimal = Decimal("0.01"), max_value: Decimal = MAX_AMOUNT
) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=min_value, max_value=max_value, places=2)


def money(
    currency: str | None = "CNY", *, min_value: str = "0.01", max_value: str = str(MAX_AMOUNT)
) -> st.SearchStrategy[Money]:
    ccy = st.just(currency) if currency else currencies()
    built = st.builds(
        Money.of, amounts(min_value=Decimal(min_value), max_value=Decimal(max_value)), ccy
    )
    # quantising to the currency (0 places for JPY) must not turn a positive amount into zero
    return built.filter(lambda m: m.is_positive) if Decimal(min_value) > 0 else built


def texts(*, min_size: int = 1, max_size: int = 60) -> st.SearchStrategy[str]:
    """Any unicode text, plus hostile samples (quotes, SQL, NUL, Chinese, emoji)."""
    alphabet = st.characters(blacklist_categories=["Cs"])
    return st.one_of(
        st.sampled_from(HOSTILE), st.text(alphabet, min_size=min_size, max_size=max_size)
    )


def names() -> st.SearchStrategy[str]:
    return texts(max_size=80).filter(lambda s: bool(s.strip()))


def business_dates(
    *, min_value: date = date(2020, 1, 1), max_value: date = date(2035, 12, 31)
) -> st.SearchStrategy[date]:
    return st.dates(min_value=min_value, max_value=max_value)


def timestamps() -> st.SearchStrategy[datetime]:
    return st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
    )


def users() -> st.SearchStrategy[UserId]:
    return st.integers(min_value=1, max_value=9999).map(lambda n: UserId(f"usr_{n:04d}"))


def uscc_codes() -> st.SearchStrategy[str]:
    """Valid unified social credit codes (random body, correct check digit)."""
    return st.integers(0, 999_999_999).map(make_uscc)


regions = st.sampled_from(["310000", "310115", "330100", "110000", "440300", "510100"])


@st.composite
def customers(draw: st.DrawFn) -> Customer:
    kind = draw(st.sampled_from(list(CustomerKind)))
    reg = None if kind is CustomerKind.INDIVIDUAL else draw(uscc_codes())
    customer = Customer.onboard(
        draw(id_sources()),
        kind=kind,
        legal_name=draw(names()),
        registration_id=reg,
        home_region=draw(regions),
        institution_region=draw(regions),
        funds_used_region=draw(st.none() | regions),
        industry_code=draw(st.sampled_from(["C3011", "F5191", "K7010", "A01"])),
        segment=draw(st.sampled_from(list(Segment))),
        relationship_manager=draw(st.none() | users()),
    )
    if draw(st.booleans()):
        customer.activate(on=draw(business_dates()))
    return customer


@st.composite
def groups(draw: st.DrawFn) -> CustomerGroup:
    ids = draw(id_sources())
    group = CustomerGroup.form(ids, name=draw(names()), controller=draw(texts(min_size=0)))
    for _ in range(draw(st.integers(0, 4))):
        group.add_member(CustomerId.new(ids))
    return group


@st.composite
def facility_trees(draw: st.DrawFn) -> list[Facility]:
    """The nodes of an activated group tree with some money drawn and reserved."""
    ids = draw(id_sources())
    ccy = draw(currencies())
    build = a_facility_tree(
        ids,
        currency=ccy,
        group_limit="900000000000000.00",
        masters=("400000000000000.00", "300000000000000.00"),
        products=((ProductType.WORKING_CAPITAL, "200000000000000.00"),),
    )
    for node in build.products:
        if draw(st.booleans()):
            amount = draw(money(ccy, max_value="100000000000000.00"))
            build.limits.draw(node.id, amount, on=build.root.start_date)
        if draw(st.booleans()):
            reserve = draw(money(ccy, max_value="1000000.00"))
            build.limits.reserve(node.id, reserve, on=build.root.start_date)
    return build.nodes


def facilities() -> st.SearchStrategy[Facility]:
    return facility_trees().flatmap(st.sampled_from)


@st.composite
def schedules(draw: st.DrawFn, currency: str = "CNY") -> RepaymentSchedule:
    frequency = draw(st.sampled_from(list(Frequency)))
    periods = draw(st.integers(1, 40))
    return RepaymentSchedule.build(
        principal=draw(money(currency, max_value="100000000000.00")),
        annual_rate=Rate.of(draw(st.decimals(min_value=0, max_value="0.36", places=4))),
        start=draw(business_dates(max_value=date(2030, 12, 31))),
        term_months=periods * frequency.months,
        amortisation=draw(st.sampled_from(list(Amortisation))),
        frequency=frequency,
        day_count=draw(st.sampled_from(list(DayCount))),
        end_of_month=draw(st.booleans()),
    )


@st.composite
def loans(draw: st.DrawFn) -> Drawdown:
    """A loan with zero or more partial repayments applied."""
    ids = draw(id_sources())
    loan = Drawdown.book(
        ids,
        facility_id=FacilityId.new(ids),
        customer_id=CustomerId.new(ids),
        schedule=draw(schedules()),
    )
    for _ in range(draw(st.integers(0, 3))):
        owed = loan.total_owed
        if owed.is_zero:
            break
        part = draw(st.decimals(min_value="0.01", max_value=owed.amount, places=2))
        when = loan.drawn_on + timedelta(days=draw(st.integers(0, 2000)))
        loan.apply(Repayment(Money(part, loan.currency), when, reference=draw(texts(min_size=0))))
    return loan


@st.composite
def applications(draw: st.DrawFn) -> CreditApplication:
    ids = draw(id_sources())
    at = draw(timestamps())
    maker, checker = UserId("usr_maker"), UserId("usr_checker")
    app = CreditApplication.draft(
        ids,
        customer_id=CustomerId.new(ids),
        product_type=draw(st.sampled_from(list(ProductType))),
        requested=draw(money(max_value="10000000000.00")),
        term_months=draw(st.integers(1, 360)),
        purpose=draw(texts(min_size=0)),
        maker=maker,
        at=at,
    )
    steps = draw(st.integers(0, 7))
    assessment = Assessment(
        score=Decimal("612.5"), pd=Decimal("0.0123"), grade="BB", ruleset_ref="x@1#a"
    )
    actions: list[Callable[[], None]] = [
        lambda: app.submit(by=maker, at=at),
        lambda: app.start_review(by=checker, at=at),
        lambda: app.record_assessment(assessment, by=checker, at=at),
        lambda: app.send_for_approval(by=checker, at=at),
        lambda: app.approve(by=checker, at=at, level="branch", ruleset_ref="x@1#a"),
        lambda: app.contract(by=checker, at=at),
        lambda: app.activate(FacilityId.new(ids), by=checker, at=at),
    ]
    for action in actions[:steps]:
        action()
    return app


@st.composite
def risk_events(draw: st.DrawFn) -> RiskEvent:
    ids = draw(id_sources())
    at = draw(timestamps())
    event = RiskEvent.raise_(
        ids,
        type=draw(st.sampled_from(["EW-R-DPD", "EW-Y-UTIL", "EW-R-LITIGATION"])),
        severity=draw(st.sampled_from(list(Severity))),
        customer_id=CustomerId.new(ids),
        facility_id=draw(st.none() | st.just(FacilityId.new(ids))),
        detected_at=at,
        business_date=at.date(),
        rule_ref="cn-2023@1.0.0#000000000000/EW",
        reason_code=draw(texts()),
    )
    if draw(st.booleans()):
        event.acknowledge(by=UserId("usr_risk"), at=at, note=draw(texts(min_size=0)))
    return event


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    ids = draw(id_sources())
    kind = draw(st.sampled_from(list(InteractionKind)))
    return Interaction.log(
        ids,
        customer_id=CustomerId.new(ids),
        kind=kind,
        channel=draw(st.sampled_from(list(Channel))),
        at=draw(timestamps()),
        by=draw(users()),
        summary=draw(texts(min_size=0, max_size=200)),
        survey_score=draw(st.integers(1, 5)) if kind is InteractionKind.SURVEY else None,
    )


@st.composite
def tasks(draw: st.DrawFn) -> FollowUpTask:
    ids = draw(id_sources())
    return FollowUpTask.schedule(
        ids,
        customer_id=CustomerId.new(ids),
        title=draw(names()),
        due=draw(business_dates()),
        assignee=draw(users()),
        reminder_lead_days=draw(st.integers(0, 30)),
    )


@st.composite
def credit_files(draw: st.DrawFn) -> CreditFile:
    ids = draw(id_sources())
    cycle = draw(st.sampled_from(list(RefreshCycle)))
    cf = CreditFile.open(ids, customer_id=CustomerId.new(ids), refresh_cycle=cycle)
    as_of = draw(business_dates(max_value=date(2030, 1, 1)))
    cf.record(
        key="fs-latest",
        section=Section.FINANCIAL_STATEMENTS,
        source=draw(names()),
        as_of=as_of,
        financial_statement=a_statement(period_end=as_of, revenue=str(draw(amounts()))),
    )
    cf.record(
        key="bureau",
        section=Section.CREDIT_RECORDS,
        source="PBOC",
        as_of=as_of,
        confidentiality=draw(st.sampled_from(list(Confidentiality))),
        bureau_report=BureauReport(
            bureau="PBOC",
            report_date=as_of,
            overdue_at_other_banks=draw(st.booleans()),
            npl_share_all_banks=draw(st.decimals(min_value=0, max_value=1, places=4)),
            total_debt=draw(money()),
        ),
    )
    cf.record(
        key="basic",
        section=Section.BASIC_INFO,
        source=draw(names()),
        as_of=as_of,
        facts={"legal_representative": draw(names()), "address": draw(texts())},
    )
    return cf


@st.composite
def classification_entries(draw: st.DrawFn) -> ClassificationEntry:
    ids = draw(id_sources())
    return ClassificationEntry.decide(
        ids,
        customer_id=CustomerId.new(ids),
        facility_id=FacilityId.new(ids),
        as_of=draw(business_dates()),
        category=draw(st.sampled_from(list(Category))),
        previous_category=draw(st.none() | st.sampled_from(list(Category))),
        stage=draw(st.sampled_from(list(Stage))),
        dpd=draw(st.integers(0, 2000)),
        provision=draw(st.none() | money()),
        ruleset_ref="cn-2023@1.0.0#0123456789ab",
        reason=draw(texts(min_size=0)),
    )


@st.composite
def collaterals(draw: st.DrawFn) -> Collateral:
    ids = draw(id_sources())
    return Collateral.register(
        ids,
        type=draw(st.sampled_from(list(CollateralType))),
        owner_name=draw(names()),
        valuation=Valuation(draw(money()), draw(business_dates()), draw(names())),
        haircut=Rate.of(draw(st.decimals(min_value=0, max_value="0.95", places=2))),
        description=draw(texts(min_size=0)),
    )


@st.composite
def guarantees(draw: st.DrawFn) -> Guarantee:
    ids = draw(id_sources())
    return Guarantee.register(
        ids,
        type=draw(st.sampled_from(list(GuaranteeType))),
        guarantor_name=draw(names()),
        amount=draw(money()),
        valid_until=draw(business_dates()),
        guarantor_registration_id=draw(st.none() | uscc_codes()),
    )


def aggregates() -> st.SearchStrategy[Aggregate]:
    """Any stored aggregate kind."""
    return st.one_of(
        customers(),
        groups(),
        facilities(),
        loans(),
        applications(),
        risk_events(),
        interactions(),
        tasks(),
        credit_files(),
        classification_entries(),
        collaterals(),
        guarantees(),
    )
