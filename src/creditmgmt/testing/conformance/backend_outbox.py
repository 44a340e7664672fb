"""The record backend's outbox: written with its unit in order, pruned through a sequence,
its sequences never handed out twice, across reopening and beside concurrent commits."""

from __future__ import annotations

import threading

import pytest

from creditmgmt.adapters.records.contract import (
    OutboxEntry,
    RecordBackend,
)
from creditmgmt.ports.errors import OutboxRangeError
from creditmgmt.testing.conformance.backend_base import BackendHooks
from creditmgmt.testing.conformance.synthetic import (
    AT,
    HOSTILE_TEXTS,
    TEST_KINDS,
    thing,
)


class RecordOutboxContract(BackendHooks):
    """The outbox part of the record contract (mixed into `RecordBackendContract`)."""

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
