"""Whole books: a consistent, store-ready world of customers, groups, limit trees, loans,
collateral, guarantees, credit files and classifications.

    @given(cs.books(customers=(2, 5), with_groups=True, with_arrears=True))
    def test_daily_run(book):
        with store.unit_of_work() as uow:
            book.add_to(uow)
            uow.commit()

Every aggregate of a book comes from one id source (ids never collide, even while Hypothesis
shrinks), registration ids are distinct, every limit tree keeps its invariants, each loan is
drawn on a product sub-limit of its borrower and its repayments restore that sub-limit, and
each classification matches its loan's days past due at `as_of`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import attrs
from hypothesis import strategies as st

from creditmgmt.domain.classification import Category, ClassificationEntry, Stage
from creditmgmt.domain.collateral import Collateral, CollateralType, Guarantee, GuaranteeType
from creditmgmt.domain.credit_file import CreditFile, RefreshCycle, Section
from creditmgmt.domain.customer import Customer, CustomerKind
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility, FacilityLevel, LimitTree
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import IdSource
from creditmgmt.domain.loan import Drawdown, Repayment
from creditmgmt.domain.money import Money, Rate
from creditmgmt.domain.products import ProductType
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.testing.builders import a_customer, a_facility_tree, make_uscc
from creditmgmt.testing.strategies.lending import _split, schedules
from creditmgmt.testing.strategies.values import (
    RULESET_REF,
    business_dates,
    covenants,
    financial_statements,
    id_sources,
    names,
    regions,
    valuations,
)

TERM_MONTHS = 36


@attrs.define
class Book:
    """A consistent set of aggregates as of one business date (see the module doc)."""

    as_of: date
    customers: list[Customer] = attrs.Factory(list)
    groups: list[CustomerGroup] = attrs.Factory(list)
    facilities: list[Facility] = attrs.Factory(list)
    drawdowns: list[Drawdown] = attrs.Factory(list)
    credit_files: list[CreditFile] = attrs.Factory(list)
    collaterals: list[Collateral] = attrs.Factory(list)
    guarantees: list[Guarantee] = attrs.Factory(list)
    classifications: list[ClassificationEntry] = attrs.Factory(list)

    def aggregates(self) -> Iterator[Aggregate]:
        """Every aggregate of the book, kind by kind."""
        for kind in attrs.fields(Book)[1:]:
            yield from getattr(self, kind.name)

    def add_to(self, uow: UnitOfWork) -> None:
        """Add every aggregate to the repositories of an open unit of work (the caller
        commits). Raises what the repositories raise (`IntegrityError` for a book that is
        already stored)."""
        for kind in attrs.fields(Book)[1:]:
            repository = getattr(uow, kind.name)
            for aggregate in getattr(self, kind.name):
                repository.add(aggregate)

    def limit_trees(self) -> list[LimitTree]:
        """The complete limit tree of every root facility."""
        children: dict[object, list[Facility]] = {}
        for f in self.facilities:
            children.setdefault(f.parent_id, []).append(f)

        def below(node: Facility) -> list[Facility]:
            return [node, *(n for c in children.get(node.id, []) for n in below(c))]

        return [LimitTree(below(root), complete=True) for root in children.get(None, [])]

    def dpd(self) -> dict[str, int]:
        """Days past due of every loan at `as_of`, by drawdown id."""
        return {str(d.id): d.dpd(self.as_of) for d in self.drawdowns}


def _category(dpd: int) -> tuple[Category, Stage]:
    """The classification floor days past due alone give (cn-2023 reading of the 2023 rules)."""
    if dpd > 360:
        return Category.LOSS, Stage.CREDIT_IMPAIRED
    if dpd > 270:
        return Category.DOUBTFUL, Stage.CREDIT_IMPAIRED
    if dpd > 90:
        return Category.SUBSTANDARD, Stage.CREDIT_IMPAIRED
    if dpd > 0:
        return Category.SPECIAL_MENTION, Stage.UNDERPERFORMING if dpd > 30 else Stage.PERFORMING
    return Category.NORMAL, Stage.PERFORMING


class _World:
    """The book under construction inside one `books()` draw."""

    def __init__(self, draw: st.DrawFn, ids: IdSource, currency: str, start: date) -> None:
        self.draw, self.ids, self.currency, self.start = draw, ids, currency, start
        self.book = Book(as_of=start)
        self.serial = 0
        self.trees: list[tuple[LimitTree, list[Facility]]] = []  # (tree, product leaves)

    def customer(self, **fields: object) -> Customer:
        self.serial += 1
        kind = self.draw(st.sampled_from(list(CustomerKind)))
        return a_customer(
            self.ids,
            kind=kind,
            legal_name=self.draw(names()),
            registration_id=None if kind is CustomerKind.INDIVIDUAL else make_uscc(self.serial),
            home_region=self.draw(regions),
            **fields,
        )

    def group_tree(self, members: int, limit: Decimal) -> None:
        master = _split(limit, members, self.currency)
        product = _split(Decimal(master), 2, self.currency)
        build = a_facility_tree(
            self.ids,
            currency=self.currency,
            group_limit=str(limit),
            masters=(master,) * members,
            products=((ProductType.WORKING_CAPITAL, product), (ProductType.TERM_LOAN, product)),
            start=self.start,
            term_months=TERM_MONTHS,
        )
        for c in build.customers:  # the builder's customers are prospects: make them active
            c.activate(on=self.start)
        self.book.groups.append(build.group)
        self.book.customers.extend(build.customers)
        self.book.facilities.extend(build.nodes)
        self.trees.append((build.limits, build.products))

    def standalone(self, limit: Decimal) -> None:
        customer = self.customer()
        customer.activate(on=self.start)
        master = Facility.open(
            self.ids,
            level=FacilityLevel.CUSTOMER,
            customer_id=customer.id,
            limit=Money.of(limit, self.currency),
            start=self.start,
            term_months=TERM_MONTHS,
        )
        tree = LimitTree([master], complete=True)
        product = Facility.open(
            self.ids,
            level=FacilityLevel.PRODUCT,
            parent=master,
            product_type=self.draw(st.sampled_from(list(ProductType))),
            limit=Money.of(_split(limit, 2, self.currency), self.currency),
            start=self.start,
            term_months=TERM_MONTHS,
        )
        tree.attach(product)
        for node in (master, product):
            node.activate(on=self.start)
        self.book.customers.append(customer)
        self.book.facilities.extend([master, product])
        self.trees.append((tree, [product]))

    def owner_of(self, tree: LimitTree, product: Facility) -> Customer:
        master = tree.node(product.parent_id) if product.parent_id else product
        return next(c for c in self.book.customers if c.id == master.customer_id)

    def loan(self, tree: LimitTree, product: Facility) -> Drawdown:
        schedule = self.draw(
            schedules(
                self.currency,
                min_principal=str(product.limit.amount / 100),
                max_principal=str(product.limit.amount / 2),
                start=self.start,
                max_periods=12,
            )
        )
        loan = Drawdown.book(
            self.ids,
            facility_id=product.id,
            customer_id=self.owner_of(tree, product).id,
            schedule=schedule,
        )
        tree.draw(product.id, schedule.principal, on=self.start, drawdown_id=loan.id)
        self.book.drawdowns.append(loan)
        return loan

    def pay_arrears(self, tree: LimitTree, loan: Drawdown, on: date) -> None:
        """Pay everything due before `on`, on the day before it; the principal repaid
        restores the sub-limit."""
        due = loan.arrears(on)
        if due.is_positive:
            allocation = loan.apply(Repayment(due, on - timedelta(days=1), reference="book"))
            if allocation.principal.is_positive:
                tree.repay(loan.facility_id, allocation.principal, on=on - timedelta(days=1))


@st.composite
def books(
    draw: st.DrawFn,
    *,
    customers: int | tuple[int, int] = (1, 6),
    with_groups: bool | None = None,
    with_arrears: bool | None = None,
    currency: str = "CNY",
    min_limit: str = "1000000.00",
    max_limit: str = "100000000000.00",
) -> Book:
    """A store-ready book (see the module doc) of `customers` customers (a count or a
    `(min, max)` range).

    `with_groups`: True — at least one group (集团) with its group limit tree and two or more
    members; False — standalone customers only; None — either. `with_arrears`: True — at
    least one loan is past due at `as_of`; False — every loan is current; None — either.
    Limits of the top nodes lie between `min_limit` and `max_limit` (decimal text in
    `currency`).

    Raises:
        hypothesis.errors.InvalidArgument: a group is asked for with fewer than 2 customers.
    """
    low, high = (customers, customers) if isinstance(customers, int) else customers
    if with_groups and high < 2:
        from hypothesis.errors import InvalidArgument

        raise InvalidArgument("with_groups=True needs room for 2 customers in a group")
    count = draw(st.integers(max(low, 2) if with_groups else low, high))
    world = _World(
        draw,
        draw(id_sources()),
        currency,
        draw(business_dates(min_value=date(2021, 1, 1), max_value=date(2030, 12, 31))),
    )

    def limit() -> Decimal:
        return Decimal(draw(st.decimals(min_value=min_limit, max_value=max_limit, places=0)))

    left = count
    grouped = with_groups if with_groups is not None else draw(st.booleans()) and count >= 2
    while grouped and left >= 2:
        members = draw(st.integers(2, left))
        world.group_tree(members, limit())
        left -= members
        grouped = draw(st.booleans())
    for _ in range(left):
        world.standalone(limit())

    loans: list[tuple[LimitTree, Drawdown]] = []
    for tree, products in world.trees:
        for product in products:
            if draw(st.booleans()) or (with_arrears and not loans):
                loans.append((tree, world.loan(tree, product)))

    days = draw(st.integers(1, 30 * (TERM_MONTHS - 2)))
    as_of = world.start + timedelta(days=days)
    if with_arrears:  # the first loan must owe something due before as_of (at zero interest
        # a bullet loan's early installments owe nothing: the first one that owes counts)
        first_due = next(
            i.due_date for i in loans[0][1].schedule.installments if i.total.is_positive
        )
        as_of = max(as_of, first_due + timedelta(days=draw(st.integers(1, 400))))
    world.book.as_of = as_of
    for i, (tree, loan) in enumerate(loans):
        in_arrears = (i == 0) if with_arrears else False if with_arrears is False else None
        if in_arrears is None:
            in_arrears = draw(st.booleans())
        if not in_arrears:
            world.pay_arrears(tree, loan, as_of)
    _records(draw, world)
    return world.book


def _records(draw: st.DrawFn, world: _World) -> None:
    """Credit files (a statement, maybe a covenant), collateral and guarantees of the
    customers; classifications of loans."""
    book, ids = world.book, world.ids
    for customer in book.customers:
        cf = CreditFile.open(ids, customer_id=customer.id, refresh_cycle=RefreshCycle.YEARLY)
        cf.record(
            key="fs-latest",
            section=Section.FINANCIAL_STATEMENTS,
            source="audited accounts",
            as_of=world.start,
            financial_statement=draw(financial_statements(world.currency)),
        )
        if draw(st.booleans()):
            cf.record(
                key="covenant",
                section=Section.COVENANTS,
                source="loan agreement",
                as_of=world.start,
                covenant=draw(covenants()),
            )
        book.credit_files.append(cf)
    masters = [f for f in book.facilities if f.level is FacilityLevel.CUSTOMER]
    for master in masters:
        if draw(st.booleans()):
            owner = next(c for c in book.customers if c.id == master.customer_id)
            item = Collateral.register(
                ids,
                type=draw(st.sampled_from(list(CollateralType))),
                owner_name=owner.legal_name,
                owner_id=owner.id,
                valuation=draw(valuations(world.currency)),
                haircut=Rate.of("0.3"),
            )
            master.link_collateral(item.id)
            book.collaterals.append(item)
        if draw(st.booleans()):
            guarantee = Guarantee.register(
                ids,
                type=draw(st.sampled_from(list(GuaranteeType))),
                guarantor_name=draw(names()),
                amount=master.limit,
                valid_until=master.maturity_date,
            )
            master.link_guarantee(guarantee.id)
            book.guarantees.append(guarantee)
    for loan in book.drawdowns:
        dpd = loan.dpd(book.as_of)
        category, stage = _category(dpd)
        book.classifications.append(
            ClassificationEntry.decide(
                ids,
                customer_id=loan.customer_id,
                facility_id=loan.facility_id,
                drawdown_id=loan.id,
                as_of=book.as_of,
                category=category,
                stage=stage,
                dpd=dpd,
                ruleset_ref=RULESET_REF,
                reason=f"dpd {dpd}",
            )
        )


__all__ = ["Book", "books"]
