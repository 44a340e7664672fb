"""Domain-level storage behaviour through the shared unit of work: every aggregate round-trips,
conflicts and atomicity, the event outbox, private copies, corrupt documents, concurrent
drawdowns; scans, queries and the audit chain come from their own rooms, snapshot reads and
safe failure from `testing.consistency` and `testing.hygiene`."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings

from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility, FacilityStatus, LimitExceededError, LimitTree
from creditmgmt.domain.ids import FacilityId
from creditmgmt.domain.money import Money
from creditmgmt.domain.products import ProductType
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
    a_customer,
    a_facility_tree,
    a_loan,
    make_uscc,
)
from creditmgmt.testing.conformance.store_audit import AuditChainContract
from creditmgmt.testing.conformance.store_base import repository_of
from creditmgmt.testing.conformance.store_queries import RepositoryQueriesContract
from creditmgmt.testing.conformance.synthetic import (
    BIG,
    HOSTILE_TEXTS,
    in_threads,
)
from creditmgmt.testing.consistency import ConsistencyContract
from creditmgmt.testing.hygiene import HygieneContract


class UnitOfWorkContract(
    RepositoryQueriesContract, AuditChainContract, ConsistencyContract, HygieneContract
):
    """Domain-level storage behaviour. Implement `create_store` and `corrupt_document`."""

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
                loaded = getattr(uow, repository_of(aggregate)).get(aggregate.id)
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
        lock = threading.Lock()

        def work(worker: int) -> None:
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

        in_threads(work, 8)
        with store.unit_of_work() as uow:
            stored: list[Facility] = uow.facilities.path_to_root(node_id)
        total = Money.sum(granted, "CNY")
        assert all(n.drawn == total for n in stored)  # no lost update anywhere on the path
        assert total == M("1000.00 CNY")  # 48 attempts of 25.00: exactly 40 fit
        assert len(refused) == 8
        assert LimitTree(stored).violations() == []
