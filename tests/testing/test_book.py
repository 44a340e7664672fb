"""The synthetic book generator: valid, conserving, deterministic, spread, loadable."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import attrs
import pytest
from stdnum.cn import uscc

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.adapters.records import codec
from creditmgmt.adapters.records.contract import dump_json
from creditmgmt.adapters.records.kinds import binding_for
from creditmgmt.adapters.stores import open_store
from creditmgmt.bootstrap import open_desk
from creditmgmt.domain import (
    Category,
    CustomerKind,
    Facility,
    FacilityLevel,
    FacilityStatus,
    InvalidValueError,
    LimitTree,
    Money,
)
from creditmgmt.domain.credit_file import KEY_PERSON_FACTS
from creditmgmt.domain.errors import InvalidMoneyError
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.loan import Drawdown, LoanStatus, RepaymentReceived
from creditmgmt.policies import builtin_ruleset
from creditmgmt.ports.errors import IntegrityError
from creditmgmt.testing.book import (
    BookChunk,
    BookSpec,
    BookStats,
    commit_aggregates,
    dpd_bucket,
    generate,
    load,
)

AS_OF = date(2026, 1, 5)
# enough borrowers in arrears that every DPD bucket fills in a few hundred customers
SPEC = BookSpec(
    customers=300,
    seed=11,
    as_of=AS_OF,
    arrears_share=0.2,
    restructured_share=0.05,
    chunk_customers=40,
)
CLOCK = FixedClock(datetime(2026, 1, 5, 18, tzinfo=UTC))


@pytest.fixture(scope="module")
def book() -> list[BookChunk]:
    return list(generate(SPEC))


def _trees(chunk: BookChunk) -> dict[str, list[Facility]]:
    by_id = {f.id: f for f in chunk.facilities}
    trees: dict[str, list[Facility]] = defaultdict(list)
    for node in chunk.facilities:
        root = node
        while root.parent_id is not None:
            root = by_id[root.parent_id]
        trees[str(root.id)].append(node)
    return trees


def _documents(chunks: list[BookChunk]) -> list[str]:
    return [
        dump_json(codec.encode(binding_for(a).kind, a))
        for chunk in chunks
        for a in chunk.aggregates()
    ]


# invariants -----------------------------------------------------------------------------------
def test_a_chunk_yields_every_aggregate_it_holds_kind_by_kind(book: list[BookChunk]) -> None:
    for chunk in book:
        held = [
            a
            for field in attrs.fields(BookChunk)
            if isinstance(kind := getattr(chunk, field.name), tuple)
            for a in kind
            if isinstance(a, Aggregate)
        ]
        assert [id(a) for a in chunk.aggregates()] == [id(a) for a in held]


def test_every_limit_tree_is_sound_and_active(book: list[BookChunk]) -> None:
    trees = 0
    for chunk in book:
        for nodes in _trees(chunk).values():
            assert LimitTree(nodes, complete=True).violations() == []
            assert all(n.status is FacilityStatus.ACTIVE for n in nodes)
            assert all(n.is_within_term(AS_OF) for n in nodes)
            trees += 1
    assert trees > 200


def test_drawn_is_drawdowns_less_principal_repaid(book: list[BookChunk]) -> None:
    for chunk in book:
        loans_on: dict[str, list[Drawdown]] = defaultdict(list)
        for loan in chunk.drawdowns:
            loans_on[str(loan.facility_id)].append(loan)
        for node in chunk.facilities:
            loans = loans_on.get(str(node.id), [])
            if node.level is not FacilityLevel.PRODUCT:
                assert not loans and node.own_drawn.is_zero
                continue
            ccy = node.currency
            repaid = Money.sum((p.principal for loan in loans for p in loan.paid), ccy)
            drawn = Money.sum((loan.amount for loan in loans), ccy)
            assert node.cumulative_drawn == drawn
            assert node.drawn == node.own_drawn == drawn - repaid
            assert node.drawn == Money.sum((loan.outstanding_principal for loan in loans), ccy)


def test_book_totals_add_up(book: list[BookChunk]) -> None:
    stats = BookStats(as_of=AS_OF)
    outstanding = Money.zero("CNY")
    for chunk in book:
        stats.add(chunk)
        outstanding += Money.sum((loan.outstanding_principal for loan in chunk.drawdowns), "CNY")
    assert stats.customers == 300 and stats.chunks == SPEC.chunks == 8
    assert stats.drawn == {"CNY": outstanding} and outstanding.is_positive
    assert stats.loans == stats.settled_loans + sum(stats.loans_by_dpd.values())


def test_ids_and_registration_codes_are_unique(book: list[BookChunk]) -> None:
    ids = [str(a.id) for chunk in book for a in chunk.aggregates()]
    assert len(ids) == len(set(ids))
    codes = [c.registration_id for chunk in book for c in chunk.customers]
    assert len(codes) == len(set(codes))
    assert all(code is not None and uscc.is_valid(code) for code in codes)


class _Owned(Protocol):
    """Anything a chunk holds on behalf of a customer (a group's facility: of none)."""

    @property
    def customer_id(self) -> CustomerId | None: ...


def test_a_customer_travels_with_its_group_and_everything_it_owns(book: list[BookChunk]) -> None:
    grouped = 0
    for chunk in book:
        customers = {c.id: c for c in chunk.customers}
        roots = {f.id: f for f in chunk.facilities if f.parent_id is None}
        for group in chunk.groups:
            assert group.members and all(m in customers for m in group.members)
            assert all(customers[m].group_id == group.id for m in group.members)
            root = roots[group.limit_facility_id]  # type: ignore[index]
            assert root.level is FacilityLevel.GROUP and root.group_id == group.id
            grouped += len(group.members)
        owners: tuple[_Owned, ...] = (
            *chunk.facilities,
            *chunk.drawdowns,
            *chunk.credit_files,
            *chunk.interactions,
            *chunk.risk_events,
            *chunk.classifications,
        )
        for owner in owners:
            customer_id = owner.customer_id
            assert customer_id is None or customer_id in customers
        with_master = {f.customer_id for f in chunk.facilities if f.level is FacilityLevel.CUSTOMER}
        assert with_master == set(customers)
        assert {f.customer_id for f in chunk.credit_files} == set(customers)
    assert 0.15 < grouped / SPEC.customers < 0.35  # group_share 0.25


# realism --------------------------------------------------------------------------------------
def test_days_past_due_spread_over_every_bucket(book: list[BookChunk]) -> None:
    buckets = Counter(
        dpd_bucket(loan.dpd(AS_OF))
        for chunk in book
        for loan in chunk.drawdowns
        if loan.status is LoanStatus.PERFORMING
    )
    assert set(buckets) == {"0", "1-30", "31-90", "91-360", ">360"}
    assert buckets["0"] > sum(buckets.values()) / 2  # most borrowers pay


def test_loans_have_every_amortisation_and_history_before_as_of(book: list[BookChunk]) -> None:
    loans = [loan for chunk in book for loan in chunk.drawdowns]
    assert {loan.schedule.amortisation.value for loan in loans} == {
        "bullet",
        "equal_principal",
        "annuity",
    }
    assert all(AS_OF.replace(year=2024) <= loan.drawn_on < AS_OF for loan in loans)
    assert all(loan.last_payment_on is None or loan.last_payment_on < AS_OF for loan in loans)
    assert any(loan.status is LoanStatus.SETTLED for loan in loans)


def test_late_payers_caught_up_and_left_resolved_risk_events(book: list[BookChunk]) -> None:
    events = [e for chunk in book for e in chunk.risk_events]
    assert events and all(e.status.value == "resolved" for e in events)
    assert {e.severity.value for e in events} == {"yellow", "red"}


def test_restructured_loans_refinance_a_loan_in_arrears(book: list[BookChunk]) -> None:
    found = 0
    for chunk in book:
        by_id = {loan.id: loan for loan in chunk.drawdowns}
        decisions = {c.drawdown_id: c for c in chunk.classifications}
        for new_id in chunk.restructured:
            decision = decisions[new_id]
            assert decision.category is Category.SPECIAL_MENTION and decision.dpd > 0
            old_id = decision.reason.split("loan ")[1].split(" ")[0]
            old = next(loan for loan in chunk.drawdowns if str(loan.id) == old_id)
            new = by_id[new_id]
            assert old.status is LoanStatus.SETTLED
            # settled on the day the new loan took over its outstanding principal
            assert old.last_payment_on == new.drawn_on == decision.as_of
            assert new.amount <= old.amount and new.facility_id == old.facility_id
            found += 1
    assert found >= 5


def test_customers_are_local_and_remote_with_plausible_statements(book: list[BookChunk]) -> None:
    customers = [c for chunk in book for c in chunk.customers]
    remote = [c for c in customers if c.is_remote]
    assert 0.07 < len(remote) / len(customers) < 0.25  # remote_share 0.15
    assert all(c.identity_verified_on is not None for c in remote)
    assert any(c.funds_used_region is not None for c in remote)
    assert {c.kind for c in customers} == {CustomerKind.CORPORATE, CustomerKind.SME}
    for chunk in book:
        for file in chunk.credit_files:
            statements = file.statements()
            assert 2 <= len(statements) <= 3
            assert all(e.is_verified for e in file.live_entries() if e.financial_statement)
            latest = statements[-1]
            assert latest.period_end == date(2024, 12, 31)
            assert Decimal("0.2") < latest.debt_to_assets < Decimal("0.9")  # type: ignore[operator]
            assert Decimal("0.5") < latest.current_ratio < Decimal("4")  # type: ignore[operator]
            assert file.latest_bureau_report() is not None


def test_files_name_key_persons_and_most_hold_a_covenant_some_broken(
    book: list[BookChunk],
) -> None:
    files = [f for chunk in book for f in chunk.credit_files]
    assert all(set(KEY_PERSON_FACTS) <= dict(f.entry("basic-info").facts).keys() for f in files)
    covenanted = [f for f in files if f.covenants()]
    broken = [f for f in covenanted if f.covenant_breaches()]
    assert 0.45 < len(covenanted) / len(files) < 0.75  # 60% get one
    assert 0 < len(broken) < len(covenanted) / 3
    changed = [f for f in files if f.key_person_changes(since=AS_OF - timedelta(days=364))]
    assert 0 < len(changed) < len(files) / 10


def test_every_customer_is_rated_within_the_year_by_how_it_pays(book: list[BookChunk]) -> None:
    scale = [g.grade for g in builtin_ruleset("cn-2023").blocks["master_scale"].grades]  # type: ignore[attr-defined]
    in_arrears: set[str] = set()
    for chunk in book:
        for loan in chunk.drawdowns:
            if loan.status is LoanStatus.PERFORMING and loan.dpd(AS_OF) > 90:
                in_arrears.add(str(loan.customer_id))
    ranks: dict[bool, list[int]] = {True: [], False: []}
    for c in (c for chunk in book for c in chunk.customers):
        assert c.rating is not None, c.id
        assert c.rating.grade in scale
        assert AS_OF - timedelta(days=365) <= c.rating.rated_on < AS_OF
        ranks[str(c.id) in in_arrears].append(scale.index(c.rating.grade))
    # customers more than 90 days late are graded worse than the rest, on average
    assert ranks[True] and ranks[False]
    assert sum(ranks[True]) / len(ranks[True]) > sum(ranks[False]) / len(ranks[False]) + 2


def test_a_daily_run_over_the_book_raises_periodic_reviews(book: list[BookChunk]) -> None:
    with open_desk("memory://", rules="cn-2023", clock=CLOCK, institution_region="310000") as desk:
        load(desk.store, SPEC)  # type: ignore[arg-type]
        summary = desk.run_daily(AS_OF)
    assert 0 < summary.reviews_due < SPEC.customers


# determinism and streaming --------------------------------------------------------------------
def test_same_spec_same_bytes_other_seed_other_book(book: list[BookChunk]) -> None:
    again = list(generate(SPEC))
    assert _documents(again) == _documents(book)
    other = list(generate(BookSpec(customers=300, seed=12, chunk_customers=40)))
    assert _documents(other) != _documents(book)


def test_a_chunk_is_the_same_generated_alone(book: list[BookChunk]) -> None:
    (alone,) = generate(SPEC, chunks=[5])
    assert _documents([alone]) == _documents([book[5]])
    with pytest.raises(InvalidValueError, match="chunk 8 is outside the book's 8 chunks"):
        list(generate(SPEC, chunks=[8]))


def test_one_repayment_per_run_leaves_the_state_of_monthly_repayments() -> None:
    spec = BookSpec(customers=60, seed=3, arrears_share=0.2, late_share=0.2, chunk_customers=30)
    monthly = list(generate(BookSpec(**{**_fields(spec), "keep_events": True})))
    coalesced = list(generate(spec))
    assert _documents(monthly) == _documents(coalesced)
    repayments = Counter(
        str(e.aggregate_id)
        for chunk in monthly
        for loan in chunk.drawdowns
        for e in loan.pending_events
        if isinstance(e, RepaymentReceived)
    )
    assert max(repayments.values()) > 6  # paid month by month, one event each
    assert all(not a.pending_events for chunk in coalesced for a in chunk.aggregates())


def _fields(spec: BookSpec) -> dict[str, Any]:
    import attrs

    return attrs.asdict(spec, recurse=False)


# loading ----------------------------------------------------------------------------------------
def _read_back(store_url: str, spec: BookSpec, chunks_per_commit: int) -> None:
    store = open_store(store_url, clock=CLOCK)
    stats = load(store, spec, chunks_per_commit=chunks_per_commit)
    with store.unit_of_work() as uow:
        assert uow.customers.count() == stats.customers == spec.customers
        assert uow.groups.count() == stats.groups > 0
        assert uow.facilities.count() == stats.facilities
        assert uow.drawdowns.count() == stats.loans
        assert uow.credit_files.count() == stats.credit_files == spec.customers
        assert uow.classifications.count() == stats.restructured_loans
        assert uow.interactions.count() == stats.interactions
        assert uow.risk_events.count() == stats.risk_events
        drawn = Money.zero("CNY")
        for batch in uow.facilities.scan(batch_size=500):
            for node in batch:
                if node.parent_id is None:
                    drawn += node.drawn
                    assert LimitTree(uow.facilities.tree(node.id), complete=True).violations() == []
        assert stats.drawn == {"CNY": drawn}
    assert store.events() == []  # a migrated book: state without an event history
    with pytest.raises(IntegrityError):
        load(store, spec)
    store.close()


def test_load_into_the_memory_store_and_read_it_back() -> None:
    _read_back("memory://", BookSpec(customers=80, seed=5, chunk_customers=20), 1)


def test_load_into_sqlite_several_chunks_per_commit(tmp_path: Path) -> None:
    _read_back(
        f"sqlite:///{tmp_path / 'book.db'}", BookSpec(customers=80, seed=5, chunk_customers=20), 3
    )


def test_shares_of_one_book_loaded_apart_make_the_whole_book() -> None:
    spec = BookSpec(customers=50, seed=4, chunk_customers=10)
    whole = open_store("memory://", clock=CLOCK)
    parts = open_store("memory://", clock=CLOCK)
    expected = load(whole, spec)
    shares = [load(parts, spec, chunks=range(i, spec.chunks, 2)) for i in (0, 1)]
    assert [s.chunks for s in shares] == [3, 2]
    assert sum(s.facilities for s in shares) == expected.facilities
    for store in (whole, parts):
        with store.unit_of_work() as uow:
            assert uow.facilities.count() == expected.facilities
            assert uow.drawdowns.count() == expected.loans


def test_commit_aggregates_refuses_what_is_not_stored() -> None:
    store = open_store("memory://", clock=CLOCK)
    with pytest.raises(TypeError, match="Money is not a stored kind"):
        commit_aggregates(store, [Money.zero("CNY")])  # type: ignore[list-item]
    with pytest.raises(InvalidValueError, match="chunks_per_commit must be >= 1, got 0"):
        load(store, BookSpec(customers=1), chunks_per_commit=0)


# the spec -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"customers": -1}, "BookSpec.customers must be >= 0"),
        ({"remote_share": 1.5}, "BookSpec.remote_share must be a share within"),
        ({"arrears_share": 0.6, "late_share": 0.5}, "more than 1"),
        ({"history_months": 3}, "history_months must be at least 6"),
        ({"group_size": (1, 3)}, "group_size must be"),
        ({"chunk_customers": 4}, "must hold the largest group"),
        ({"industries": ("X99",)}, "'X99' is not a GB/T 4754 code"),
        ({"regions": ("310101", "31010")}, "BookSpec.regions '31010' is not a six-digit"),
        ({"regions": ("330100",)}, "no region inside institution_region 310000"),
        ({"regions": ("310101",)}, "no region outside institution_region 310000"),
    ],
)
def test_a_bad_spec_names_its_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidValueError, match=message):
        BookSpec(**fields)  # type: ignore[arg-type]


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(InvalidMoneyError, match="XXY"):
        BookSpec(currency="XXY")


@pytest.mark.parametrize(
    "spec",
    [
        BookSpec(customers=0),
        BookSpec(customers=25, history_months=6, arrears_share=0.3, restructured_share=0.3),
        BookSpec(customers=25, as_of=date(2025, 6, 30), remote_share=0, regions=("310115",)),
        BookSpec(customers=25, group_share=1, group_size=(2, 2), chunk_customers=5),
    ],
    ids=["empty", "short-history", "mid-year-all-local", "all-in-pairs"],
)
def test_edge_specs_still_give_sound_books(spec: BookSpec) -> None:
    stats = BookStats(as_of=spec.as_of)
    for chunk in generate(spec):
        stats.add(chunk)
        for nodes in _trees(chunk).values():
            assert LimitTree(nodes, complete=True).violations() == []
        assert all(loan.drawn_on < spec.as_of for loan in chunk.drawdowns)
    assert stats.customers == spec.customers
    if spec.remote_share == 0:
        assert stats.remote_customers == 0
    if spec.group_share == 1:
        assert stats.groups == 10  # five per chunk of 5: two pairs, the fifth on its own


_DIGEST = """
import hashlib
from creditmgmt.adapters.records import codec
from creditmgmt.adapters.records.kinds import binding_for
from creditmgmt.adapters.records.contract import dump_json
from creditmgmt.testing.book import BookSpec, generate
digest = hashlib.sha256()
for chunk in generate(BookSpec(customers=40, seed=9, chunk_customers=20)):
    for a in chunk.aggregates():
        digest.update(dump_json(codec.encode(binding_for(a).kind, a)).encode())
print(digest.hexdigest())
"""


def test_the_book_does_not_depend_on_string_hashing() -> None:
    digests = {
        subprocess.run(
            [sys.executable, "-c", _DIGEST],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1 and len(digests.pop().strip()) == 64
