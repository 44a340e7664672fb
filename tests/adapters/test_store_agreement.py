"""Memory, SQLite and the file store, driven by the same random operations (outbox pruning and
reopening the file store among them), must agree."""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from creditmgmt.adapters.files import FileBackend
from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.domain import CreditMgmtError, FacilityId, LimitTree, Money
from creditmgmt.domain.facility import FacilityStatus
from creditmgmt.ports import PortfolioSlice
from creditmgmt.testing.builders import SequentialIds, a_customer, a_facility_tree, make_uscc
from creditmgmt.testing.conformance import fixed_clock

DAY = date(2026, 2, 2)


def _outcome(fn: Callable[[], Any]) -> Any:
    try:
        return ("ok", fn())
    except CreditMgmtError as e:
        return ("error", type(e).__name__)


class StoresAgree(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="cm-agree-"))
        self.stores = {
            "memory": RecordStore(MemoryBackend(), clock=fixed_clock()),
            "sqlite": RecordStore(
                SqlBackend.from_url(f"sqlite:///{self.dir / 'a.db'}"), clock=fixed_clock()
            ),
            "files": RecordStore(
                FileBackend(self.dir / "files", create=True, snapshot_every=3),
                clock=fixed_clock(),
            ),
        }
        self.nodes: list[FacilityId] = []
        self.customers: list[str] = []
        self.serial = 0

    def teardown(self) -> None:
        for s in self.stores.values():
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _each(self, action: Callable[[RecordStore], Any]) -> dict[str, Any]:
        results = {name: _outcome(functools.partial(action, s)) for name, s in self.stores.items()}
        assert len({repr(v) for v in results.values()}) == 1, results
        return results

    @rule()
    def open_tree(self) -> None:
        self.serial += 1
        tree = a_facility_tree(SequentialIds(self.serial * 1000))

        def save(store: RecordStore) -> None:
            copy = a_facility_tree(SequentialIds(self.serial * 1000))
            with store.unit_of_work() as uow:
                for node in copy.nodes:
                    uow.facilities.add(node)
                uow.commit()

        self._each(save)
        self.nodes.extend(n.id for n in tree.products)

    @rule(code=st.integers(0, 5))
    def add_customer(self, code: int) -> None:
        self.serial += 1
        serial = self.serial

        def save(store: RecordStore) -> str:
            customer = a_customer(SequentialIds(serial * 1000), registration_id=make_uscc(code))
            with store.unit_of_work() as uow:
                uow.customers.add(customer)
                uow.commit()
            return str(customer.id)

        result = self._each(save)["memory"]
        if result[0] == "ok":
            self.customers.append(result[1])

    @rule(index=st.integers(0, 50), cents=st.integers(-100, 300_000_000), commit=st.booleans())
    def draw(self, index: int, cents: int, commit: bool) -> None:
        if not self.nodes:
            return
        node = self.nodes[index % len(self.nodes)]
        amount = Money.of(cents, "CNY") / 100

        def act(store: RecordStore) -> str:
            with store.unit_of_work() as uow:
                LimitTree(uow.facilities.path_to_root(node)).draw(node, amount, on=DAY)
                if commit:
                    uow.commit()
            return "done"

        self._each(act)

    @rule(index=st.integers(0, 50), cents=st.integers(1, 300_000_000))
    def repay(self, index: int, cents: int) -> None:
        if not self.nodes:
            return
        node = self.nodes[index % len(self.nodes)]

        def act(store: RecordStore) -> None:
            with store.unit_of_work() as uow:
                LimitTree(uow.facilities.path_to_root(node)).repay(
                    node, Money.of(cents, "CNY") / 100, on=DAY
                )
                uow.commit()

        self._each(act)

    @rule(index=st.integers(0, 50))
    def stale_write(self, index: int) -> None:
        if not self.nodes:
            return
        node = self.nodes[index % len(self.nodes)]

        def act(store: RecordStore) -> None:
            first, second = store.unit_of_work(), store.unit_of_work()
            with first, second:
                a = LimitTree(first.facilities.path_to_root(node))
                b = LimitTree(second.facilities.path_to_root(node))
                a.draw(node, Money.of("0.01", "CNY"), on=DAY)
                b.draw(node, Money.of("0.01", "CNY"), on=DAY)
                first.commit()
                second.commit()

        self._each(act)

    @rule(index=st.integers(0, 50), freeze=st.booleans())
    def freeze_or_unfreeze(self, index: int, freeze: bool) -> None:
        if not self.nodes:
            return
        node = self.nodes[index % len(self.nodes)]

        def act(store: RecordStore) -> None:
            with store.unit_of_work() as uow:
                facility = uow.facilities.get(node)
                if freeze:
                    facility.freeze(on=DAY, reason="agreement test")
                else:
                    facility.unfreeze(on=DAY, reason="agreement test")
                uow.commit()

        self._each(act)

    @rule(through=st.integers(-1, 40))
    def prune_outbox(self, through: int) -> None:
        # in range: the same count everywhere; beyond the last sequence: OutboxRangeError
        self._each(lambda store: store.prune_outbox(through=through))

    @rule(crash=st.booleans())
    def reopen_file_store(self, crash: bool) -> None:
        backend = self.stores["files"].backend
        assert isinstance(backend, FileBackend)
        if crash:  # no snapshot on the way out: the journal must bring everything back
            backend._journal.close()
            backend._lock.release()
            backend.state.closed = True
        else:
            backend.close()
        self.stores["files"] = RecordStore(
            FileBackend(self.dir / "files", create=True, snapshot_every=3), clock=fixed_clock()
        )

    @invariant()
    def same_state(self) -> None:
        def snapshot(store: RecordStore) -> Any:
            with store.unit_of_work() as uow:
                facilities = [
                    (str(f.id), f.version, str(f.drawn), f.status.value)
                    for batch in uow.facilities.scan(batch_size=5)
                    for f in batch
                ]
                customers = [str(c.id) for batch in uow.customers.scan() for c in batch]
                frozen = [
                    str(f.id)
                    for batch in uow.facilities.scan(status=FacilityStatus.FROZEN, batch_size=2)
                    for f in batch
                ]
                partition = [
                    str(f.id)
                    for batch in uow.facilities.scan(
                        slice=PortfolioSlice.partition(1, 3), batch_size=4
                    )
                    for f in batch
                ]
            events = [(seq, type(e).__name__) for seq, e in store.events(limit=100_000)]
            return facilities, customers, frozen, partition, events

        self._each(snapshot)


StoresAgree.TestCase.settings = settings(max_examples=12, stateful_step_count=15, deadline=None)
TestStoresAgree = StoresAgree.TestCase
