"""`PortfolioSlice`: what a scan reads, validated where it is made, and the one hash the
repositories and the daily run partition by."""

from __future__ import annotations

import pytest

from creditmgmt.adapters.memory import MemoryBackend
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain import CustomerId
from creditmgmt.ports import ConfigurationError, PortfolioSlice
from creditmgmt.ports.slices import bucket_of
from creditmgmt.services.monitoring import partition_of
from creditmgmt.testing.builders import SequentialIds, a_customer, make_uscc
from creditmgmt.testing.conformance import fixed_clock


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: PortfolioSlice.partition(0, 0), "count"),
        (lambda: PortfolioSlice.partition(2, 2), "index"),
        (lambda: PortfolioSlice.partition(-1, 3), "index"),
        (lambda: PortfolioSlice.partition(True, 3), "index"),
        (lambda: PortfolioSlice.customers("cus_a"), "customer_from"),  # type: ignore[arg-type]
        (lambda: PortfolioSlice.customers(CustomerId("cus_b"), CustomerId("cus_a")), "customer_to"),
    ],
)
def test_a_bad_slice_is_refused_naming_the_field(make: object, field: str) -> None:
    with pytest.raises(ConfigurationError, match=field) as raised:
        make()  # type: ignore[operator]
    assert isinstance(raised.value, ValueError)


def _store_with_customers(count: int) -> tuple[RecordStore, list[str]]:
    store = RecordStore(MemoryBackend(), clock=fixed_clock())
    ids = SequentialIds(7)
    customers = [a_customer(ids, registration_id=make_uscc(2000 + i)) for i in range(count)]
    with store.unit_of_work() as uow:
        for c in customers:
            uow.customers.add(c)
        uow.commit()
    return store, sorted(str(c.id) for c in customers)


def test_a_partition_within_a_range_reads_exactly_its_customers() -> None:
    store, ids = _store_with_customers(12)
    low, high = CustomerId(ids[2]), CustomerId(ids[9])
    share = PortfolioSlice(index=1, count=3, customer_from=low, customer_to=high)
    with store.unit_of_work() as uow:
        got = [str(c.id) for b in uow.customers.scan(slice=share, batch_size=2) for c in b]
    assert got == [i for i in ids[2:9] if bucket_of(i) % 3 == 1]
    assert got == [i for i in ids[2:9] if share.holds_key(i)]


def test_scan_refuses_what_its_kind_cannot_apply() -> None:
    store, _ids = _store_with_customers(1)
    with store.unit_of_work() as uow:
        with pytest.raises(ConfigurationError, match="collateral has no customer"):
            uow.collaterals.scan(slice=PortfolioSlice.customers(CustomerId("cus_a")))
        with pytest.raises(ConfigurationError, match="batch_size"):
            uow.customers.scan(batch_size=0)
        with pytest.raises(TypeError, match="'maturing_before'"):
            uow.customers.scan(maturing_before=None)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="'segmnet'"):
            uow.customers.find(segmnet=None)  # type: ignore[call-arg]


def test_the_daily_run_partitions_customers_by_the_slice_hash() -> None:
    ids = SequentialIds(40)
    customers = [a_customer(ids, registration_id=make_uscc(3000 + i)) for i in range(20)]
    for n in (1, 3, 7):
        for customer in customers:
            part = partition_of(customer, n)
            assert PortfolioSlice.partition(part, n).holds_key(str(customer.id))
            assert part == bucket_of(str(customer.id)) % n
