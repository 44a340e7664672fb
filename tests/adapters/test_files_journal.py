"""Attacks on the file store's journal and snapshot: every damage is `DataError` naming the
file (and for the journal the byte offset and the commit expected), never silently lost data.
A torn tail is still cut and reported (crash safety: see test_files.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tests.adapters.file_store_kit import commit, crash, snapshot_then_one_commit

from creditmgmt.adapters.files import FileBackend
from creditmgmt.adapters.files.format import HEADER
from creditmgmt.adapters.records.contract import Record
from creditmgmt.ports.errors import DataError
from creditmgmt.testing.conformance import TEST_KINDS


def _frames(journal: Path) -> list[bytes]:
    """The journal split into its frames (the first is the base frame)."""
    return _frames_of(journal.read_bytes())


def _store_with_commits(directory: Path, n: int) -> list[bytes]:
    """A store of `n` commits in its journal (after the base frame); crashed, not closed."""
    b = FileBackend(
        directory, create=True, kinds=TEST_KINDS, snapshot_every=0, snapshot_journal_ratio=None
    )
    for i in range(n):
        commit(b, f"t{i + 1}")
    crash(b)
    frames = _frames(directory / "journal.log")
    assert len(frames) == n + 1
    return frames


def _open(directory: Path) -> FileBackend:
    return FileBackend(directory, create=True, kinds=TEST_KINDS)


def test_a_frame_cut_out_of_the_middle_is_a_data_error(tmp_path: Path) -> None:
    base, f1, _f2, f3 = _store_with_commits(tmp_path, 3)
    (tmp_path / "journal.log").write_bytes(base + f1 + f3)
    at = len(base) + len(f1)
    with pytest.raises(
        DataError,
        match=rf"journal.log: frame at byte {at} holds commit 3, "
        r"expected commit 2",
    ):
        _open(tmp_path)


def test_a_duplicated_frame_is_a_data_error(tmp_path: Path) -> None:
    base, f1, f2 = _store_with_commits(tmp_path, 2)
    (tmp_path / "journal.log").write_bytes(base + f1 + f2 + f2)
    at = len(base) + len(f1) + len(f2)
    with pytest.raises(DataError, match=rf"byte {at} holds commit 2, expected commit 3"):
        _open(tmp_path)


def test_two_swapped_frames_are_a_data_error(tmp_path: Path) -> None:
    base, f1, f2, f3 = _store_with_commits(tmp_path, 3)
    (tmp_path / "journal.log").write_bytes(base + f2 + f1 + f3)
    with pytest.raises(DataError, match=rf"byte {len(base)} holds commit 2, expected commit 1"):
        _open(tmp_path)


def test_dropped_first_frames_are_a_data_error(tmp_path: Path) -> None:
    base, _f1, f2, f3 = _store_with_commits(tmp_path, 3)
    (tmp_path / "journal.log").write_bytes(base + f2 + f3)  # the base frame kept
    with pytest.raises(DataError, match=rf"byte {len(base)} holds commit 2, expected commit 1"):
        _open(tmp_path)
    (tmp_path / "journal.log").write_bytes(f2 + f3)  # an old-format journal: no base frame
    with pytest.raises(DataError, match=r"byte 0 holds commit 2, expected commit 1 \(no snapshot"):
        _open(tmp_path)


def test_a_deleted_snapshot_with_its_journal_kept_is_a_data_error(tmp_path: Path) -> None:
    b = FileBackend(
        tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=0, snapshot_journal_ratio=None
    )
    commit(b, "a", "b")
    commit(b, "c")
    b.close()  # a snapshot of commit 2; the journal holds only its base frame
    (tmp_path / "snapshot.cms").unlink()
    with pytest.raises(DataError, match=r"byte 0 continues from commit 2, but there is no snap"):
        _open(tmp_path)


def test_a_deleted_snapshot_with_commits_after_it_is_a_data_error(tmp_path: Path) -> None:
    snapshot_then_one_commit(tmp_path)
    _base, f2 = _frames(tmp_path / "journal.log")
    (tmp_path / "snapshot.cms").unlink()
    (tmp_path / "journal.log").write_bytes(f2)  # and its base frame too
    with pytest.raises(DataError, match=r"byte 0 holds commit 2, expected commit 1"):
        _open(tmp_path)


def _snapshot_after(folder: Path, *labels: str) -> bytes:
    """The snapshot a store closed after one commit a label leaves."""
    b = FileBackend(folder, create=True, kinds=TEST_KINDS)
    for label in labels:
        commit(b, label)
    b.close()
    return (folder / "snapshot.cms").read_bytes()


def test_an_edited_snapshot_sequence_is_a_data_error(tmp_path: Path) -> None:
    data = _snapshot_after(tmp_path, "a", "b")
    newline = data.index(b"\n")
    header = json.loads(data[:newline])
    assert header["seq"] == 2
    header["seq"] = 1  # replaying commit 2 again would clash; 5 would skip commits
    (tmp_path / "snapshot.cms").write_bytes(json.dumps(header).encode() + data[newline:])
    with pytest.raises(DataError, match=r"snapshot.cms: header checksum mismatch"):
        _open(tmp_path)


@pytest.mark.parametrize("header", [b"[1, 2]", b'"format"', b"3", b"null"])
def test_a_snapshot_header_that_is_not_an_object_is_a_data_error(
    tmp_path: Path, header: bytes
) -> None:
    data = _snapshot_after(tmp_path, "a")
    (tmp_path / "snapshot.cms").write_bytes(header + data[data.index(b"\n") :])
    with pytest.raises(DataError, match=r"snapshot.cms: corrupt snapshot"):
        _open(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "corrupt snapshot: a JSON list, not an object"),
        ('"x"', "corrupt snapshot: a JSON str, not an object"),
        ('{"format": 1, "rows": []}', "corrupt snapshot"),
        ("{}", "unknown snapshot format None"),
    ],
)
def test_a_damaged_format_1_snapshot_is_a_data_error(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "snapshot.json").write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=re.escape(f"snapshot.json: {message}")):
        _open(tmp_path)


def test_a_format_2_store_without_base_frames_still_opens(tmp_path: Path) -> None:
    snapshot_then_one_commit(tmp_path)
    # rewrite as release 0.2 left it: a format-2 header, a journal without its base frame
    data = (tmp_path / "snapshot.cms").read_bytes()
    newline = data.index(b"\n")
    header = json.loads(data[:newline])
    del header["header_crc32"]
    header["format"] = 2
    (tmp_path / "snapshot.cms").write_bytes(json.dumps(header).encode() + data[newline:])
    _base, f2 = _frames(tmp_path / "journal.log")
    (tmp_path / "journal.log").write_bytes(f2)
    again = _open(tmp_path)
    assert again.recovery_report.frames_replayed == 1
    tx = again.begin()
    assert isinstance(tx.get("thing", "b"), Record) and tx.count("thing") == 2
    tx.rollback()
    again.close()  # upgrades: a format-3 snapshot and a journal with its base frame
    header = json.loads((tmp_path / "snapshot.cms").read_bytes().split(b"\n", 1)[0])
    assert header["format"] == 3 and "header_crc32" in header
    final = _open(tmp_path)
    assert final.begin().count("thing") == 2
    final.close()


def test_the_journal_of_a_crash_between_snapshot_and_rotation_still_opens(tmp_path: Path) -> None:
    # old frames at or below the snapshot's commit, then new ones: continuous, nothing lost
    b = FileBackend(
        tmp_path, create=True, kinds=TEST_KINDS, snapshot_every=0, snapshot_journal_ratio=None
    )
    commit(b, "a")
    commit(b, "b")
    old = (tmp_path / "journal.log").read_bytes()
    b.snapshot()
    crash(b)
    (tmp_path / "journal.log").write_bytes(old)  # the rotation did not happen
    again = _open(tmp_path)
    assert again.recovery_report.frames_replayed == 0
    commit(again, "c")  # appended to the old journal
    crash(again)
    third = _open(tmp_path)
    assert third.begin().count("thing") == 3
    third.close()
    # but an old journal that stops short of the snapshot is missing frames
    base, first, _second = _frames_of(old)
    (tmp_path / "journal.log").write_bytes(base + first)
    with pytest.raises(DataError, match=r"ends at commit 1 below the snapshot's commit 3"):
        _open(tmp_path)


def _frames_of(data: bytes) -> list[bytes]:
    frames: list[bytes] = []
    at = 0
    while at < len(data):
        _magic, length, _crc = HEADER.unpack_from(data, at)
        frames.append(data[at : at + HEADER.size + length])
        at += HEADER.size + length
    return frames
