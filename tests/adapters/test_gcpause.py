"""The collector pause used by bulk commits and store loading restores the collector."""

from __future__ import annotations

import gc
import threading

from creditmgmt.adapters.records.gcpause import gc_paused


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
