"""The storage conformance suite, shipped: every adapter — ours and yours — passes it.

Two layers, each an abstract pytest class with one factory hook:

- `RecordBackendContract`: the record contract of `creditmgmt.adapters.records.contract` on small
  synthetic kinds. Implement `create_backend(kinds)`; a durable store also implements
  `reopen_backend(backend, kinds)` (close it and open the same store again), which the
  reopen tests need (they skip without it).
- `UnitOfWorkContract`: the domain-level behaviour through the shared unit of work.
  Implement `create_store()` (a `RecordStore`) and `corrupt_document(store, kind, id, text)`.
  It mixes in `testing.consistency` (snapshot reads, bounded inputs) and `testing.hygiene`
  (no value in error messages, a closed store refuses, no change after commit is lost).

    class TestMyBackend(RecordBackendContract):
        def create_backend(self, kinds):
            return MyBackend(kinds)

Both classes are collected by pytest only through subclasses named `Test...`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.adapters.records.contract import (
    ColumnSpec,
    In,
    KindSpec,
    OutboxEntry,
    Partition,
    Range,
    Record,
    RecordBackend,
)
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain.classification import Category, ClassificationEntry
from creditmgmt.domain.collateral import (
    Collateral,
    CollateralType,
    Guarantee,
    GuaranteeType,
    Valuation,
)
from creditmgmt.domain.customer import CustomerStatus
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility, FacilityStatus, LimitExceededError, LimitTree
from creditmgmt.domain.ids import CustomerId, FacilityId, UserId
from creditmgmt.domain.interaction import Channel, FollowUpTask, Interaction, InteractionKind
from creditmgmt.domain.money import Money, Rate
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.risk import RiskEvent, Severity
from creditmgmt.ports import ConfigurationError, PortfolioSlice
from creditmgmt.ports.audit import (
    GENESIS,
    AuditEntry,
    AuditVerification,
    ChainHead,
    verify_chain,
)
from creditmgmt.ports.errors import (
    ConflictError,
    DataError,
    IntegrityError,
    NotFoundError,
    OutboxRangeError,
)
from creditmgmt.testing import strategies as cs
from creditmgmt.testing.builders import (
    M,
    SequentialIds,
    a_credit_file,
    a_customer,
    a_facility_tree,
    a_loan,
    an_application,
    make_uscc,
)
from creditmgmt.testing.consistency import ConsistencyContract
from creditmgmt.testing.hygiene import HygieneContract

HOSTILE_TEXTS = (
    "上海浦东发展银行股份有限公司",
    'O\'Reilly "quoted" `back`',
    "'; DROP TABLE records; --",
    "100% _wild_ [chars] \\ backslash",
    "emoji 😀 and combining é",
)
BIG = Decimal("999999999999999.99")

THING = KindSpec(
    "thing",
    (
        ColumnSpec("name", "str"),
        ColumnSpec("code", "str", unique=True),
        ColumnSpec("amount", "decimal"),
        ColumnSpec("due", "date"),
        ColumnSpec("flag", "bool"),
        ColumnSpec("n", "int"),
    ),
)
OTHER = KindSpec("other", (ColumnSpec("thing_id", "str"),))
TEST_KINDS: Mapping[str, KindSpec] = {"thing": THING, "other": OTHER}
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def thing(
    record_id: str,
    *,
    version: int = 1,
    name: str = "n",
    code: str | None = None,
    amount: Decimal = Decimal("1.00"),
    due: date | None = date(2026, 1, 1),
    flag: bool = False,
    n: int = 0,
    doc: dict[str, Any] | None = None,
) -> Record:
    return Record(
        "thing",
        record_id,
        version,
        doc if doc is not None else {"name": name, "n": n},
        {"name": name, "code": code, "amount": amount, "due": due, "flag": flag, "n": n},
    )


class RecordBackendContract:
    """The record contract. Subclass and implement `create_backend`."""

    def create_backend(self, kinds: Mapping[str, KindSpec]) -> RecordBackend:
        raise NotImplementedError

    @pytest.fixture
    def backend(self) -> Iterator[RecordBackend]:
        b = self.create_backend(TEST_KINDS)
        try:
            yield b
        finally:
            b.close()

    def reopen_backend(
        self, backend: RecordBackend, kinds: Mapping[str, KindSpec]
    ) -> RecordBackend | None:
        """Close `backend` and open the same store again; None (the default) for a store
        that does not outlive its process."""
        return None

    def _commit(self, backend: RecordBackend, *records: Record) -> None:
        tx = backend.begin()
        for r in records:
            tx.insert(r)
        tx.commit()

    def _events(self, backend: RecordBackend, *labels: str) -> list[int]:
        """Commit one unit per label, each with one outbox entry; return their sequences."""
        for label in labels:
            tx = backend.begin()
            tx.append_outbox([OutboxEntry("thing", label, "Made", {"label": label}, AT)])
            tx.commit()
        entries = backend.read_outbox(after=0, limit=100_000)
        by_label = {e.document["label"]: e.sequence for e in entries}
        return [by_label[label] for label in labels]

    def _labels(self, backend: RecordBackend) -> list[tuple[int, str]]:
        return [(e.sequence, e.document["label"]) for e in backend.read_outbox(limit=100_000)]

    def test_round_trip_keeps_every_digit_date_and_character(self, backend: RecordBackend) -> None:
        doc = {
            "texts": [*HOSTILE_TEXTS, "nul \x00 inside"],
            "big": str(BIG),
            "nested": {"a": [1, 2]},
        }
        records = [
            thing(
                f"t{i}",
                name=text,
                code=f"c{i}",
                amount=BIG if i == 0 else Decimal("-0.01"),
                doc=doc,
            )
            for i, text in enumerate(HOSTILE_TEXTS)
        ]
        self._commit(backend, *records)
        tx = backend.begin()
        for r in records:
            got = tx.get("thing", r.id)
            assert got is not None
            assert got.document == doc
            assert got.version == 1
            assert got.columns["name"] == r.columns["name"]
            assert got.columns["amount"] == r.columns["amount"]
            assert isinstance(got.columns["amount"], Decimal)
            assert got.columns["due"] == date(2026, 1, 1)
            assert got.columns["flag"] is False
        assert tx.get("thing", "missing") is None
        tx.rollback()

    def test_nul_in_a_string_column_is_refused_everywhere(self, backend: RecordBackend) -> None:
        tx = backend.begin()
        with pytest.raises(DataError, match="NUL"):
            tx.insert(thing("t1", name="a\x00b"))
        tx.rollback()

    def test_duplicate_id_is_an_integrity_error(self, backend: RecordBackend) -> None:
        self._commit(backend, thing("t1"))
        tx = backend.begin()
        with pytest.raises(IntegrityError):
            tx.insert(thing("t1"))
            tx.commit()
        tx.rollback()

    def test_unique_column_is_enforced_and_null_is_exempt(self, backend: RecordBackend) -> None:
        self._commit(backend, thing("t1", code="USCC-1"), thing("t2"), thing("t3"))
        tx = backend.begin()
        with pytest.raises(IntegrityError):
            tx.insert(thing("t4", code="USCC-1"))
            tx.commit()
        tx.rollback()
        tx = backend.begin()
        tx.update(thing("t1", version=2, code="USCC-2"))
        tx.insert(thing("t5", code="USCC-1"))  # the freed value may be taken in the same unit
        tx.commit()
        tx = backend.begin()
        assert tx.count("thing") == 4
        tx.rollback()

    def test_stale_update_conflicts_and_nothing_is_stored(self, backend: RecordBackend) -> None:
        self._commit(backend, thing("t1"), thing("t2"))
        tx = backend.begin()
        tx.update(thing("t1", version=2, name="fresh"))
        tx.commit()
        stale = backend.begin()
        with pytest.raises(ConflictError):
            stale.update(thing("t2", version=2, name="would be lost"))
            stale.update(thing("t1", version=2, name="stale"))
            stale.commit()
        stale.rollback()
        check = backend.begin()
        t1, t2 = check.get("thing", "t1"), check.get("thing", "t2")
        assert t1 is not None and t1.columns["name"] == "fresh" and t1.version == 2
        assert t2 is not None and t2.columns["name"] == "n" and t2.version == 1
        check.rollback()

    def test_update_of_a_missing_record_conflicts(self, backend: RecordBackend) -> None:
        tx = backend.begin()
        with pytest.raises(ConflictError):
            tx.update(thing("ghost", version=2))
            tx.commit()
        tx.rollback()

    def test_nothing_is_visible_before_commit(self, backend: RecordBackend) -> None:
        writer = backend.begin()
        writer.insert(thing("t1"))
        reader = backend.begin()
        assert reader.get("thing", "t1") is None
        reader.rollback()
        writer.commit()
        reader = backend.begin()
        assert reader.get("thing", "t1") is not None
        reader.rollback()

    def test_rollback_discards_records_and_outbox(self, backend: RecordBackend) -> None:
        tx = backend.begin()
        tx.insert(thing("t1"))
        tx.append_outbox([OutboxEntry("thing", "t1", "Made", {"x": 1}, AT)])
        tx.rollback()
        tx = backend.begin()
        assert tx.get("thing", "t1") is None
        tx.rollback()
        assert backend.read_outbox() == []

    def test_outbox_is_written_with_the_records_in_order(self, backend: RecordBackend) -> None:
        for i in range(3):
            tx = backend.begin()
            tx.insert(thing(f"t{i}"))
            tx.append_outbox(
                [OutboxEntry("thing", f"t{i}", "Made", {"i": i, "s": HOSTILE_TEXTS[i]}, AT)]
            )
            tx.commit()
        entries = backend.read_outbox()
        assert [e.document["i"] for e in entries] == [0, 1, 2]
        assert [e.sequence for e in entries] == sorted({e.sequence for e in entries})
        assert entries[2].document["s"] == HOSTILE_TEXTS[2]
        assert entries[0].recorded_at == AT
        assert backend.read_outbox(after=entries[0].sequence, limit=1)[0].document["i"] == 1

    def test_prune_deletes_through_a_sequence_and_keeps_later_ones(
        self, backend: RecordBackend
    ) -> None:
        seqs = self._events(backend, "a", "b", "c", "d")
        tx = backend.begin()  # one unit, two entries
        tx.append_outbox(
            [OutboxEntry("thing", "e", "Made", {"label": label}, AT) for label in ("e", "f")]
        )
        tx.commit()
        before = self._labels(backend)
        assert [label for _s, label in before] == ["a", "b", "c", "d", "e", "f"]
        assert backend.prune_outbox(through=seqs[1]) == 2
        assert self._labels(backend) == before[2:]  # same sequences, same documents
        assert backend.prune_outbox(through=seqs[1]) == 0  # already gone
        assert backend.prune_outbox(through=0) == 0
        assert backend.read_outbox(after=seqs[2], limit=1)[0].document["label"] == "d"
        e_seq = before[4][0]
        assert backend.prune_outbox(through=e_seq) == 3  # inside one unit's entries
        assert self._labels(backend) == before[5:]

    def test_prune_beyond_the_last_sequence_is_refused(self, backend: RecordBackend) -> None:
        assert backend.prune_outbox(through=0) == 0  # an empty outbox: nothing to do
        with pytest.raises(OutboxRangeError, match=r"through 1\b.*last sequence 0"):
            backend.prune_outbox(through=1)
        seqs = self._events(backend, "a", "b")
        beyond = seqs[-1] + 1
        with pytest.raises(OutboxRangeError, match=f"through {beyond}") as raised:
            backend.prune_outbox(through=beyond)
        assert isinstance(raised.value, ValueError)
        assert str(seqs[-1]) in str(raised.value)
        with pytest.raises(OutboxRangeError, match="-1"):
            backend.prune_outbox(through=-1)
        assert [label for _s, label in self._labels(backend)] == ["a", "b"]  # nothing deleted

    def test_pruned_sequences_are_never_handed_out_again(self, backend: RecordBackend) -> None:
        first = self._events(backend, "a", "b", "c")
        assert backend.prune_outbox(through=first[-1]) == 3  # the outbox is empty now
        assert backend.read_outbox() == []
        assert backend.prune_outbox(through=first[-1]) == 0  # the last sequence is remembered
        with pytest.raises(OutboxRangeError):
            backend.prune_outbox(through=first[-1] + 1)
        tx = backend.begin()  # a rolled-back unit changes nothing
        tx.append_outbox([OutboxEntry("thing", "x", "Made", {"label": "x"}, AT)])
        tx.rollback()
        (after,) = self._events(backend, "d")
        assert after > first[-1]
        assert self._labels(backend) == [(after, "d")]

    def test_prune_survives_reopening_the_store(self, backend: RecordBackend) -> None:
        seqs = self._events(backend, "a", "b", "c")
        assert backend.prune_outbox(through=seqs[0]) == 1
        again = self.reopen_backend(backend, TEST_KINDS)
        if again is None:
            pytest.skip("this store does not outlive its process")
        try:
            assert self._labels(again) == [(seqs[1], "b"), (seqs[2], "c")]
            assert again.prune_outbox(through=seqs[2]) == 2
            third = self.reopen_backend(again, TEST_KINDS)
            assert third is not None
            again = third
            assert again.read_outbox() == []
            assert again.prune_outbox(through=seqs[2]) == 0
            with pytest.raises(OutboxRangeError):
                again.prune_outbox(through=seqs[2] + 1)
            (later,) = self._events(again, "d")
            assert later > seqs[2]
        finally:
            again.close()

    def test_commits_during_prunes_lose_nothing(self, backend: RecordBackend) -> None:
        writers, units = 4, 15
        errors: list[BaseException] = []
        done = threading.Event()
        seen: list[tuple[int, str]] = []

        def write(w: int) -> None:
            try:
                for u in range(units):
                    tx = backend.begin()
                    tx.append_outbox(
                        [
                            OutboxEntry("thing", f"w{w}", "Made", {"label": f"{w}-{u}-{k}"}, AT)
                            for k in range(2)
                        ]
                    )
                    tx.commit()
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        def consume() -> None:  # a host: hand entries on, then prune what it handed on
            cursor = 0
            try:
                while True:
                    finished = done.is_set()
                    batch = backend.read_outbox(after=cursor, limit=7)
                    seen.extend((e.sequence, e.document["label"]) for e in batch)
                    if batch:
                        cursor = batch[-1].sequence
                        backend.prune_outbox(through=cursor)
                    elif finished:
                        return
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        pool = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
        host = threading.Thread(target=consume)
        host.start()
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=120)
        done.set()
        host.join(timeout=120)
        assert not errors, errors
        labels = [label for _s, label in seen]
        expected = {f"{w}-{u}-{k}" for w in range(writers) for u in range(units) for k in (0, 1)}
        assert len(labels) == len(expected) and set(labels) == expected  # each exactly once
        sequences = [s for s, _l in seen]
        assert sequences == sorted(set(sequences))
        assert backend.read_outbox() == []

    def test_find_filters_order_and_limit(self, backend: RecordBackend) -> None:
        self._commit(
            backend,
            *(
                thing(
                    f"t{i:02d}",
                    name="even" if i % 2 == 0 else "odd",
                    amount=Decimal(i) / 4,
                    due=None if i == 7 else date(2026, 1, 1) + timedelta(days=i),
                    flag=i % 3 == 0,
                    n=i,
                )
                for i in range(12)
            ),
        )
        tx = backend.begin()

        def ids(records: list[Record]) -> list[str]:
            return [r.id for r in records]

        assert ids(tx.find("thing", where={"name": "odd"})) == [
            "t01",
            "t03",
            "t05",
            "t07",
            "t09",
            "t11",
        ]
        assert ids(tx.find("thing", where={"n": In((2, 3, 99))})) == ["t02", "t03"]
        assert ids(tx.find("thing", where={"flag": True, "name": "even"})) == ["t00", "t06"]
        assert ids(tx.find("thing", where={"amount": Range(Decimal("1.5"), Decimal("2.25"))})) == [
            "t06",
            "t07",
            "t08",
        ]
        inclusive = Range(upper=date(2026, 1, 3), upper_inclusive=True)
        assert ids(tx.find("thing", where={"due": inclusive})) == ["t00", "t01", "t02"]
        assert ids(tx.find("thing", where={"due": None})) == ["t07"]
        by_due = ids(tx.find("thing", order_by="due", limit=3))
        assert by_due == ["t00", "t01", "t02"]
        assert ids(tx.find("thing", order_by="due"))[-1] == "t07"  # NULLs last
        assert tx.count("thing", where={"name": "even"}) == 6
        with pytest.raises(ValueError, match="no column"):
            tx.find("thing", where={"nope": 1})
        tx.rollback()

    def test_keyset_scan_over_partitions_returns_every_row_once(
        self, backend: RecordBackend
    ) -> None:
        total = 150
        self._commit(backend, *(thing(f"id-{i:04d}", n=i) for i in range(total)))
        seen: list[str] = []
        for part in range(4):
            after: tuple[Any, str] | None = None
            while True:
                tx = backend.begin()
                batch = tx.find(
                    "thing",
                    where={"partition": Partition(part, 4)},
                    order_by="id",
                    after=after,
                    limit=7,
                )
                tx.rollback()
                if not batch:
                    break
                seen.extend(r.id for r in batch)
                after = (batch[-1].id, batch[-1].id)
        assert sorted(seen) == [f"id-{i:04d}" for i in range(total)]
        assert len(seen) == total

    def test_keyset_pagination_by_a_column(self, backend: RecordBackend) -> None:
        amounts = [Decimal("5"), None, Decimal("1.5"), Decimal("5"), None, Decimal("-2"), BIG]
        self._commit(
            backend,
            *(thing(f"k{i:02d}", amount=a, due=None, n=i) for i, a in enumerate(amounts * 3)),  # type: ignore[arg-type]
        )

        def pages(where: dict[str, Any] | None, size: int) -> list[str]:
            seen: list[str] = []
            after: tuple[Any, str] | None = None
            while True:
                tx = backend.begin()
                batch = tx.find("thing", where=where, order_by="amount", after=after, limit=size)
                tx.rollback()
                if not batch:
                    return seen
                seen.extend(r.id for r in batch)
                after = (batch[-1].columns["amount"], batch[-1].id)

        tx = backend.begin()
        everything = [r.id for r in tx.find("thing", order_by="amount")]
        positive = Range(lower=Decimal("0"))
        ranged = [r.id for r in tx.find("thing", where={"amount": positive}, order_by="amount")]
        tx.rollback()
        assert len(everything) == 21 and len(ranged) == 12
        for size in (1, 2, 5):
            assert pages(None, size) == everything  # NULLs last, each row once
            assert pages({"amount": positive}, size) == ranged

    def test_concurrent_writers_never_lose_an_update(self, backend: RecordBackend) -> None:
        self._commit(backend, thing("counter", n=0))
        threads, increments = 8, 10
        errors: list[BaseException] = []

        def work() -> None:
            try:
                done = 0
                while done < increments:
                    tx = backend.begin()
                    try:
                        current = tx.get("thing", "counter")
                        assert current is not None
                        n = int(current.columns["n"]) + 1  # type: ignore[arg-type]
                        tx.update(thing("counter", version=current.version + 1, n=n))
                        tx.commit()
                        done += 1
                    except ConflictError:
                        tx.rollback()
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        pool = [threading.Thread(target=work) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=120)
        assert not errors, errors
        tx = backend.begin()
        final = tx.get("thing", "counter")
        tx.rollback()
        assert final is not None
        assert final.columns["n"] == threads * increments
        assert final.version == threads * increments + 1


class UnitOfWorkContract(ConsistencyContract, HygieneContract):
    """Domain-level storage behaviour. Implement `create_store` and `corrupt_document`."""

    def create_store(self) -> RecordStore:
        raise NotImplementedError

    def corrupt_document(self, store: RecordStore, kind: str, record_id: str, text: str) -> None:
        """Overwrite the stored document of a record with raw `text` (for DataError tests)."""
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[RecordStore]:
        s = self.create_store()
        try:
            yield s
        finally:
            s.close()

    def _save(self, store: RecordStore, *aggregates: Aggregate) -> None:
        with store.unit_of_work() as uow:
            for agg in aggregates:
                getattr(uow, _repo_of(agg)).add(agg)
            uow.commit()

    @settings(
        max_examples=25,
        deadline=None,
        # each adapter subclass runs this test with its own store: that is intended
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.differing_executors,
        ],
    )
    @given(aggregate=cs.aggregates())
    def test_every_aggregate_round_trips(self, aggregate: Aggregate) -> None:
        store = self.create_store()  # one store per example: examples repeat ids when shrinking
        try:
            self._save(store, aggregate)
            with store.unit_of_work() as uow:
                loaded = getattr(uow, _repo_of(aggregate)).get(aggregate.id)
            assert loaded == aggregate
            assert loaded.version == 1
            assert aggregate.version == 1
            assert loaded is not aggregate
        finally:
            store.close()

    def test_not_found_names_the_kind_and_id(self, store: RecordStore) -> None:
        with store.unit_of_work() as uow, pytest.raises(NotFoundError, match="facility fac_nope"):
            uow.facilities.get(FacilityId("fac_nope"))

    def test_uncommitted_work_is_rolled_back(self, store: RecordStore) -> None:
        customer = a_customer(SequentialIds(), registration_id=make_uscc(1))
        with store.unit_of_work() as uow:
            uow.customers.add(customer)
        with pytest.raises(RuntimeError), store.unit_of_work() as uow:
            uow.customers.add(customer)
            raise RuntimeError("boom")
        with store.unit_of_work() as uow:
            assert not uow.customers.exists(customer.id)
        assert store.events() == []

    def test_uniqueness_of_registration_ids(self, store: RecordStore) -> None:
        ids = SequentialIds()
        self._save(store, a_customer(ids, registration_id=make_uscc(7)))
        twin = a_customer(ids, registration_id=make_uscc(7))
        with pytest.raises(IntegrityError), store.unit_of_work() as uow:
            uow.customers.add(twin)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 1
            found = uow.customers.by_registration_id(make_uscc(7))
            assert found is not None

    def test_stale_version_conflicts_and_nothing_partial_is_stored(
        self, store: RecordStore
    ) -> None:
        ids = SequentialIds(100)
        tree = a_facility_tree(ids)
        self._save(store, *tree.nodes)
        node_id = tree.products[0].id
        first, second = store.unit_of_work(), store.unit_of_work()
        with first, second:
            a = LimitTree(first.facilities.path_to_root(node_id))
            b = LimitTree(second.facilities.path_to_root(node_id))
            a.draw(node_id, M("100.00 CNY"), on=tree.root.start_date)
            b.draw(node_id, M("200.00 CNY"), on=tree.root.start_date)
            second.customers.add(a_customer(ids, registration_id=make_uscc(99)))
            first.commit()
            with pytest.raises(ConflictError):
                second.commit()
        with store.unit_of_work() as uow:
            assert uow.facilities.get(node_id).drawn == M("100.00 CNY")
            assert uow.facilities.get(tree.root.id).drawn == M("100.00 CNY")
            assert uow.customers.by_registration_id(make_uscc(99)) is None
        drawdowns = [e for _seq, e in store.events() if type(e).__name__ == "DrawdownMade"]
        assert len(drawdowns) == 1  # the conflicting unit's events never reached the outbox

    def test_atomic_across_repositories(self, store: RecordStore) -> None:
        ids = SequentialIds(200)
        first = a_customer(ids, registration_id=make_uscc(11))
        self._save(store, first)
        loan = a_loan(ids)
        clash = a_customer(ids, registration_id=make_uscc(11))
        with pytest.raises(IntegrityError), store.unit_of_work() as uow:
            uow.drawdowns.add(loan)
            uow.customers.add(clash)
            uow.commit()
        with store.unit_of_work() as uow:
            assert not uow.drawdowns.exists(loan.id)

    def test_events_go_to_the_outbox_with_the_commit(self, store: RecordStore) -> None:
        ids = SequentialIds(300)
        tree = a_facility_tree(ids)
        self._save(store, *tree.nodes)
        with store.unit_of_work() as uow:
            limits = LimitTree(uow.facilities.path_to_root(tree.products[0].id))
            limits.draw(tree.products[0].id, M("5.00 CNY"), on=tree.root.start_date)
            uow.commit()
        with store.unit_of_work() as uow:
            limits = LimitTree(uow.facilities.path_to_root(tree.products[0].id))
            limits.draw(tree.products[0].id, M("7.00 CNY"), on=tree.root.start_date)
        types = [type(e).__name__ for _seq, e in store.events()]
        assert types.count("DrawdownMade") == 1
        assert "FacilityActivated" in types
        seqs = [seq for seq, _e in store.events()]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == len(seqs)

    def test_events_are_pruned_through_a_sequence(self, store: RecordStore) -> None:
        tree = a_facility_tree(SequentialIds(350))
        self._save(store, *tree.nodes)
        with store.unit_of_work() as uow:
            limits = LimitTree(uow.facilities.path_to_root(tree.products[0].id))
            limits.draw(tree.products[0].id, M("5.00 CNY"), on=tree.root.start_date)
            uow.commit()
        events = store.events()
        assert len(events) >= 2
        last = events[-1][0]
        assert store.prune_outbox(through=events[-2][0]) == len(events) - 1
        kept = store.events()
        assert [(s, type(e).__name__) for s, e in kept] == [(last, "DrawdownMade")]
        assert kept == events[-1:]
        with pytest.raises(OutboxRangeError, match=str(last + 1)):
            store.prune_outbox(through=last + 1)
        assert store.prune_outbox(through=last) == 1
        assert store.events() == []
        with store.unit_of_work() as uow:
            limits = LimitTree(uow.facilities.path_to_root(tree.products[0].id))
            limits.repay(tree.products[0].id, M("5.00 CNY"), on=tree.root.start_date)
            uow.commit()
        later = [s for s, _e in store.events()]
        assert later and min(later) > last  # numbering goes on after the pruned sequences

    def test_unchanged_aggregates_are_not_written(self, store: RecordStore) -> None:
        tree = a_facility_tree(SequentialIds(400))
        self._save(store, *tree.nodes)
        before = len(store.events())
        with store.unit_of_work() as uow:
            nodes = uow.facilities.tree(tree.root.id)
            assert len(nodes) == len(tree.nodes)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.facilities.get(tree.root.id).version == 1
        assert len(store.events()) == before

    def test_scans_by_partition_return_every_aggregate_once(self, store: RecordStore) -> None:
        ids = SequentialIds(500)
        customers = [a_customer(ids, registration_id=make_uscc(1000 + i)) for i in range(40)]
        self._save(store, *customers)
        seen: list[str] = []
        for part in range(3):
            with store.unit_of_work() as uow:
                for batch in uow.customers.scan(
                    slice=PortfolioSlice.partition(part, 3), batch_size=4
                ):
                    assert len(batch) <= 4
                    seen.extend(str(c.id) for c in batch)
        assert sorted(seen) == sorted(str(c.id) for c in customers)
        with pytest.raises(ConfigurationError, match="index"):
            PortfolioSlice.partition(3, 3)

    def test_scans_by_customer_range_status_and_due_date(self, store: RecordStore) -> None:
        ids = SequentialIds(900)
        trees = [a_facility_tree(ids, masters=("4000000.00",)) for _ in range(6)]
        frozen = trees[1].masters[0]
        frozen.freeze(on=frozen.start_date, reason="overdue")
        loans = [
            a_loan(ids, facility_id=t.products[0].id, customer_id=t.customers[0].id) for t in trees
        ]
        self._save(store, *(n for t in trees for n in t.nodes), *(t.customers[0] for t in trees))
        self._save(store, *loans)
        customer_ids = sorted(str(t.customers[0].id) for t in trees)
        bounds = [None, CustomerId(customer_ids[2]), CustomerId(customer_ids[4]), None]
        seen: list[str] = []
        facilities: list[str] = []
        for low, high in itertools.pairwise(bounds):
            with store.unit_of_work() as uow:
                for batch in uow.customers.scan(
                    slice=PortfolioSlice.customers(low, high), batch_size=1
                ):
                    seen.extend(str(c.id) for c in batch)
                for fbatch in uow.facilities.scan(
                    slice=PortfolioSlice.customers(low, high), batch_size=2
                ):
                    assert len(fbatch) <= 2
                    facilities.extend(str(f.id) for f in fbatch)
        assert sorted(seen) == customer_ids  # every customer once across the ranges
        with_customer = [n for t in trees for n in t.nodes if n.customer_id is not None]
        assert sorted(facilities) == sorted(str(n.id) for n in with_customer)
        with store.unit_of_work() as uow:
            found = [f for b in uow.facilities.scan(status=FacilityStatus.FROZEN) for f in b]
            assert [f.id for f in found] == [frozen.id]
            first_due = loans[0].schedule.installments[0].due_date
            assert [d for b in uow.drawdowns.scan(unpaid_due_before=first_due) for d in b] == []
            due = [
                d.id
                for b in uow.drawdowns.scan(
                    unpaid_due_before=first_due + timedelta(days=1),
                    slice=PortfolioSlice.partition(1, 2),
                )
                for d in b
            ]
            other = [
                d.id
                for b in uow.drawdowns.scan(
                    unpaid_due_before=first_due + timedelta(days=1),
                    slice=PortfolioSlice.partition(0, 2),
                )
                for d in b
            ]
            assert sorted(due + other) == sorted(loan.id for loan in loans)

    def test_hostile_texts_and_huge_amounts_round_trip(self, store: RecordStore) -> None:
        ids = SequentialIds(950)
        customers = [
            a_customer(ids, legal_name=text, registration_id=make_uscc(950 + i))
            for i, text in enumerate(HOSTILE_TEXTS)
        ]
        tree = a_facility_tree(
            ids,
            group_limit=str(BIG),
            masters=(str(BIG),),
            products=((ProductType.TERM_LOAN, str(BIG)),),
        )
        self._save(store, *customers, *tree.nodes)
        with store.unit_of_work() as uow:
            for c in customers:
                loaded = uow.customers.get(c.id)
                assert loaded.legal_name == c.legal_name
                assert loaded == c
            limits = LimitTree(uow.facilities.path_to_root(tree.products[0].id))
            limits.draw(tree.products[0].id, Money.of("0.01", "CNY"), on=tree.root.start_date)
            uow.commit()
        with store.unit_of_work() as uow:
            root = uow.facilities.get(tree.root.id)
            assert root.limit == Money.of(BIG, "CNY")
            assert root.drawn == M("0.01 CNY")
            assert [f.id for f in uow.facilities.find(customer_id=tree.customers[0].id)] != []

    def test_loaded_aggregates_are_private_copies(self, store: RecordStore) -> None:
        tree = a_facility_tree(SequentialIds(980))
        self._save(store, *tree.nodes)
        node_id = tree.products[0].id
        with store.unit_of_work() as uow:
            mine = uow.facilities.get(node_id)
            mine.freeze(on=mine.start_date, reason="never committed")
            with store.unit_of_work() as other:  # another unit sees the stored state only
                assert other.facilities.get(node_id).status is FacilityStatus.ACTIVE
        mine.unfreeze(on=mine.start_date, reason="after the unit ended")
        with store.unit_of_work() as uow:
            again = uow.facilities.get(node_id)
            assert again is not mine
            assert again.status is FacilityStatus.ACTIVE
            again.freeze(on=again.start_date, reason="committed")
            uow.commit()
        again.unfreeze(on=again.start_date, reason="after commit: not stored")
        with store.unit_of_work() as uow:
            stored = uow.facilities.get(node_id)
            assert stored.status is FacilityStatus.FROZEN
            assert stored.version == 2

    def test_repository_queries(self, store: RecordStore) -> None:
        ids = SequentialIds(600)
        tree = a_facility_tree(ids)
        loan = a_loan(ids, facility_id=tree.products[0].id, customer_id=tree.customers[0].id)
        tree.customers[0].activate(on=tree.root.start_date)
        self._save(store, *tree.nodes, *tree.customers, tree.group, loan)
        first_due = loan.schedule.installments[0].due_date
        with store.unit_of_work() as uow:
            assert [f.id for f in uow.facilities.path_to_root(tree.products[0].id)] == [
                tree.root.id,
                tree.masters[0].id,
                tree.products[0].id,
            ]
            assert {f.id for f in uow.facilities.children(tree.masters[0].id)} == {
                tree.products[0].id,
                tree.products[1].id,
            }
            assert {f.id for f in uow.facilities.tree(tree.root.id)} == {n.id for n in tree.nodes}
            assert len(uow.facilities.find(customer_id=tree.customers[0].id)) == 3
            assert [c.id for c in uow.customers.find(status=CustomerStatus.ACTIVE)] == [
                tree.customers[0].id
            ]
            assert uow.groups.by_limit_facility(tree.root.id) is not None
            assert uow.drawdowns.find(unpaid_due_before=first_due) == []
            due = uow.drawdowns.find(unpaid_due_before=first_due + timedelta(days=1))
            assert [d.id for d in due] == [loan.id]

    def test_queries_of_the_other_repositories(self, store: RecordStore) -> None:
        ids = SequentialIds(1100)
        day = date(2026, 3, 2)
        cus_a, cus_b = CustomerId("cus_a"), CustomerId("cus_b")
        fac = FacilityId("fac_x")
        user_1, user_2 = UserId("usr_1"), UserId("usr_2")
        tasks = [
            FollowUpTask.schedule(
                ids, customer_id=cus, title=f"回访 {i}", due=day + timedelta(days=i), assignee=who
            )
            for i, (cus, who) in enumerate([(cus_a, user_1), (cus_a, user_2), (cus_b, user_1)])
        ]
        tasks[1].complete(on=day)
        events = [
            RiskEvent.raise_(
                ids,
                type=kind,
                severity=severity,
                customer_id=cus_a,
                facility_id=fac,
                detected_at=AT,
                business_date=day,
                rule_ref="cn-2023@1.0.0#ab12cd34ef56/EW-R-DPD",
                reason_code="R1",
            )
            for kind, severity in [("EW-R-DPD", Severity.RED), ("EW-Y-TAX", Severity.YELLOW)]
        ]
        complaint, visit = (
            Interaction.log(
                ids,
                customer_id=cus_a,
                kind=kind,
                channel=Channel.PHONE,
                at=AT,
                by=user_1,
                summary="客户来电",
            )
            for kind in (InteractionKind.COMPLAINT, InteractionKind.VISIT)
        )
        entries = [
            ClassificationEntry.decide(
                ids,
                customer_id=cus_a,
                facility_id=fac,
                as_of=day + timedelta(days=i),
                category=category,
                ruleset_ref="cn-2023@1.0.0#ab12cd34ef56",
            )
            for i, category in enumerate([Category.NORMAL, Category.SPECIAL_MENTION])
        ]
        collateral = Collateral.register(
            ids,
            type=CollateralType.REAL_ESTATE,
            owner_name="示例企业",
            valuation=Valuation(M("5000000.00 CNY"), day, "评估所"),
            haircut=Rate.of("0.3"),
            owner_id=cus_a,
            revaluation_due=day + timedelta(days=30),
        )
        guarantee = Guarantee.register(
            ids,
            type=GuaranteeType.JOINT_AND_SEVERAL,
            guarantor_name="担保公司",
            amount=M("1000000.00 CNY"),
            valid_until=day + timedelta(days=365),
            guarantor_id=cus_b,
        )
        application = an_application(ids, customer_id=cus_a)
        credit_file = a_credit_file(ids, customer_id=cus_b)
        self._save(
            store,
            *tasks,
            *events,
            complaint,
            visit,
            *entries,
            collateral,
            guarantee,
            application,
            credit_file,
        )
        with store.unit_of_work() as uow:
            due = uow.tasks.find(due_on_or_before=day + timedelta(days=1))
            assert [t.id for t in due] == [tasks[0].id, tasks[1].id]  # ordered by due date
            assert [t.id for t in uow.tasks.find(assignee=user_1, customer_id=cus_b)] == [
                tasks[2].id
            ]
            assert [t.id for t in uow.tasks.find(status=tasks[1].status)] == [tasks[1].id]
            red = uow.risk_events.find(severity=Severity.RED, customer_id=cus_a)
            assert [e.id for e in red] == [events[0].id]
            assert red[0].review_due is not None
            assert [
                e.id
                for e in uow.risk_events.find(review_due_before=red[0].review_due + timedelta(1))
            ] == [events[0].id]
            assert [i.id for i in uow.interactions.find(open_complaints=True)] == [complaint.id]
            assert len(uow.interactions.find(customer_id=cus_a)) == 2
            assert [e.id for e in uow.classifications.history(facility_id=fac)] == [
                e.id for e in entries
            ]
            latest = uow.classifications.latest(facility_id=fac)
            assert latest is not None and latest.category is Category.SPECIAL_MENTION
            assert uow.classifications.find(category=Category.NORMAL)[0].id == entries[0].id
            assert uow.collaterals.revaluation_due(as_of=day) == []
            assert [c.id for c in uow.collaterals.revaluation_due(as_of=day + timedelta(30))] == [
                collateral.id
            ]
            assert [g.id for g in uow.guarantees.by_guarantor(cus_b)] == [guarantee.id]
            assert [a.id for a in uow.applications.find(customer_id=cus_a)] == [application.id]
            found_file = uow.credit_files.for_customer(cus_b)
            assert found_file is not None and found_file.id == credit_file.id
            assert uow.credit_files.for_customer(cus_a) is None

    def test_audit_log_is_append_only_and_transactional(self, store: RecordStore) -> None:
        with store.unit_of_work() as uow:
            uow.audit.append(
                AuditEntry(id="a1", at=AT, actor="usr_1", action="approve", subject="app:1")
            )
        with store.unit_of_work() as uow:
            assert uow.audit.entries() == []
            uow.audit.append(
                AuditEntry(id="a1", at=AT, actor="usr_1", action="approve", subject="app:1")
            )
            uow.commit()
        with store.unit_of_work() as uow:
            assert [e.action for e in uow.audit.entries(subject="app:1")] == ["approve"]
            uow.audit.append(
                AuditEntry(id="a1", at=AT, actor="usr_2", action="again", subject="app:1")
            )
            with pytest.raises(IntegrityError):
                uow.commit()

    def test_audit_entries_are_chained_at_commit(self, store: RecordStore) -> None:
        with store.unit_of_work() as uow:
            assert uow.audit.head() == ChainHead(0, GENESIS)
            for i in (1, 2):
                uow.audit.append(
                    AuditEntry(id=f"c{i}", at=AT, actor="usr_1", action="draw", subject="f:1")
                )
            uow.commit()
            uow.audit.append(
                AuditEntry(id="c3", at=AT, actor="usr_2", action="repay", subject="f:1")
            )
            uow.commit()
        with store.unit_of_work() as uow:
            entries = uow.audit.entries()
            head = uow.audit.head()
            assert uow.audit.get("c2") == entries[1]
            assert uow.audit.get("nope") is None
        assert [(e.id, e.sequence) for e in entries] == [("c1", 1), ("c2", 2), ("c3", 3)]
        assert entries[0].prev_hash == GENESIS
        assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
        assert head == ChainHead(3, entries[-1].hash)
        assert verify_chain(entries, head).ok
        assert not verify_chain(entries[:-1], head).ok  # a dropped last entry shows

    def test_concurrent_audit_appends_never_fork_the_chain(self, store: RecordStore) -> None:
        errors: list[BaseException] = []

        def work(worker: int) -> None:
            try:
                for n in range(5):
                    while True:
                        try:
                            with store.unit_of_work() as uow:
                                uow.audit.append(
                                    AuditEntry(
                                        id=f"w{worker}-{n}",
                                        at=AT,
                                        actor=f"usr_{worker}",
                                        action="x",
                                        subject="s",
                                    )
                                )
                                uow.commit()
                            break
                        except ConflictError:
                            continue
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        pool = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=300)
        assert not errors, errors
        with store.unit_of_work() as uow:
            entries, head = uow.audit.entries(), uow.audit.head()
        assert sorted(e.sequence or 0 for e in entries) == list(range(1, 21))
        assert verify_chain(entries, head) == AuditVerification(True, 20)

    def test_corrupt_documents_raise_data_error_naming_the_id(self, store: RecordStore) -> None:
        ids = SequentialIds(700)
        good, bad, future = (a_customer(ids, registration_id=make_uscc(700 + i)) for i in range(3))
        self._save(store, good, bad, future)
        self.corrupt_document(store, "customer", str(bad.id), "{not json")
        self.corrupt_document(
            store,
            "customer",
            str(future.id),
            '{"schema_version": 99, "kind": "customer", "data": {}}',
        )
        with store.unit_of_work() as uow:
            with pytest.raises(DataError, match=str(bad.id)):
                uow.customers.get(bad.id)
            with pytest.raises(DataError, match=rf"{future.id}.*schema version 99"):
                uow.customers.get(future.id)
            assert uow.customers.get(good.id) == good

    @pytest.mark.parametrize(
        "text",
        [
            "[" * 100_000,  # deeper than Python's stack
            '{"schema_version": 1, "kind": "customer", "data": []}',
            '{"schema_version": 1, "kind": "customer", "data": "x"}',
            '{"schema_version": [], "kind": "customer", "data": {}}',
            '{"schema_version": 1, "kind": "customer", "data": {"id": {"deep": [[[]]]}}}',
        ],
    )
    def test_hostile_stored_documents_are_data_errors(self, store: RecordStore, text: str) -> None:
        ids = SequentialIds(750)
        victim = a_customer(ids, registration_id=make_uscc(750))
        self._save(store, victim)
        self.corrupt_document(store, "customer", str(victim.id), text)
        with store.unit_of_work() as uow, pytest.raises(DataError, match=f"customer {victim.id}"):
            uow.customers.get(victim.id)

    def test_concurrent_drawdowns_never_exceed_the_limit(self, store: RecordStore) -> None:
        ids = SequentialIds(800)
        tree = a_facility_tree(
            ids,
            products=((ProductType.WORKING_CAPITAL, "1000.00"),),
            masters=("1000.00",),
            group_limit="1000.00",
        )
        self._save(store, *tree.nodes)
        node_id = tree.products[0].id
        day = tree.root.start_date
        granted: list[Money] = []
        refused: list[int] = []
        errors: list[BaseException] = []
        lock = threading.Lock()

        def work(worker: int) -> None:
            try:
                for _ in range(6):
                    amount = Money.of("25.00", "CNY")
                    while True:
                        try:
                            with store.unit_of_work() as uow:
                                limits = LimitTree(uow.facilities.path_to_root(node_id))
                                limits.draw(node_id, amount, on=day)
                                uow.commit()
                            with lock:
                                granted.append(amount)
                            break
                        except ConflictError:
                            continue
                        except LimitExceededError:
                            with lock:
                                refused.append(worker)
                            break
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        pool = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=300)
        assert not errors, errors
        with store.unit_of_work() as uow:
            stored: list[Facility] = uow.facilities.path_to_root(node_id)
        total = Money.sum(granted, "CNY")
        assert all(n.drawn == total for n in stored)  # no lost update anywhere on the path
        assert total == M("1000.00 CNY")  # 48 attempts of 25.00: exactly 40 fit
        assert len(refused) == 8
        assert LimitTree(stored).violations() == []


def _repo_of(aggregate: Aggregate) -> str:
    from creditmgmt.adapters.records.kinds import binding_for

    return _REPOS[binding_for(aggregate).kind]


_REPOS = {
    "customer": "customers",
    "group": "groups",
    "credit_file": "credit_files",
    "facility": "facilities",
    "drawdown": "drawdowns",
    "application": "applications",
    "risk_event": "risk_events",
    "interaction": "interactions",
    "task": "tasks",
    "classification": "classifications",
    "collateral": "collaterals",
    "guarantee": "guarantees",
}


def fixed_clock() -> FixedClock:
    return FixedClock(AT)
