"""Kill a writer with SIGKILL at random points; every acknowledged commit must survive."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from creditmgmt.adapters.files import FileBackend
from creditmgmt.testing.conformance import TEST_KINDS, thing

KILLS = 50


def _writer(directory: str, start: int, acks: Connection) -> None:
    backend = FileBackend(directory, create=True, kinds=TEST_KINDS, snapshot_every=4)
    n = start
    while True:
        tx = backend.begin()
        tx.insert(thing(f"r{n:06d}", n=n))
        if n % 3 == 0:
            tx.insert(thing(f"s{n:06d}", n=n))  # multi-record commits must be all or nothing
        tx.commit()
        acks.send(n)  # acknowledged: commit() returned
        n += 1


@pytest.mark.slow
def test_sigkill_at_random_points_never_loses_an_acknowledged_commit(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    rnd = random.Random(20261124)
    acknowledged: list[int] = []
    started = time.monotonic()
    for _ in range(KILLS):
        receiver, sender = ctx.Pipe(duplex=False)
        start = acknowledged[-1] + 1 if acknowledged else 0
        proc = ctx.Process(target=_writer, args=(str(tmp_path), start, sender))
        proc.start()
        sender.close()
        time.sleep(rnd.uniform(0.005, 0.06))
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        while receiver.poll():
            try:
                acknowledged.append(receiver.recv())
            except EOFError:
                break
        receiver.close()
        backend = FileBackend(tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=4)
        tx = backend.begin()
        present = {r.id for r in tx.find("thing")}
        tx.rollback()
        missing = [n for n in acknowledged if f"r{n:06d}" not in present]
        assert not missing, f"acknowledged commits lost: {missing[:5]}"
        for r_id in present:  # nothing half-applied: the pair of a commit is both or neither
            n = int(r_id[1:])
            if r_id.startswith("r") and n % 3 == 0:
                assert f"s{n:06d}" in present
        acknowledged = sorted(int(r[1:]) for r in present if r.startswith("r"))
        backend._journal.close()
        backend._lock.release()  # leave without a snapshot, like the next crash would
    assert time.monotonic() - started < 60
    assert len(acknowledged) > KILLS  # the writer really committed between kills
