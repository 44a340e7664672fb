"""Lending: facility limit trees, schedules, loans, applications, collateral and guarantees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import partial

from hypothesis import strategies as st

from creditmgmt.domain.application import ApplicationStatus, CreditApplication, Decision
from creditmgmt.domain.collateral import Collateral, CollateralType, Guarantee, GuaranteeType
from creditmgmt.domain.facility import Facility, LimitTree
from creditmgmt.domain.ids import (
    CollateralId,
    CustomerId,
    FacilityId,
    GuaranteeId,
    IdSource,
    UserId,
)
from creditmgmt.domain.loan import Allocation, Drawdown, Repayment
from creditmgmt.domain.money import MINOR_UNITS, Money, Rate
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.schedule import (
    Amortisation,
    DayCount,
    Frequency,
    Installment,
    RepaymentSchedule,
)
from creditmgmt.testing.builders import TreeBuild, a_facility_tree
from creditmgmt.testing.strategies.values import (
    RULESET_REF,
    _attempt,
    assessments,
    business_dates,
    currencies,
    id_sources,
    money,
    names,
    texts,
    timestamps,
    uscc_codes,
    users,
    valuations,
)


def _split(total: Decimal, parts: int, currency: str) -> str:
    """`total / parts`, rounded down to the currency's minor unit (children never exceed)."""
    unit = Decimal(1).scaleb(-MINOR_UNITS[currency])
    return str((total / parts).quantize(unit, rounding=ROUND_DOWN))


def _tree_build(
    draw: st.DrawFn,
    ids: IdSource,
    *,
    currency: str,
    depth: int,
    width: int,
    limit: Decimal,
    start: date,
    term_months: int,
) -> TreeBuild:
    """One active tree drawn inside a composite: a group limit (depth 1), customer masters
    under it (depth 2, `width` of them), product sub-limits under each (depth 3, `width`)."""
    masters = width if depth >= 2 else 0
    master_limit = _split(limit, max(masters, 1), currency)
    product_limit = _split(Decimal(master_limit), width, currency)
    kinds = draw(st.lists(st.sampled_from(list(ProductType)), min_size=width, max_size=width))
    return a_facility_tree(
        ids,
        currency=currency,
        group_limit=str(limit),
        masters=(master_limit,) * masters,
        products=tuple((k, product_limit) for k in kinds) if depth >= 3 else (),
        start=start,
        term_months=term_months,
    )


@st.composite
def limit_trees(
    draw: st.DrawFn,
    *,
    currency: str | None = None,
    min_depth: int = 1,
    max_depth: int = 3,
    min_width: int = 1,
    max_width: int = 3,
    min_limit: str = "1000000.00",
    max_limit: str = "900000000000000.00",
    moved: bool = True,
) -> LimitTree:
    """A complete limit tree that keeps every invariant (`violations() == []`).

    Depth 1 is a group limit alone, 2 adds `width` customer master limits, 3 adds `width`
    product sub-limits under each master. Sub-limits share their parent's limit evenly. With
    `moved` (the default) money is drawn, repaid and reserved on the leaves, nodes are frozen,
    suspended, closed or cancelled, and collateral, guarantees and notes are linked.

    Raises:
        hypothesis.errors.InvalidArgument: bounds out of order, or depth outside 1..3.
    """
    if not 1 <= min_depth <= max_depth <= 3:
        from hypothesis.errors import InvalidArgument

        raise InvalidArgument(f"depth bounds must satisfy 1 <= {min_depth} <= {max_depth} <= 3")
    ids = draw(id_sources())
    ccy = currency or draw(currencies())
    places = MINOR_UNITS[ccy]
    limit = draw(
        st.decimals(min_value=Decimal(min_limit), max_value=Decimal(max_limit), places=places)
    )
    build = _tree_build(
        draw,
        ids,
        currency=ccy,
        depth=draw(st.integers(min_depth, max_depth)),
        width=draw(st.integers(min_width, max_width)),
        limit=limit,
        start=draw(business_dates(max_value=date(2030, 12, 31))),
        term_months=draw(st.sampled_from([6, 12, 36])),
    )
    if moved:
        _move(draw, ids, build)
    return build.limits


def _leaves(build: TreeBuild) -> list[Facility]:
    return build.products or build.masters or [build.root]


def _move(draw: st.DrawFn, ids: IdSource, build: TreeBuild) -> None:
    """Draw, repay and reserve within each leaf's limit; then move statuses and link things."""
    day = build.root.start_date
    ccy = build.root.currency
    for node in _leaves(build):
        half = node.limit.amount / 2
        if half >= Decimal(1).scaleb(-MINOR_UNITS[ccy]) and draw(st.booleans()):
            amount = draw(money(ccy, max_value=str(half)))
            build.limits.draw(node.id, amount, on=day)
            if draw(st.booleans()):
                build.limits.repay(node.id, amount, on=day)
        if half >= Decimal(1).scaleb(-MINOR_UNITS[ccy]) and draw(st.booleans()):
            build.limits.reserve(node.id, draw(money(ccy, max_value=str(half))), on=day)
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


def facility_trees(
    *,
    currency: str | None = None,
    min_depth: int = 3,
    max_depth: int = 3,
    min_width: int = 1,
    max_width: int = 3,
    min_limit: str = "1000000.00",
    max_limit: str = "900000000000000.00",
) -> st.SearchStrategy[list[Facility]]:
    """The nodes of a moved limit tree (see `limit_trees` for the bounds), root first."""
    return limit_trees(
        currency=currency,
        min_depth=min_depth,
        max_depth=max_depth,
        min_width=min_width,
        max_width=max_width,
        min_limit=min_limit,
        max_limit=max_limit,
    ).map(lambda tree: tree.nodes)


def facilities(
    *,
    currency: str | None = None,
    min_limit: str = "1000000.00",
    max_limit: str = "900000000000000.00",
) -> st.SearchStrategy[Facility]:
    """Nodes of every level (group, customer master, product sub-limit) and status, taken
    from moved trees of `currency` whose root limit lies between the bounds."""
    return facility_trees(currency=currency, min_limit=min_limit, max_limit=max_limit).flatmap(
        st.sampled_from
    )


@st.composite
def schedules(
    draw: st.DrawFn,
    currency: str = "CNY",
    *,
    min_principal: str = "0.01",
    max_principal: str = "100000000000.00",
    start: date | None = None,
    max_periods: int = 40,
) -> RepaymentSchedule:
    """Repayment schedules of every amortisation, frequency and day count, sometimes with a
    fee per installment; principal between the bounds, starting on `start` (drawn if None)."""
    frequency = draw(st.sampled_from(list(Frequency)))
    periods = draw(st.integers(1, max_periods))
    return RepaymentSchedule.build(
        principal=draw(money(currency, min_value=min_principal, max_value=max_principal)),
        annual_rate=Rate.of(draw(st.decimals(min_value=0, max_value="0.36", places=4))),
        start=start or draw(business_dates(max_value=date(2030, 12, 31))),
        term_months=periods * frequency.months,
        amortisation=draw(st.sampled_from(list(Amortisation))),
        frequency=frequency,
        day_count=draw(st.sampled_from(list(DayCount))),
        end_of_month=draw(st.booleans()),
        fee_per_installment=draw(st.none() | money(currency, min_value="0", max_value="500.00")),
    )


def installments() -> st.SearchStrategy[Installment]:
    """Installments of generated schedules."""
    return schedules().flatmap(lambda s: st.sampled_from(s.installments))


@st.composite
def loans(
    draw: st.DrawFn, *, currency: str = "CNY", max_repayments: int = 3, write_offs: bool = True
) -> Drawdown:
    """A loan with up to `max_repayments` partial repayments applied, sometimes settled, and
    (unless `write_offs=False`) sometimes written off."""
    ids = draw(id_sources())
    loan = Drawdown.book(
        ids,
        facility_id=FacilityId.new(ids),
        customer_id=CustomerId.new(ids),
        schedule=draw(schedules(currency)),
    )
    for _ in range(draw(st.integers(0, max_repayments))):
        owed = loan.total_owed
        if owed.is_zero:
            break
        part = draw(st.decimals(min_value="0.01", max_value=owed.amount, places=2))
        when = loan.drawn_on + timedelta(days=draw(st.integers(0, 2000)))
        loan.apply(Repayment(Money(part, loan.currency), when, reference=draw(texts(min_size=0))))
    if write_offs and draw(st.integers(0, 9)) == 0:
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


#: how many workflow steps lead to each status (approve is step 5, decline its alternative)
_STEPS = {
    ApplicationStatus.DRAFT: 0,
    ApplicationStatus.SUBMITTED: 1,
    ApplicationStatus.UNDER_REVIEW: 2,
    ApplicationStatus.ASSESSED: 3,
    ApplicationStatus.PENDING_APPROVAL: 4,
    ApplicationStatus.APPROVED: 5,
    ApplicationStatus.DECLINED: 5,
    ApplicationStatus.CONTRACTED: 6,
    ApplicationStatus.ACTIVATED: 7,
}


@st.composite
def applications(
    draw: st.DrawFn,
    *,
    status: ApplicationStatus | None = None,
    customer_id: CustomerId | None = None,
    currency: str = "CNY",
) -> CreditApplication:
    """Applications at every step of the workflow: approved, declined, withdrawn, activated.

    `status` draws only applications in that status (reached through the workflow, maker and
    checker kept apart); `customer_id` sets the applicant.
    """
    ids = draw(id_sources())
    at = draw(timestamps())
    maker, checker = draw(users()), UserId("usr_checker")  # users() never draws the checker
    docs = tuple(draw(st.lists(st.sampled_from(["licence", "statements", "bureau"]), unique=True)))
    app = CreditApplication.draft(
        ids,
        customer_id=customer_id or CustomerId.new(ids),
        product_type=draw(st.sampled_from(list(ProductType))),
        requested=draw(money(currency, max_value="10000000000.00")),
        term_months=draw(st.integers(1, 360)),
        purpose=draw(texts(min_size=0)),
        maker=maker,
        at=at,
        documents_required=docs,
    )
    # asking for a status needs every document (submit refuses without them)
    received = list(docs) if status is not None or not docs else None
    if received is None:
        received = draw(st.lists(st.sampled_from(docs), unique=True))
    for doc in received:
        app.receive_document(doc)
    assessment = draw(assessments())
    approved = draw(money(currency, max_value=str(app.requested.amount)))
    approve: Callable[[], None] = lambda: app.approve(  # noqa: E731
        by=checker,
        at=at,
        level="branch",
        amount=approved,
        conditions=("monthly statements",),
        ruleset_ref=RULESET_REF,
    )
    decline: Callable[[], None] = lambda: app.decline(  # noqa: E731
        by=checker, at=at, level="regional", reason="weak", ruleset_ref=RULESET_REF
    )
    if status is ApplicationStatus.DECLINED:
        decide = decline
    elif status is not None:
        decide = approve
    else:
        decide = draw(st.sampled_from([approve, decline]))
    actions: list[Callable[[], None]] = [
        lambda: app.submit(by=maker, at=at),
        lambda: app.start_review(by=checker, at=at),
        lambda: app.record_assessment(assessment, by=checker, at=at),
        lambda: app.send_for_approval(by=checker, at=at),
        decide,
        lambda: app.contract(by=checker, at=at),
        lambda: app.activate(FacilityId.new(ids), by=checker, at=at),
    ]
    if status is None:
        for action in actions[: draw(st.integers(0, len(actions)))]:
            _attempt(action)
        if draw(st.integers(0, 5)) == 0:
            _attempt(lambda: app.withdraw(by=maker, at=at, reason="no longer needed"))
    elif status is ApplicationStatus.WITHDRAWN:
        for action in actions[: draw(st.integers(0, 3))]:
            action()
        app.withdraw(by=maker, at=at, reason="no longer needed")
    else:
        for action in actions[: _STEPS[status]]:
            action()
    return app


def decisions() -> st.SearchStrategy[Decision]:
    """Approval and decline decisions, taken from decided applications."""
    return st.sampled_from([ApplicationStatus.APPROVED, ApplicationStatus.DECLINED]).flatmap(
        lambda s: applications(status=s).map(lambda a: a.decision)  # type: ignore[arg-type,return-value]
    )


@st.composite
def collaterals(
    draw: st.DrawFn, *, currency: str | None = None, owner_id: CustomerId | None = None
) -> Collateral:
    """Registered collateral of every type, valued in `currency`, sometimes revalued; owned
    by `owner_id` when given (else sometimes by a customer, sometimes by a third party)."""
    ids = draw(id_sources())
    currency = currency or draw(currencies())
    item = Collateral.register(
        ids,
        type=draw(st.sampled_from(list(CollateralType))),
        owner_name=draw(names()),
        owner_id=owner_id or draw(st.none() | st.just(CustomerId.new(ids))),
        valuation=draw(valuations(currency)),
        haircut=Rate.of(draw(st.decimals(min_value=0, max_value="0.95", places=2))),
        description=draw(texts(min_size=0)),
        revaluation_due=draw(st.none() | business_dates()),
    )
    if draw(st.booleans()):
        item.revalue(draw(valuations(currency)), next_due=draw(st.none() | business_dates()))
    return item


@st.composite
def guarantees(
    draw: st.DrawFn, *, currency: str | None = None, guarantor_id: CustomerId | None = None
) -> Guarantee:
    """Guarantees of every type in `currency` (any when None); the guarantor is
    `guarantor_id` when given, else sometimes a customer, sometimes an outsider."""
    ids = draw(id_sources())
    return Guarantee.register(
        ids,
        type=draw(st.sampled_from(list(GuaranteeType))),
        guarantor_name=draw(names()),
        guarantor_id=guarantor_id or draw(st.none() | st.just(CustomerId.new(ids))),
        amount=draw(money(currency)),
        valid_until=draw(business_dates()),
        guarantor_registration_id=draw(st.none() | uscc_codes()),
    )


__all__ = [
    "allocations",
    "applications",
    "collaterals",
    "decisions",
    "facilities",
    "facility_trees",
    "guarantees",
    "installments",
    "limit_trees",
    "loans",
    "schedules",
]
