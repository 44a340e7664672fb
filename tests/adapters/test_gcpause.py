"""The collector pause used by bulk commits and store loading restores the collector."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from pathlib import Path

from creditmgmt._gcpause import gc_paused


def test_pauses_nest_and_restore_the_previous_state() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_overlapping_pauses_in_threads_end_with_the_collector_on() -> None:
    inside = threading.Barrier(2)
    leave = threading.Event()

    def pause() -> None:
        with gc_paused():
            inside.wait(timeout=10)
            leave.wait(timeout=10)

    worker = threading.Thread(target=pause)
    worker.start()
    with gc_paused():
        inside.wait(timeout=10)
    assert not gc.isenabled()  # the other thread still pauses it
    leave.set()
    worker.join(timeout=10)
    assert gc.isenabled()


def test_an_exception_inside_still_restores_the_collector() -> None:
    try:
        with gc_paused():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()


def test_batch_reads_pause_the_collector_while_decoding_and_never_across_a_yield(
    tmp_path: Path, collector_states: Callable[[object, str], list[bool]]
) -> None:
    """`find`, `get_many` and each batch of `scan` parse and decode with the collector paused;
    the caller's code between two batches of a scan runs with it on."""
    from creditmgmt.adapters.records import codec
    from creditmgmt.adapters.stores import open_store
    from creditmgmt.testing.builders import SequentialIds, a_customer, make_uscc
    from creditmgmt.testing.conformance import fixed_clock

    store = open_store(f"sqlite:///{tmp_path / 'book.db'}", clock=fixed_clock())
    ids = SequentialIds()
    customers = [a_customer(ids, registration_id=make_uscc(n + 1)) for n in range(5)]
    with store.unit_of_work() as uow:
        for customer in customers:
            uow.customers.add(customer)
        uow.commit()
    decoding = collector_states(codec, "decode")
    try:
        with store.unit_of_work() as uow:
            batches = 0
            for batch in uow.customers.scan(batch_size=2):
                assert gc.isenabled(), "the collector stays paused across a scan's yield"
                batches += len(batch)
            assert batches == 5
        with store.unit_of_work() as uow:
            assert len(uow.customers.get_many([c.id for c in customers])) == 5
            assert gc.isenabled()
        with store.unit_of_work() as uow:
            assert len(uow.customers.find()) == 5
            assert gc.isenabled()
    finally:
        store.close()
    assert decoding == [False] * 15  # every document decoded, each with the collector paused
