"""Store contracts for consistent reads and bounded inputs (mixed into `UnitOfWorkContract`).

- A unit of work reads one snapshot: while a writer commits draws and repayments, every tree
  a reader loads through one unit (`tree`, `path_to_root`, several `get`s) rolls up — each
  parent's drawn is its own plus its children's.
- Every store accepts exactly the values the domain accepts: the largest amount (just below
  10^18) and the longest text of each bound round-trip on all of them; what the domain refuses
  (a lone surrogate, NUL, an amount at 10^18) never reaches a store.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest

from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain.errors import InvalidMoneyError, InvalidValueError
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility, LimitTree
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import FacilityId
from creditmgmt.domain.money import MAX_AMOUNT, Money
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.text import NAME_MAX, NOTE_MAX
from creditmgmt.ports.errors import ConflictError
from creditmgmt.testing.builders import SequentialIds, a_customer, a_facility_tree, make_uscc

#: The largest amount every store holds (one cent below 10^18).
LARGEST = MAX_AMOUNT - Decimal("0.01")
#: How long the torn-read contract runs a writer against a reader (seconds).
TORN_READ_SECONDS = 2.0


class ConsistencyContract:
    """Snapshot reads and bounded inputs. Needs the `store` fixture and `_save` of
    `UnitOfWorkContract` (which mixes this class in)."""

    def _save(self, store: RecordStore, *aggregates: Aggregate) -> None:  # pragma: no cover
        raise NotImplementedError  # provided by UnitOfWorkContract

    # about 2 s: a writer thread commits while this one reads (shipped modules use no custom
    # marks, so a host's pytest runs them without registering any)
    def test_every_tree_read_in_one_unit_rolls_up_while_a_writer_commits(
        self, store: RecordStore
    ) -> None:
        tree = a_facility_tree(
            SequentialIds(700),
            group_limit="1000000.00",
            masters=("500000.00", "500000.00"),
            products=((ProductType.WORKING_CAPITAL, "200000.00"),),
        )
        self._save(store, *tree.nodes)
        root_id, day = tree.root.id, tree.root.start_date
        leaves = [p.id for p in tree.products]
        stop = threading.Event()
        errors: list[BaseException] = []
        writes = [0]

        def write() -> None:
            step = 0
            try:
                while not stop.is_set():
                    leaf = leaves[step % len(leaves)]
                    draw = (step // len(leaves)) % 2 == 0
                    try:
                        with store.unit_of_work() as uow:
                            limits = LimitTree(uow.facilities.path_to_root(leaf))
                            if draw:
                                limits.draw(leaf, Money.of("10.00", "CNY"), on=day)
                            else:
                                limits.repay(leaf, Money.of("10.00", "CNY"), on=day)
                            uow.commit()
                    except ConflictError:
                        continue
                    step += 1
                    writes[0] += 1
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        torn: list[str] = []
        reads = 0
        writer = threading.Thread(target=write)
        writer.start()
        try:
            deadline = time.monotonic() + TORN_READ_SECONDS
            while time.monotonic() < deadline or reads < 20:
                torn.extend(self._read_once(store, root_id, leaves))
                reads += 1
        finally:
            stop.set()
            writer.join(timeout=60)
        assert not errors, errors
        assert writes[0] > 0
        assert torn == [], f"{len(torn)} torn reads of {reads}: {torn[:3]}"

    def _read_once(
        self, store: RecordStore, root_id: FacilityId, leaves: list[FacilityId]
    ) -> list[str]:
        found: list[str] = []
        with store.unit_of_work() as uow:
            # a whole tree, a path, and the same nodes again one `get` at a time
            found += [f"tree: {v}" for v in LimitTree(uow.facilities.tree(root_id)).violations()]
        with store.unit_of_work() as uow:
            path = uow.facilities.path_to_root(leaves[0])
            found += [f"path: {v}" for v in _path_violations(path)]
        with store.unit_of_work() as uow:
            nodes: list[Facility] = []
            for leaf in leaves:
                node = uow.facilities.get(leaf)
                nodes.append(node)
            root = uow.facilities.get(root_id)
            masters = [uow.facilities.get(n.parent_id) for n in nodes if n.parent_id]
            for node, master in zip(nodes, masters, strict=True):
                if master.drawn != node.drawn + master.own_drawn:
                    found.append(f"gets: master drawn {master.drawn} != product's {node.drawn}")
            kids = Money.sum((m.drawn for m in masters), "CNY")
            if root.drawn != kids + root.own_drawn:
                found.append(f"gets: root drawn {root.drawn} != its children's {kids}")
        return found

    def test_a_unit_reads_one_snapshot_across_scans_gets_and_counts(
        self, store: RecordStore
    ) -> None:
        ids = SequentialIds(780)
        customers = [a_customer(ids, registration_id=make_uscc(780 + i)) for i in range(6)]
        self._save(store, *customers)
        first = customers[0]
        with store.unit_of_work() as uow:
            batches = uow.customers.scan(batch_size=2)
            seen = [c.id for c in next(batches)]  # the snapshot starts here

            def meanwhile() -> None:  # another unit commits a change and a new customer
                with store.unit_of_work() as other:
                    other.customers.get(first.id).legal_name = "Renamed Ltd"
                    other.customers.add(
                        a_customer(SequentialIds(790), registration_id=make_uscc(790))
                    )
                    other.commit()

            writer = threading.Thread(target=meanwhile)
            writer.start()
            # an in-memory SQLite database runs one unit at a time: the writer waits for us
            writer.join(timeout=2)
            seen += [c.id for b in batches for c in b]
            assert seen == sorted(c.id for c in customers)
            assert uow.customers.get(first.id).legal_name == first.legal_name
            assert uow.customers.count() == len(customers)
        writer.join(timeout=60)
        with store.unit_of_work() as uow:  # a new unit sees the other's commit
            assert uow.customers.get(first.id).legal_name == "Renamed Ltd"
            assert uow.customers.count() == len(customers) + 1

    def test_the_largest_amount_round_trips_on_every_store(self, store: RecordStore) -> None:
        big = str(LARGEST)
        tree = a_facility_tree(
            SequentialIds(720),
            group_limit=big,
            masters=(big,),
            products=((ProductType.TERM_LOAN, big),),
        )
        self._save(store, *tree.nodes)
        leaf = tree.products[0].id
        with store.unit_of_work() as uow:
            limits = LimitTree(uow.facilities.path_to_root(leaf))
            limits.draw(leaf, Money.of(big, "CNY"), on=tree.root.start_date)
            uow.commit()
        with store.unit_of_work() as uow:
            path = uow.facilities.path_to_root(leaf)
        assert [n.drawn for n in path] == [Money.of(big, "CNY")] * 3
        assert [n.limit for n in path] == [Money.of(big, "CNY")] * 3
        with pytest.raises(InvalidMoneyError, match="10\\^18"):
            Money.of(MAX_AMOUNT, "CNY")
        with pytest.raises(InvalidMoneyError, match="10\\^18"):
            path[0].drawn + Money.of("0.01", "CNY")

    def test_the_longest_texts_round_trip_on_every_store(self, store: RecordStore) -> None:
        ids = SequentialIds(740)
        # four UTF-8 bytes per character: the widest text of each bound
        name = "😀" * NAME_MAX
        customer = a_customer(ids, legal_name=name)
        group = CustomerGroup.form(ids, name="名" * NAME_MAX, controller="控" * NAME_MAX)
        group.connected_party_notes = "注" * (NOTE_MAX - 1) + "😀"
        self._save(store, customer, group)
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id) == customer
            assert uow.groups.get(group.id) == group
        with pytest.raises(InvalidValueError, match="legal_name is 201 characters"):
            a_customer(ids, legal_name="x" * (NAME_MAX + 1))

    @pytest.mark.parametrize("bad", ["lone \ud800 surrogate", "nul \x00 inside"])
    def test_text_no_store_can_keep_never_reaches_a_store(
        self, store: RecordStore, bad: str
    ) -> None:
        ids = SequentialIds(760)
        customer = a_customer(ids)
        self._save(store, customer)
        with store.unit_of_work() as uow:
            loaded = uow.customers.get(customer.id)
            with pytest.raises(InvalidValueError, match=r"Customer\.legal_name holds a"):
                loaded.legal_name = bad
            with pytest.raises(InvalidValueError, match="reason holds a"):
                loaded.watchlist(on=date(2026, 3, 2), reason=bad)
            uow.commit()  # nothing invalid is pending: the commit goes through
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id).legal_name == customer.legal_name


def _path_violations(path: list[Facility]) -> list[str]:
    """A path of the contract's tree (group, master, product: root first; one product per
    master) rolls up: the master's drawn is its own plus its product's, the group's covers the
    master's."""
    group, master, product = path
    found: list[str] = []
    if master.drawn != product.drawn + master.own_drawn:
        found.append(f"master drawn {master.drawn} != its product's {product.drawn}")
    if group.drawn < master.drawn:
        found.append(f"group drawn {group.drawn} < its master's {master.drawn}")
    return found
