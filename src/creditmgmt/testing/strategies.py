"""Hypothesis strategies for the public domain types. Every generated object is valid.

    from creditmgmt.testing import strategies as cs

    @given(cs.customers())
    def test_round_trip(customer): ...

- one strategy per public type: values (`money()`, `rates()`, `valuations()`, `assessments()`,
  `financial_statements()`, ...) and aggregates (`customers()`, `facilities()`, `loans()`, ...);
  `for_type(T)` finds it, `register_type_strategies()` makes `st.from_type(T)` use them;
- aggregates are driven through their own operations (activated, frozen, partly repaid,
  decided, escalated, archived ...) so every field and state is exercised, not just defaults;
- `aggregates()` draws any stored aggregate kind — what a storage round-trip test needs;
  `domain_events()` draws the events those aggregates record.

Text strategies include Chinese, quotes, SQL-looking text, emoji and control characters on
purpose; never NUL or a lone surrogate, which the domain refuses (`domain.text.check_text`).
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from hypothesis import strategies as st

from creditmgmt.domain.application import Assessment, CreditApplication, Decision
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
    DocumentRef,
    FileEntry,
    FinancialStatement,
    LitigationCase,
    LitigationRole,
    RefreshCycle,
    Section,
)
from creditmgmt.domain.customer import Customer, CustomerKind, Segment
from creditmgmt.domain.errors import DomainError
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import (
    CollateralId,
    CustomerId,
    DrawdownId,
    EntityId,
    FacilityId,
    GroupId,
    GuaranteeId,
    UserId,
)
from creditmgmt.domain.interaction import Channel, FollowUpTask, Interaction, InteractionKind
from creditmgmt.domain.loan import Allocation, Drawdown, Repayment
from creditmgmt.domain.money import MINOR_UNITS, Money, Percentage, Rate
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.risk import RiskEvent, Severity
from creditmgmt.domain.schedule import (
    Amortisation,
    DayCount,
    Frequency,
    Installment,
    RepaymentSchedule,
)
from creditmgmt.testing.builders import a_facility_tree, make_uscc

T = TypeVar("T")

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
    return st.decimals(min_value=min_value, max_value=max_value, places=2)


def money(
    currency: str | None = "CNY", *, min_value: str = "0.01", max_value: str = str(MAX_AMOUNT)
) -> st.SearchStrategy[Money]:
    """Money of `currency` (any of `currencies()` when None), between the bounds."""
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
    return st.decimals(min_value="-100", max_value="1000", places=4).map(Percentage)


def identifiers(kind: type[EntityId]) -> st.SearchStrategy[EntityId]:
    """Fresh identifiers of one kind (`identifiers(CustomerId)`)."""
    return id_sources().map(kind.new)


def texts(*, min_size: int = 1, max_size: int = 60) -> st.SearchStrategy[str]:
    """Any text the domain accepts, plus hostile samples (quotes, SQL, controls, Chinese,
    emoji): no NUL, no lone surrogate."""
    alphabet = st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")
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
    """Aware timestamps in UTC and in other offsets (China Standard Time among them)."""
    zones = st.sampled_from([UTC, *(timezone(timedelta(hours=h)) for h in (8, -5, 5))])
    return st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=zones
    )


def users() -> st.SearchStrategy[UserId]:
    return st.integers(min_value=1, max_value=9999).map(lambda n: UserId(f"usr_{n:04d}"))


def uscc_codes() -> st.SearchStrategy[str]:
    """Valid unified social credit codes (random body, correct check digit)."""
    return st.integers(0, 999_999_999).map(make_uscc)


regions = st.sampled_from(["310000", "310115", "330100", "110000", "440300", "510100"])


@st.composite
def valuations(draw: st.DrawFn, currency: str = "CNY") -> Valuation:
    return Valuation(draw(money(currency)), draw(business_dates()), draw(names()))


@st.composite
def assessments(draw: st.DrawFn) -> Assessment:
    """A rating outcome, sometimes overridden (with reason and approver)."""
    grades = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"]
    overridden = draw(st.booleans())
    return Assessment(
        score=draw(st.none() | st.decimals(min_value="300", max_value="900", places=2)),
        pd=draw(st.decimals(min_value=0, max_value=1, places=6)),
        grade=draw(st.sampled_from(grades)),
        ruleset_ref=RULESET_REF,
        override_grade=draw(st.sampled_from(grades)) if overridden else None,
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
    return LitigationCase(
        case_id=draw(names()),
        claim=draw(money(min_value="0")),
        role=draw(st.sampled_from(list(LitigationRole))),
        status=draw(st.sampled_from(["pending", "judged", "enforced", "closed"])),
    )


def document_refs() -> st.SearchStrategy[DocumentRef]:
    return st.builds(DocumentRef, title=names(), reference=texts())


def file_entries() -> st.SearchStrategy[FileEntry]:
    """Live and archived entries of generated credit files."""
    return credit_files().flatmap(lambda cf: st.sampled_from(cf.entries))


@st.composite
def repayments(draw: st.DrawFn, currency: str = "CNY") -> Repayment:
    return Repayment(
        draw(money(currency)), draw(business_dates()), reference=draw(texts(min_size=0))
    )


# aggregates ----------------------------------------------------------------------------------
@st.composite
def customers(draw: st.DrawFn) -> Customer:
    """Customers of every kind, taken through a random part of their lifecycle."""
    ids = draw(id_sources())
    kind = draw(st.sampled_from(list(CustomerKind)))
    reg = None if kind is CustomerKind.INDIVIDUAL else draw(uscc_codes())
    customer = Customer.onboard(
        ids,
        kind=kind,
        legal_name=draw(names()),
        registration_id=reg,
        home_region=draw(regions),
        institution_region=draw(regions),
        funds_used_region=draw(st.none() | regions),
        industry_code=draw(st.sampled_from(["C3011", "F5191", "K7010", "A01", "C"])),
        segment=draw(st.sampled_from(list(Segment))),
        relationship_manager=draw(st.none() | users()),
    )
    on = draw(business_dates())
    steps = draw(
        st.lists(
            st.sampled_from(
                ["activate", "watchlist", "exit", "join", "leave", "segment", "verify", "rm"]
            ),
            max_size=6,
        )
    )
    for step in steps:
        if step == "activate":
            _attempt(partial(customer.activate, on=on))
        elif step == "watchlist":
            _attempt(partial(customer.watchlist, on=on, reason="covenant breach"))
        elif step == "exit":
            _attempt(partial(customer.exit, on=on, reason="relationship ended"))
        elif step == "join":
            _attempt(partial(customer.join_group, GroupId.new(ids)))
        elif step == "leave":
            customer.leave_group()
        elif step == "segment":
            _attempt(partial(customer.change_segment, draw(st.sampled_from(list(Segment)))))
        elif step == "verify":
            _attempt(partial(customer.verify_identity, on=on))
        else:
            _attempt(partial(customer.assign_manager, draw(st.none() | users())))
    return customer


@st.composite
def groups(draw: st.DrawFn) -> CustomerGroup:
    ids = draw(id_sources())
    group = CustomerGroup.form(ids, name=draw(names()), controller=draw(texts(min_size=0)))
    for _ in range(draw(st.integers(0, 4))):
        group.add_member(CustomerId.new(ids))
    remove_first: bool = draw(st.booleans())
    if group.members and remove_first:
        group.remove_member(group.members[0])
    if draw(st.booleans()):
        group.set_limit_facility(FacilityId.new(ids))
    return group


@st.composite
def facility_trees(draw: st.DrawFn) -> list[Facility]:
    """The nodes of a group tree with money drawn and reserved, statuses moved, links made."""
    ids = draw(id_sources())
    ccy = draw(currencies())
    build = a_facility_tree(
        ids,
        currency=ccy,
        group_limit="900000000000000.00",
        masters=("400000000000000.00", "300000000000000.00"),
        products=(
            (ProductType.WORKING_CAPITAL, "200000000000000.00"),
            (draw(st.sampled_from(list(ProductType))), "100000000000000.00"),
        ),
        start=draw(business_dates(max_value=date(2030, 12, 31))),
        term_months=draw(st.sampled_from([6, 12, 36])),
    )
    day = build.root.start_date
    for node in build.products:
        if draw(st.booleans()):
            amount = draw(money(ccy, max_value="10000000000.00"))
            build.limits.draw(node.id, amount, on=day)
            if draw(st.booleans()):
                build.limits.repay(node.id, amount, on=day)
        if draw(st.booleans()):
            build.limits.reserve(node.id, draw(money(ccy, max_value="1000000.00")), on=day)
    for node in build.nodes:
        action = draw(st.sampled_from(["none", "freeze", "suspend", "close", "cancel"]))
        if action != "none":
            _attempt(partial(getattr(node, action), on=day, reason="generated"))
        if draw(st.booleans()):
            node.link_collateral(CollateralId.new(ids))
            node.link_guarantee(GuaranteeId.new(ids))
        if draw(st.booleans()):
            node.note_credit_insurance(draw(texts(min_size=0)))
        if draw(st.booleans()):
            node.ruleset_ref = RULESET_REF
    return build.nodes


def facilities() -> st.SearchStrategy[Facility]:
    """Nodes of every level (group, customer master, product sub-limit) and status."""
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
        fee_per_installment=draw(st.none() | money(currency, min_value="0", max_value="500.00")),
    )


def installments() -> st.SearchStrategy[Installment]:
    return schedules().flatmap(lambda s: st.sampled_from(s.installments))


@st.composite
def loans(draw: st.DrawFn) -> Drawdown:
    """A loan with zero or more partial repayments applied, sometimes settled or written off."""
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
    if draw(st.integers(0, 9)) == 0:
        _attempt(lambda: loan.write_off(on=loan.schedule.maturity))
    return loan


@st.composite
def allocations(draw: st.DrawFn) -> Allocation:
    """How a repayment was applied to a fresh loan."""
    loan = Drawdown.book(
        draw(id_sources()),
        facility_id=FacilityId("fac_alloc"),
        customer_id=CustomerId("cus_alloc"),
        schedule=draw(schedules()),
    )
    part = draw(st.decimals(min_value="0.01", max_value=loan.total_owed.amount, places=2))
    return loan.apply(Repayment(Money(part, loan.currency), loan.drawn_on))


@st.composite
def applications(draw: st.DrawFn) -> CreditApplication:
    """Applications at every step of the workflow: approved, declined, withdrawn, activated."""
    ids = draw(id_sources())
    at = draw(timestamps())
    maker, checker = draw(users()), UserId("usr_checker")  # users() never draws the checker
    docs = tuple(draw(st.lists(st.sampled_from(["licence", "statements", "bureau"]), unique=True)))
    app = CreditApplication.draft(
        ids,
        customer_id=CustomerId.new(ids),
        product_type=draw(st.sampled_from(list(ProductType))),
        requested=draw(money(max_value="10000000000.00")),
        term_months=draw(st.integers(1, 360)),
        purpose=draw(texts(min_size=0)),
        maker=maker,
        at=at,
        documents_required=docs,
    )
    for doc in draw(st.lists(st.sampled_from(docs), unique=True)) if docs else []:
        app.receive_document(doc)
    assessment = draw(assessments())
    approved = draw(money(max_value=str(app.requested.amount)))
    decide: Callable[[], None] = draw(
        st.sampled_from(
            [
                lambda: app.approve(
                    by=checker,
                    at=at,
                    level="branch",
                    amount=approved,
                    conditions=("monthly statements",),
                    ruleset_ref=RULESET_REF,
                ),
                lambda: app.decline(
                    by=checker, at=at, level="regional", reason="weak", ruleset_ref=RULESET_REF
                ),
            ]
        )
    )
    actions: list[Callable[[], None]] = [
        lambda: app.submit(by=maker, at=at),
        lambda: app.start_review(by=checker, at=at),
        lambda: app.record_assessment(assessment, by=checker, at=at),
        lambda: app.send_for_approval(by=checker, at=at),
        decide,
        lambda: app.contract(by=checker, at=at),
        lambda: app.activate(FacilityId.new(ids), by=checker, at=at),
    ]
    for action in actions[: draw(st.integers(0, len(actions)))]:
        _attempt(action)
    if draw(st.integers(0, 5)) == 0:
        _attempt(lambda: app.withdraw(by=maker, at=at, reason="no longer needed"))
    return app


def decisions() -> st.SearchStrategy[Decision]:
    """Approval and decline decisions, taken from decided applications."""
    return applications().filter(lambda a: a.decision is not None).map(lambda a: a.decision)  # type: ignore[arg-type,return-value]


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
        rule_ref=f"{RULESET_REF}/EW",
        reason_code=draw(texts()),
    )
    by = UserId("usr_risk")
    steps = draw(st.lists(st.sampled_from(["ack", "escalate", "resolve", "note"]), max_size=4))
    for step in steps:
        handle = {
            "ack": event.acknowledge,
            "escalate": event.escalate,
            "resolve": event.resolve,
            "note": event.add_note,
        }[step]
        _attempt(partial(handle, by=by, at=at, note=draw(texts(min_size=1))))
    return event


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    ids = draw(id_sources())
    kind = draw(st.sampled_from(list(InteractionKind)))
    item = Interaction.log(
        ids,
        customer_id=CustomerId.new(ids),
        kind=kind,
        channel=draw(st.sampled_from(list(Channel))),
        at=draw(timestamps()),
        by=draw(users()),
        summary=draw(texts(min_size=0, max_size=200)),
        survey_score=draw(st.integers(1, 5)) if kind is InteractionKind.SURVEY else None,
    )
    if kind is InteractionKind.COMPLAINT and draw(st.booleans()):
        item.resolve_complaint(draw(texts()))
    return item


@st.composite
def tasks(draw: st.DrawFn) -> FollowUpTask:
    ids = draw(id_sources())
    task = FollowUpTask.schedule(
        ids,
        customer_id=CustomerId.new(ids),
        title=draw(names()),
        due=draw(business_dates()),
        assignee=draw(users()),
        reminder_lead_days=draw(st.integers(0, 30)),
    )
    step = draw(st.sampled_from(["open", "reschedule", "complete", "cancel"]))
    on = draw(business_dates())
    if step == "reschedule":
        task.reschedule(on)
    elif step == "complete":
        task.complete(on=on)
    elif step == "cancel":
        task.cancel(on=on)
    return task


@st.composite
def credit_files(draw: st.DrawFn) -> CreditFile:
    """A credit file with entries in every section, some verified, replaced or archived."""
    ids = draw(id_sources())
    cycle = draw(st.sampled_from(list(RefreshCycle)))
    cf = CreditFile.open(ids, customer_id=CustomerId.new(ids), refresh_cycle=cycle)
    as_of = draw(business_dates(max_value=date(2030, 1, 1)))
    confidentiality = st.sampled_from(list(Confidentiality))
    cf.record(
        key="fs-latest",
        section=Section.FINANCIAL_STATEMENTS,
        source=draw(names()),
        as_of=as_of,
        confidentiality=draw(confidentiality),
        financial_statement=draw(financial_statements()),
    )
    cf.record(
        key="bureau",
        section=Section.CREDIT_RECORDS,
        source="PBOC",
        as_of=as_of,
        confidentiality=draw(confidentiality),
        bureau_report=draw(bureau_reports()),
    )
    cf.record(
        key="basic",
        section=Section.BASIC_INFO,
        source=draw(names()),
        as_of=as_of,
        facts={"legal_representative": draw(names()), "address": draw(texts())},
    )
    if draw(st.booleans()):
        cf.record(
            key="case-1",
            section=Section.LITIGATION,
            source="court registry",
            as_of=as_of,
            litigation=draw(litigation_cases()),
        )
    if draw(st.booleans()):
        cf.record(
            key="licence",
            section=Section.DOCUMENTS,
            source="SAMR",
            as_of=as_of,
            refresh_due=as_of + timedelta(days=draw(st.integers(1, 800))),
            document=draw(document_refs()),
        )
    if draw(st.booleans()):
        cf.verify("basic", by=draw(users()), on=as_of)
    if draw(st.booleans()):  # a refreshed record archives the one it replaces
        cf.record(
            key="basic",
            section=Section.BUSINESS_STATUS if draw(st.booleans()) else Section.BASIC_INFO,
            source=draw(names()),
            as_of=as_of + timedelta(days=90),
        )
    if draw(st.integers(0, 4)) == 0:
        cf.archive(on=as_of + timedelta(days=400))
    return cf


@st.composite
def classification_entries(draw: st.DrawFn) -> ClassificationEntry:
    ids = draw(id_sources())
    return ClassificationEntry.decide(
        ids,
        customer_id=CustomerId.new(ids),
        facility_id=FacilityId.new(ids),
        drawdown_id=draw(st.none() | st.just(DrawdownId.new(ids))),
        as_of=draw(business_dates()),
        category=draw(st.sampled_from(list(Category))),
        previous_category=draw(st.none() | st.sampled_from(list(Category))),
        stage=draw(st.sampled_from(list(Stage))),
        dpd=draw(st.integers(0, 2000)),
        provision=draw(st.none() | money(min_value="0")),
        ruleset_ref=RULESET_REF,
        reason=draw(texts(min_size=0)),
        decided_by=draw(st.none() | users()),
    )


@st.composite
def collaterals(draw: st.DrawFn) -> Collateral:
    ids = draw(id_sources())
    currency = draw(currencies())
    item = Collateral.register(
        ids,
        type=draw(st.sampled_from(list(CollateralType))),
        owner_name=draw(names()),
        owner_id=draw(st.none() | st.just(CustomerId.new(ids))),
        valuation=draw(valuations(currency)),
        haircut=Rate.of(draw(st.decimals(min_value=0, max_value="0.95", places=2))),
        description=draw(texts(min_size=0)),
        revaluation_due=draw(st.none() | business_dates()),
    )
    if draw(st.booleans()):
        item.revalue(draw(valuations(currency)), next_due=draw(st.none() | business_dates()))
    return item


@st.composite
def guarantees(draw: st.DrawFn) -> Guarantee:
    ids = draw(id_sources())
    return Guarantee.register(
        ids,
        type=draw(st.sampled_from(list(GuaranteeType))),
        guarantor_name=draw(names()),
        guarantor_id=draw(st.none() | st.just(CustomerId.new(ids))),
        amount=draw(money(None)),
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


def domain_events() -> st.SearchStrategy[DomainEvent]:
    """Events recorded by generated aggregates (every aggregate records at least one)."""
    return (
        aggregates()
        .filter(lambda a: bool(a.pending_events))
        .flatmap(lambda a: st.sampled_from(a.pending_events))
    )


# lookup --------------------------------------------------------------------------------------
def _strategy_table() -> dict[type[Any], Callable[[], st.SearchStrategy[Any]]]:
    return {
        Money: lambda: money(None),
        Rate: rates,
        Percentage: percentages,
        Valuation: valuations,
        Assessment: assessments,
        Decision: decisions,
        FinancialStatement: financial_statements,
        BureauReport: bureau_reports,
        LitigationCase: litigation_cases,
        DocumentRef: document_refs,
        FileEntry: file_entries,
        Repayment: repayments,
        Installment: installments,
        Allocation: allocations,
        RepaymentSchedule: schedules,
        Customer: customers,
        CustomerGroup: groups,
        Facility: facilities,
        Drawdown: loans,
        CreditApplication: applications,
        RiskEvent: risk_events,
        Interaction: interactions,
        FollowUpTask: tasks,
        CreditFile: credit_files,
        ClassificationEntry: classification_entries,
        Collateral: collaterals,
        Guarantee: guarantees,
        Aggregate: aggregates,
        DomainEvent: domain_events,
    }


def for_type(cls: type[T]) -> st.SearchStrategy[T]:
    """The strategy for a public domain type (identifier kinds included).

    Raises:
        KeyError: no strategy is known for `cls`.
    """
    if isinstance(cls, type) and issubclass(cls, EntityId) and cls is not EntityId:
        return identifiers(cls)  # type: ignore[return-value]
    try:
        return _strategy_table()[cls]()
    except KeyError:
        raise KeyError(f"no creditmgmt strategy for {cls.__name__}") from None


def register_type_strategies() -> None:
    """Make `st.from_type(T)` / `st.builds(...)` use these strategies for the domain types.

    Call it once from a conftest; importing this module registers nothing.
    """
    for cls, make in _strategy_table().items():
        st.register_type_strategy(cls, make())
    for kind in _identifier_kinds():
        st.register_type_strategy(kind, identifiers(kind))


def _identifier_kinds() -> list[type[EntityId]]:
    found: list[type[EntityId]] = []
    stack = list(EntityId.__subclasses__())
    while stack:
        kind = stack.pop()
        stack.extend(kind.__subclasses__())
        found.append(kind)
    return found
