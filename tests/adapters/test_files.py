from __future__ import annotations

import itertools
import json
import os
import threading
import zlib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from tests.adapters.file_store_kit import commit, crash

from creditmgmt.adapters.files import FileBackend
from creditmgmt.adapters.files.backend import path_from_url
from creditmgmt.adapters.files.format import HEADER, MAGIC_V1, base_frame
from creditmgmt.adapters.records.contract import KindSpec, OutboxEntry, RecordBackend
from creditmgmt.adapters.records.in_process import StoredRow
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.ports.errors import (
    DataError,
    IntegrityError,
    OutboxRangeError,
    StoreUnavailableError,
)
from creditmgmt.testing.conformance import (
    AT,
    TEST_KINDS,
    RecordBackendContract,
    UnitOfWorkContract,
    fixed_clock,
    thing,
)

_n = itertools.count()


class TestFileRecords(RecordBackendContract):
    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.path = tmp_path

    def create_backend(self, kinds: Mapping[str, KindSpec]) -> RecordBackend:
        return FileBackend(
            self.path / f"store{next(_n)}", create=True, kinds=kinds, snapshot_every=5
        )

    def reopen_backend(
        self, backend: RecordBackend, kinds: Mapping[str, KindSpec]
    ) -> RecordBackend:
        assert isinstance(backend, FileBackend)
        backend.close()
        return FileBackend(backend.directory, kinds=kinds, snapshot_every=5)


class TestFileUnitOfWork(UnitOfWorkContract):
    @pytest.fixture(autouse=True)
    def _dir(self, tmp_path: Path) -> None:
        self.path = tmp_path

    def create_store(self) -> RecordStore:
        return RecordStore(
            FileBackend(self.path / f"uow{next(_n)}", create=True, snapshot_every=7),
            clock=fixed_clock(),
        )

    def corrupt_document(self, store: RecordStore, kind: str, record_id: str, text: str) -> None:
        # a snapshot (with a valid checksum) holding a bad document, as an old or buggy writer
        # could have left it; then reopen the store as the user would
        backend = store.backend
        assert isinstance(backend, FileBackend)
        rows = backend.state.rows[kind]
        rows[record_id] = StoredRow(rows[record_id].version, rows[record_id].columns, text)
        backend.snapshot()
        backend.close()
        store.backend = FileBackend(backend.directory)


def _only_base_frame(directory: Path, seq: int) -> bool:
    """Whether the journal was emptied by a snapshot of commit `seq` (only its base frame)."""
    return (directory / "journal.log").read_bytes() == base_frame(seq)


def test_reopen_replays_the_journal_and_the_snapshot(tmp_path: Path) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=3)
    for i in range(7):
        commit(b, f"t{i}")
    b._journal.close()
    b._lock.release()  # simulate a crash: no snapshot on close
    again = FileBackend(tmp_path, kinds=TEST_KINDS)
    assert again.recovery_report.snapshot_sequence == 6
    assert again.recovery_report.frames_replayed == 1
    assert again.begin().count("thing") == 7
    again.close()
    third = FileBackend(tmp_path, kinds=TEST_KINDS)
    assert third.recovery_report.frames_replayed == 0
    assert third.begin().count("thing") == 7
    third.close()


def test_torn_tail_at_every_byte_is_cut_and_earlier_commits_survive(tmp_path: Path) -> None:
    b = FileBackend(tmp_path / "src", create=True, kinds=TEST_KINDS, snapshot_every=0)
    commit(b, "first")
    size_after_first = (tmp_path / "src" / "journal.log").stat().st_size
    commit(b, "second")
    journal = (tmp_path / "src" / "journal.log").read_bytes()
    b._journal.close()
    b._lock.release()
    for cut in range(size_after_first, len(journal)):
        d = tmp_path / f"cut{cut}"
        d.mkdir()
        (d / "journal.log").write_bytes(journal[:cut])
        opened = FileBackend(d, create=True, kinds=TEST_KINDS, snapshot_every=0)
        tx = opened.begin()
        assert tx.get("thing", "first") is not None
        assert tx.get("thing", "second") is None
        report = opened.recovery_report
        if cut > size_after_first:
            assert report.torn_tail_offset == size_after_first
            assert report.bytes_discarded == cut - size_after_first
        commit(opened, "after")  # the store is usable and appends on a frame boundary
        opened.close()
        reopened = FileBackend(d, kinds=TEST_KINDS)
        assert reopened.begin().get("thing", "after") is not None
        reopened.close()


def _flip_a_journal_byte(folder: Path, at: int) -> None:
    """Two commits to the journal alone, a crash (no snapshot), then byte `at` flipped."""
    b = FileBackend(folder, create=True, kinds=TEST_KINDS, snapshot_every=0)
    commit(b, "a")
    commit(b, "b")
    crash(b)
    data = bytearray((folder / "journal.log").read_bytes())
    data[at] ^= 0xFF
    (folder / "journal.log").write_bytes(bytes(data))


def test_flipped_byte_in_the_last_frame_is_a_torn_tail(tmp_path: Path) -> None:
    _flip_a_journal_byte(tmp_path, -3)
    opened = FileBackend(tmp_path, create=True, kinds=TEST_KINDS)
    assert opened.recovery_report.torn_tail_reason == "checksum mismatch"
    assert opened.begin().get("thing", "b") is None
    opened.close()


def test_corruption_in_the_middle_is_a_data_error(tmp_path: Path) -> None:
    _flip_a_journal_byte(tmp_path, 20)  # inside the first frame's payload
    with pytest.raises(DataError, match=r"journal.log: corrupt frame at byte 0"):
        FileBackend(tmp_path, create=True, kinds=TEST_KINDS)


def test_crash_between_snapshot_and_journal_rotation_loses_nothing(tmp_path: Path) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=0)
    commit(b, "a", "b")
    old_journal = (tmp_path / "journal.log").read_bytes()
    b.snapshot()
    commit(b, "c")
    b._journal.close()
    b._lock.release()
    # as if the rotation had not happened: the old frames are still in the journal
    (tmp_path / "journal.log").write_bytes(old_journal + (tmp_path / "journal.log").read_bytes())
    opened = FileBackend(tmp_path, create=True, kinds=TEST_KINDS)
    assert opened.begin().count("thing") == 3
    opened.close()


def test_a_second_process_cannot_open_the_same_store(tmp_path: Path) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS)
    try:
        with pytest.raises(StoreUnavailableError, match="in use"):
            FileBackend(tmp_path, create=True, kinds=TEST_KINDS, lock_timeout=0.1)
    finally:
        b.close()


def test_file_urls() -> None:
    assert path_from_url("file:///var/lib/credit") == Path("/var/lib/credit")
    with pytest.raises(ValueError, match="not a local file URL"):
        path_from_url("file://remote/share")


def _v1_frame(payload: dict[str, object]) -> bytes:
    body = json.dumps(payload).encode()
    return HEADER.pack(MAGIC_V1, len(body), zlib.crc32(body)) + body


def test_a_store_written_in_format_1_opens_and_is_upgraded(tmp_path: Path) -> None:
    # format 1: snapshot.json (one JSON object) and CMJ1 journal frames (one JSON payload)
    snapshot = {
        "format": 1,
        "seq": 1,
        "last_outbox_sequence": 1,
        "rows": {
            "thing": {
                "t1": [
                    1,
                    json.dumps({"name": "老", "n": 1}),
                    {
                        "name": "老",
                        "code": "c1",
                        "amount": "1.50",
                        "due": "2026-01-01",
                        "flag": True,
                        "n": 1,
                    },
                ]
            },
            "other": {},
        },
        "outbox": [
            {
                "sequence": 1,
                "kind": "thing",
                "id": "t1",
                "event_type": "Made",
                "document": {"i": 1},
                "recorded_at": "2026-03-02T09:00:00+00:00",
            }
        ],
    }
    (tmp_path / "snapshot.json").write_text(json.dumps(snapshot), encoding="utf-8")
    frame = _v1_frame(
        {
            "seq": 2,
            "writes": [
                {
                    "op": "insert",
                    "kind": "thing",
                    "id": "t2",
                    "version": 1,
                    "document": json.dumps({"n": 2}),
                    "columns": {
                        "name": "new",
                        "code": "c1-bis",
                        "amount": None,
                        "due": None,
                        "flag": False,
                        "n": 2,
                    },
                }
            ],
            "outbox": [],
        }
    )
    (tmp_path / "journal.log").write_bytes(frame)
    backend = FileBackend(tmp_path, create=True, kinds=TEST_KINDS)
    assert backend.recovery_report.frames_replayed == 1
    tx = backend.begin()
    t1 = tx.get("thing", "t1")
    assert t1 is not None and t1.document == {"name": "老", "n": 1}
    assert t1.columns["amount"] == Decimal("1.50") and t1.columns["due"] == date(2026, 1, 1)
    assert tx.find("thing", where={"code": "c1-bis"})[0].id == "t2"
    tx.rollback()
    assert [e.document for e in backend.read_outbox()] == [{"i": 1}]
    with pytest.raises(IntegrityError):  # the unique index came along from format 1
        tx = backend.begin()
        tx.insert(thing("t3", code="c1"))
        tx.commit()
    backend.close()  # writes a format-2 snapshot and retires snapshot.json
    assert not (tmp_path / "snapshot.json").exists()
    assert (tmp_path / "snapshot.cms").exists()
    again = FileBackend(tmp_path, kinds=TEST_KINDS)
    assert again.begin().count("thing") == 2
    again.close()


def test_snapshot_policy_bounds_the_journal(tmp_path: Path) -> None:
    b = FileBackend(
        tmp_path,
        create=True,
        kinds=TEST_KINDS,
        snapshot_every=0,
        snapshot_journal_ratio=0.5,
        snapshot_min_bytes=2000,
    )
    sizes, emptied = [], []
    for i in range(60):
        tx = b.begin()
        tx.insert(thing(f"t{i:03d}", doc={"pad": "x" * 200, "i": i}))
        tx.commit()
        sizes.append((tmp_path / "journal.log").stat().st_size)
        emptied.append(_only_base_frame(tmp_path, b.commit_sequence))
    snapshot_size = (tmp_path / "snapshot.cms").stat().st_size
    assert max(sizes) < max(2000, snapshot_size) + 1000  # never much beyond the threshold
    assert any(emptied[10:])  # it was emptied (down to its base frame) by snapshots
    b.close()
    counted = FileBackend(
        tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=3, snapshot_journal_ratio=None
    )
    for i in range(3):
        commit(counted, f"c{i}")
    assert _only_base_frame(tmp_path, counted.commit_sequence)  # the third one snapshotted
    assert counted.begin().count("thing") == 63
    counted.close()


def test_a_damaged_snapshot_is_a_data_error(tmp_path: Path) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS)
    commit(b, "a", "b")
    b.close()
    data = bytearray((tmp_path / "snapshot.cms").read_bytes())
    data[-5] ^= 0x01
    (tmp_path / "snapshot.cms").write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"snapshot.cms: checksum mismatch"):
        FileBackend(tmp_path, create=True, kinds=TEST_KINDS)


def test_closing_from_another_thread_releases_the_lock(tmp_path: Path) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS)
    closer = threading.Thread(target=b.close)
    closer.start()
    closer.join()
    again = FileBackend(tmp_path, kinds=TEST_KINDS, lock_timeout=0.5)
    again.close()


def test_documents_with_any_characters_survive_the_journal_and_snapshot(tmp_path: Path) -> None:
    texts = ["line\nbreak", "\u2028 separator", "nul \x00", "CMJ2 marker", "中文"]
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=0)
    tx = b.begin()
    for i, text in enumerate(texts):
        tx.insert(thing(f"t{i}", doc={"text": text}))
    tx.commit()
    b._journal.close()
    b._lock.release()  # crash: only the journal has them
    replayed = FileBackend(tmp_path, kinds=TEST_KINDS)
    assert [replayed.begin().get("thing", f"t{i}").document["text"] for i in range(5)] == texts  # type: ignore[union-attr]
    replayed.close()  # snapshot
    reopened = FileBackend(tmp_path, kinds=TEST_KINDS)
    assert [reopened.begin().get("thing", f"t{i}").document["text"] for i in range(5)] == texts  # type: ignore[union-attr]
    reopened.close()


def test_a_failed_snapshot_after_a_commit_keeps_the_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=1)
    real_replace = os.replace

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    commit(b, "kept")  # returns: the commit is durable in the journal
    assert isinstance(b.last_snapshot_error, StoreUnavailableError)
    assert "No space left" in str(b.last_snapshot_error)
    commit(b, "also kept")
    with pytest.raises(StoreUnavailableError, match=r"cannot write a snapshot.*closed without it"):
        b.close()
    monkeypatch.setattr(os, "replace", real_replace)
    again = FileBackend(tmp_path, kinds=TEST_KINDS)  # the lock was released
    assert again.recovery_report.frames_replayed == 2
    assert again.begin().count("thing") == 2
    again.close()


def test_an_unreadable_store_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS)
    commit(b, "a")
    b.close()

    def unreadable(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    with pytest.raises(StoreUnavailableError, match="Permission denied"):
        FileBackend(tmp_path, create=True, kinds=TEST_KINDS)
    monkeypatch.undo()
    FileBackend(tmp_path, create=True, kinds=TEST_KINDS, lock_timeout=0.5).close()  # lock released


def _events(backend: FileBackend, *labels: str) -> None:
    for label in labels:
        tx = backend.begin()
        tx.append_outbox([OutboxEntry("thing", label, "Made", {"label": label}, AT)])
        tx.commit()


def _outbox(backend: FileBackend) -> list[tuple[int, str]]:
    return [(e.sequence, e.document["label"]) for e in backend.read_outbox()]


def test_a_prune_is_replayed_from_the_journal_after_a_crash(tmp_path: Path) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=0)
    _events(b, "a", "b", "c")
    b.snapshot()  # the entries are in the snapshot; the prune only in the journal
    assert b.prune_outbox(through=2) == 2
    _events(b, "d")
    crash(b)
    again = FileBackend(tmp_path, kinds=TEST_KINDS, snapshot_every=0)
    assert again.recovery_report.frames_replayed == 2
    assert _outbox(again) == [(3, "c"), (4, "d")]
    assert again.prune_outbox(through=4) == 2  # everything: only the journal knows
    crash(again)
    third = FileBackend(tmp_path, kinds=TEST_KINDS, snapshot_every=0)
    assert _outbox(third) == []
    assert third.prune_outbox(through=4) == 0  # the last sequence survived the crash
    _events(third, "e")
    assert _outbox(third) == [(5, "e")]
    third.close()  # a snapshot of an outbox whose first entries were pruned
    fourth = FileBackend(tmp_path, kinds=TEST_KINDS)
    assert fourth.recovery_report.frames_replayed == 0
    assert fourth.prune_outbox(through=5) == 1
    fourth.close()  # a snapshot of an empty outbox keeps the last sequence
    fifth = FileBackend(tmp_path, kinds=TEST_KINDS)
    with pytest.raises(OutboxRangeError, match="through 6: beyond the last sequence 5"):
        fifth.prune_outbox(through=6)
    _events(fifth, "f")
    assert _outbox(fifth) == [(6, "f")]
    fifth.close()


def test_a_torn_prune_frame_is_cut_and_every_entry_stays(tmp_path: Path) -> None:
    b = FileBackend(tmp_path / "src", create=True, kinds=TEST_KINDS, snapshot_every=0)
    _events(b, "a", "b", "c")
    before = (tmp_path / "src" / "journal.log").stat().st_size
    assert b.prune_outbox(through=2) == 2
    journal = (tmp_path / "src" / "journal.log").read_bytes()
    crash(b)
    assert len(journal) > before
    for cut in range(before, len(journal) + 1):
        d = tmp_path / f"cut{cut}"
        d.mkdir()
        (d / "journal.log").write_bytes(journal[:cut])
        opened = FileBackend(d, create=True, kinds=TEST_KINDS, snapshot_every=0)
        if cut == len(journal):  # the whole frame: the prune happened
            assert _outbox(opened) == [(3, "c")]
            assert opened.recovery_report.torn_tail_offset is None
        else:  # all or nothing: a torn prune frame prunes nothing
            assert _outbox(opened) == [(1, "a"), (2, "b"), (3, "c")]
            if cut > before:
                assert opened.recovery_report.torn_tail_offset == before
        _events(opened, "d")  # appends on a frame boundary, numbering on
        assert _outbox(opened)[-1] == (4, "d")
        opened.close()


def test_a_prune_takes_a_snapshot_when_the_policy_asks(tmp_path: Path) -> None:
    b = FileBackend(tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=2)
    _events(b, "a")
    assert b.prune_outbox(through=1) == 1  # the second frame since the last snapshot
    assert _only_base_frame(tmp_path, 2)
    assert b.prune_outbox(through=1) == 0  # nothing to prune: no frame at all
    assert _only_base_frame(tmp_path, 2)
    crash(b)
    again = FileBackend(tmp_path, kinds=TEST_KINDS)
    assert again.recovery_report.frames_replayed == 0
    assert _outbox(again) == []
    _events(again, "b")
    assert _outbox(again) == [(2, "b")]
    again.close()
