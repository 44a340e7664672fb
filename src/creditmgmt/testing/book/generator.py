"""Generate the book chunk by chunk: customers, groups, limit trees, loans and their history.

Chunk `i` is generated from its own `random.Random` (seeded with the spec's seed and `i`) and
its own id source (`<prefix>_<chunk>-<sequence>`), so every chunk is the same whether the book
is generated whole or from chunk `i` on, and ids are unique across the book.

Everything goes through the domain's own operations (`Customer.onboard`, `Facility.open`,
`LimitTree.attach` / `draw` / `repay`, `Drawdown.book` / `apply`), which check every invariant;
nothing is written into an aggregate behind its back. Movements of one customer run in date
order (see `lending`). With `keep_events` off, a run of consecutive on-time repayments of one loan is applied
as one repayment on the date of the last: allocation is oldest installment first, so the loan
and its limit tree end in exactly the state month-by-month repayments give (tested), for a
fraction of the cost; with `keep_events` on, every installment is paid on its own date and
leaves its own `RepaymentReceived` event.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer, CustomerKind, Segment, region_prefix
from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.facility import Facility, FacilityLevel, LimitTree
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import DrawdownId
from creditmgmt.domain.interaction import Interaction
from creditmgmt.domain.loan import Drawdown
from creditmgmt.domain.money import Money
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.testing.book import financials
from creditmgmt.testing.book.chunk import BookChunk
from creditmgmt.testing.book.lending import ARREARS, GOOD, LATE, RESTRUCTURED, Borrower, Lending
from creditmgmt.testing.book.relationship import RMS, Relationship
from creditmgmt.testing.book.spec import BookSpec
from creditmgmt.testing.builders import make_uscc

_CITIES = {
    "31": "上海",
    "3301": "杭州",
    "3205": "苏州",
    "3201": "南京",
    "11": "北京",
    "4403": "深圳",
    "5101": "成都",
}
_WORDS = (
    "鼎盛",
    "华联",
    "恒通",
    "瑞丰",
    "金桥",
    "宏远",
    "新锐",
    "永泰",
    "博达",
    "天成",
    "嘉禾",
    "中科",
    "联创",
    "锦程",
    "安泰",
    "正源",
)
_TRADES = {
    "A": "农业",
    "C": "制造",
    "E": "建设",
    "F": "贸易",
    "G": "物流",
    "H": "餐饮",
    "I": "软件",
    "K": "置业",
}


class _ChunkIds:
    """Ids unique in the book: the chunk number, then a sequence within the chunk."""

    __slots__ = ("_next", "_prefix")

    def __init__(self, chunk: int) -> None:
        self._prefix = f"{chunk:06d}-"
        self._next = 0

    def next_id(self) -> str:
        self._next += 1
        return f"{self._prefix}{self._next:05d}"


def generate(spec: BookSpec, *, chunks: Iterable[int] | None = None) -> Iterator[BookChunk]:
    """The book of `spec`, chunk by chunk; only the chunk being built is held in memory.

    `chunks` picks chunk numbers (default: all, `range(spec.chunks)`): `range(k, spec.chunks)`
    resumes an interrupted load, `range(i, spec.chunks, n)` is worker i of n. A chunk is the
    same whichever others are generated.

    Raises:
        InvalidValueError: a chunk number outside `range(spec.chunks)`.
        DomainError: never for a valid spec — every movement is checked by the domain, so a
            bug in the generator surfaces as the domain's error naming the node or loan.
    """
    for index in range(spec.chunks) if chunks is None else chunks:
        if not 0 <= index < spec.chunks:
            raise InvalidValueError(
                f"chunk {index} is outside the book's {spec.chunks} chunks (0 to {spec.chunks - 1})"
            )
        yield _ChunkBuilder(spec, index).build()


#: Internal grades (the built-in master scale) a borrower of each behaviour is drawn from.
_GRADES: dict[str, tuple[str, ...]] = {
    GOOD: ("AA", "A", "A", "BBB", "BBB", "BBB", "BB", "BB"),
    LATE: ("BBB", "BB", "BB", "B"),
    ARREARS: ("B", "CCC", "CCC", "CC"),
    RESTRUCTURED: ("CCC", "CC"),
}


class _ChunkBuilder(Lending, Relationship):
    def __init__(self, spec: BookSpec, index: int) -> None:
        self.spec = spec
        self.index = index
        # seeded synthetic data (reproducible by design), not a secret
        self.rng = random.Random(f"creditmgmt-book:{spec.seed}:{index}")  # noqa: S311
        self.ids = _ChunkIds(index)
        self.ccy = spec.currency
        self.as_of = spec.as_of
        self.window_start = spec.as_of - relativedelta(months=spec.history_months)
        self.latest_period = financials.latest_period(spec.as_of)
        self.customers: list[Customer] = []
        self.groups: list[CustomerGroup] = []
        self.files: list[CreditFile] = []
        self.facilities: list[Facility] = []
        self.loans: list[Drawdown] = []
        self.classifications: list[ClassificationEntry] = []
        self.risk_events: list[RiskEvent] = []
        self.interactions: list[Interaction] = []
        self.restructured: list[DrawdownId] = []
        self._seq = 0  # tie-breaker of same-day movements: the order they were planned in

    # the chunk ----------------------------------------------------------------------------
    def build(self) -> BookChunk:
        spec, rng = self.spec, self.rng
        first = self.index * spec.chunk_customers
        serials = list(range(first, min(first + spec.chunk_customers, spec.customers)))
        in_groups = min(len(serials), int(len(serials) * spec.group_share + rng.random()))
        low, high = spec.group_size
        at = 0
        while in_groups - at >= low:
            size = min(rng.randint(low, high), in_groups - at)
            if in_groups - at - size < low:  # no group of one left behind
                size = in_groups - at if in_groups - at <= high else size
            self._unit(serials[at : at + size], grouped=True)
            at += size
        for serial in serials[at:]:
            self._unit([serial], grouped=False)
        chunk = BookChunk(
            index=self.index,
            customers=tuple(self.customers),
            groups=tuple(self.groups),
            credit_files=tuple(self.files),
            facilities=tuple(self.facilities),
            drawdowns=tuple(self.loans),
            classifications=tuple(self.classifications),
            risk_events=tuple(self.risk_events),
            interactions=tuple(self.interactions),
            restructured=tuple(self.restructured),
        )
        if not spec.keep_events:
            for aggregate in chunk.aggregates():
                aggregate.pull_events()
        return chunk

    # a group, or one customer on its own ----------------------------------------------------
    def _unit(self, serials: list[int], *, grouped: bool) -> None:
        rng, ccy = self.rng, self.ccy
        start = self.window_start - timedelta(days=rng.randint(0, 180))
        term = self.spec.history_months + rng.choice((18, 24, 30))
        borrowers = [self._borrower(serial, start) for serial in serials]
        limits = [self._master_limit(b) for b in borrowers]
        parent: Facility | None = None
        tree: LimitTree | None = None
        if grouped:
            lead = borrowers[0].customer
            city = _CITIES.get(region_prefix(lead.home_region), "华夏")
            word = rng.choice(_WORDS)
            group = CustomerGroup.form(self.ids, name=f"{city}{word}集团", controller=f"{word}控股")
            total = sum(limits) * rng.uniform(1.0, 1.25)
            parent = Facility.open(
                self.ids,
                level=FacilityLevel.GROUP,
                limit=Money.of(-(-int(total) // 100_000) * 100_000, ccy),
                start=start,
                term_months=term,
                group_id=group.id,
            )
            group.set_limit_facility(parent.id)
            tree = LimitTree([parent], complete=True)
            for b in borrowers:
                b.customer.join_group(group.id)
                group.add_member(b.customer.id)
            self.groups.append(group)
        for b, limit in zip(borrowers, limits, strict=True):
            master = Facility.open(
                self.ids,
                level=FacilityLevel.CUSTOMER,
                parent=parent,
                customer_id=b.customer.id,
                limit=Money.of(limit, ccy),
                start=start,
                term_months=term,
            )
            if tree is None:
                tree = LimitTree([master], complete=True)
            else:
                tree.attach(master)
            b.master = master
            for product, share in self._products(b):
                node = Facility.open(
                    self.ids,
                    level=FacilityLevel.PRODUCT,
                    parent=master,
                    product_type=product,
                    limit=Money.of(limit * share // 10_000 * 10_000, ccy),
                    start=start,
                    term_months=term,
                )
                tree.attach(node)
                b.products.append(node)
        assert tree is not None  # a unit has at least one customer
        for node in tree.nodes:
            node.activate(on=start)
        self.facilities.extend(tree.nodes)
        for b in borrowers:
            self._history(b, tree, start)
            self._late_event(b)
            self._relationship(b)

    def _borrower(self, serial: int, tree_start: date) -> Borrower:
        spec, rng = self.spec, self.rng
        industry = rng.choice(spec.industries)
        funds_used: str | None = None
        if rng.random() < spec.remote_share:
            if rng.random() < 0.2:  # registered here, funds used elsewhere
                home = rng.choice(spec.local_regions or spec.remote_regions)
                funds_used = rng.choice(spec.remote_regions)
            else:
                home = rng.choice(spec.remote_regions)
        else:
            home = rng.choice(spec.local_regions)
        draw = rng.random()
        behaviour = GOOD
        for name, share in (
            (ARREARS, spec.arrears_share),
            (RESTRUCTURED, spec.restructured_share),
            (LATE, spec.late_share),
        ):
            if draw < share:
                behaviour = name
                break
            draw -= share
        total_assets = min(max(rng.lognormvariate(17.9, 1.1), 5e6), 2e10)
        history = financials.statements(
            rng,
            industry=industry,
            total_assets=total_assets,
            latest_period=self.latest_period,
            years=rng.choice((2, 3, 3)),
            currency=self.ccy,
            distressed=behaviour in (ARREARS, RESTRUCTURED),
        )
        since = tree_start - timedelta(days=rng.randint(0, 3650))
        # tiered management: size, relationship years, and a few at risk of leaving
        if total_assets > 1e9 and behaviour == GOOD:
            segment = Segment.VIP
        elif since > self.as_of - timedelta(days=730):
            segment = Segment.POTENTIAL
        elif rng.random() < 0.05:
            segment = Segment.AT_RISK
        else:
            segment = Segment.GENERAL
        city = _CITIES.get(region_prefix(home), "华夏")
        name = (
            f"{city}{rng.choice(_WORDS)}{rng.choice(_WORDS)}"
            f"{_TRADES.get(industry[0], '实业')}{'股份' if total_assets > 1e9 else ''}有限公司"
        )
        customer = Customer.onboard(
            self.ids,
            kind=CustomerKind.CORPORATE if total_assets > 2e8 else CustomerKind.SME,
            legal_name=name,
            registration_id=make_uscc(serial, region=home),
            home_region=home,
            institution_region=spec.institution_region,
            industry_code=industry,
            funds_used_region=funds_used,
            segment=segment,
            relationship_manager=rng.choice(RMS),
        )
        customer.activate(on=since)
        if customer.is_remote:
            customer.verify_identity(on=since)  # remote customers: identity verified in person
        grade, rated_on = self._rating(serial, behaviour)
        customer.rate(grade, on=rated_on)
        self.customers.append(customer)
        return Borrower(customer, behaviour, history)

    def _rating(self, serial: int, behaviour: str) -> tuple[str, date]:
        """The customer's current internal grade, by how it pays, and the date it was rated
        (within the year before `as_of`, so periodic reviews fall due across the year ahead).
        Drawn from a generator of its own, so the rest of the book is the same as without."""
        # seeded synthetic data (reproducible by design), not a secret
        rng = random.Random(f"creditmgmt-book-rating:{self.spec.seed}:{serial}")  # noqa: S311
        grade = rng.choice(_GRADES[behaviour])
        return grade, self.as_of - timedelta(days=rng.randint(1, 365))

    def _master_limit(self, b: Borrower) -> int:
        revenue = int(b.history[-1].revenue.amount)
        limit = int(revenue * self.rng.uniform(0.08, 0.25)) // 10_000 * 10_000
        return min(max(limit, 500_000), 2_000_000_000)

    def _products(self, b: Borrower) -> list[tuple[ProductType, Decimal]]:
        rng = self.rng
        chosen = [ProductType.WORKING_CAPITAL]
        if rng.random() < 0.55:
            chosen.append(ProductType.TERM_LOAN)
        if b.customer.industry_code[0] in "CFG" and rng.random() < 0.3:
            chosen.append(ProductType.TRADE_FINANCE)
        weights = [rng.uniform(0.4, 1.0) for _ in chosen]
        used = rng.uniform(0.75, 1.0) / sum(weights)
        return [(p, Decimal(round(w * used, 4))) for p, w in zip(chosen, weights, strict=True)]
