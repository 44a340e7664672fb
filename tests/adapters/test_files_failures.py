"""Failed writes and fsyncs of the file store: a commit is refused cleanly or its outcome is
unknown and the store refuses everything until reopened; a reopen has all of it or none."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.adapters.file_store_kit import crash

from creditmgmt.adapters.files import FileBackend
from creditmgmt.adapters.files.format import base_frame
from creditmgmt.adapters.records.contract import OutboxEntry
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain import FacilityId
from creditmgmt.ports.errors import StoreUnavailableError
from creditmgmt.testing.conformance import AT, TEST_KINDS, fixed_clock, thing

State = tuple[dict[str, dict[str, tuple[int, Any]]], list[tuple[int, Any]]]


class Faults:
    """Fail chosen `os.write` / `os.fsync` / `os.ftruncate` calls, by target.

    Targets are `"<op>:journal"` (the store's journal.log), `"<op>:dir"` (a directory) and
    `"<op>:file"` (any other file: the snapshot's temporary file, the new empty journal).
    Each target has a queue of actions for its next calls: "ok", "fail" (EIO, nothing
    done), or "half" (for a write: only half the bytes are taken, as a full disk does, and
    the call for the rest fails with ENOSPC).
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, directory: Path) -> None:
        self.journal = directory / "journal.log"
        self.plan: dict[str, list[str]] = {}
        self.seen: list[str] = []
        #: also fail the calls with these positions (0-based, counting every call of any target)
        self.fail_calls: set[int] = set()
        self.calls = 0
        for op in ("write", "fsync", "ftruncate"):
            monkeypatch.setattr(os, op, self._wrap(op, getattr(os, op)))

    def then(self, target: str, *actions: str) -> Faults:
        self.plan.setdefault(target, []).extend(actions)
        return self

    def _target(self, fd: int) -> str:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return "dir"
        try:
            journal = os.stat(self.journal)
        except FileNotFoundError:
            return "file"
        return "journal" if (st.st_dev, st.st_ino) == (journal.st_dev, journal.st_ino) else "file"

    def _wrap(self, op: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(fd: int, *args: Any) -> Any:
            target = f"{op}:{self._target(fd)}"
            queue = self.plan.get(target)
            action = queue.pop(0) if queue else "ok"
            if self.calls in self.fail_calls:
                action = "fail"
            self.calls += 1
            self.seen.append(f"{target}={action}")
            if action == "fail":
                raise OSError(errno.EIO, f"Input/output error (injected {target})")
            if action == "nospace":
                raise OSError(errno.ENOSPC, f"No space left on device (injected {target})")
            if action == "half":
                self.plan[target].insert(0, "nospace")
                data = bytes(args[0])
                return real(fd, data[: len(data) // 2])
            return real(fd, *args)

        return call


def _open(directory: Path, **options: Any) -> FileBackend:
    options.setdefault("snapshot_every", 0)
    options.setdefault("snapshot_journal_ratio", None)
    return FileBackend(directory, create=True, kinds=TEST_KINDS, **options)


def _commit(backend: FileBackend, *ids: str, event: str | None = None) -> None:
    tx = backend.begin()
    for i in ids:
        tx.insert(thing(i, doc={"id": i}))
    if event is not None:
        tx.append_outbox([OutboxEntry("thing", ids[0], "Made", {"label": event}, AT)])
    tx.commit()


def _text(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode()


def _state(backend: FileBackend) -> State:
    rows = {
        kind: {
            rid: (row.version, _text(row.document_text())) for rid, row in sorted(kind_rows.items())
        }
        for kind, kind_rows in backend.state.rows.items()
    }
    return rows, [(e.sequence, _text(e.document_text())) for e in backend.state.outbox]


def _reopened_state(directory: Path) -> State:
    again = _open(directory)
    try:
        return _state(again)
    finally:
        again.close()


def _two_events(directory: Path) -> FileBackend:
    """A store of two commits (`a`, `b`), each with one outbox event (`1`, `2`)."""
    b = _open(directory)
    _commit(b, "a", event="1")
    _commit(b, "b", event="2")
    return b


def _journal_size(directory: Path) -> int:
    return (directory / "journal.log").stat().st_size


# a clean refusal -----------------------------------------------------------------------------

CLEAN_FAILURES = {
    "write fails, nothing written": [("write:journal", "fail")],
    "write fails half-way": [("write:journal", "half")],
    "fsync of the journal fails": [("fsync:journal", "fail")],
    "write half-way, then the cut-off's fsync works": [
        ("write:journal", "half"),
        ("fsync:journal", "ok"),
    ],
}


@pytest.mark.parametrize("failure", list(CLEAN_FAILURES))
def test_a_failed_write_or_fsync_refuses_the_commit_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    b = _open(tmp_path)
    _commit(b, "a", event="first")  # acknowledged
    before, size = _state(b), _journal_size(tmp_path)
    faults = Faults(monkeypatch, tmp_path)
    for target, action in CLEAN_FAILURES[failure]:
        faults.then(target, action)
    with pytest.raises(
        StoreUnavailableError,
        match=r"commit 2 was refused and nothing of it was stored: cannot write the journal "
        r"\(.*injected.*\); the store is still usable",
    ) as caught:
        _commit(b, "b", "c", event="refused")
    assert isinstance(caught.value.__cause__, OSError)
    assert b.broken is None
    assert _state(b) == before  # the in-memory state never saw it
    assert _journal_size(tmp_path) == size  # the frame (or its part) was cut off
    assert "ftruncate:journal=ok" in faults.seen
    # still usable: the next commit takes the refused one's place, sequence and all
    _commit(b, "d", event="after")
    assert b.begin().get("thing", "b") is None
    assert [e.document for e in b.read_outbox()] == [{"label": "first"}, {"label": "after"}]
    after = _state(b)
    crash(b)
    assert _reopened_state(tmp_path) == after  # acknowledged commits, nothing refused


def test_a_refused_commit_leaves_nothing_even_if_the_rest_of_the_frame_came_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the frame is cut back to the length before it, not to "the last frame that parses":
    # a later commit appends on a frame boundary and reopening finds no torn tail
    b = _open(tmp_path)
    _commit(b, "a")
    Faults(monkeypatch, tmp_path).then("write:journal", "half")
    with pytest.raises(StoreUnavailableError, match="nothing of it was stored"):
        _commit(b, "b")
    _commit(b, "c")
    crash(b)
    again = _open(tmp_path)
    assert again.recovery_report.torn_tail_offset is None
    assert again.recovery_report.frames_replayed == 2
    assert set(again.state.rows["thing"]) == {"a", "c"}
    again.close()


def test_a_failed_prune_is_refused_cleanly_and_deletes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = _two_events(tmp_path)
    Faults(monkeypatch, tmp_path).then("fsync:journal", "fail")
    with pytest.raises(
        StoreUnavailableError,
        match=r"the outbox prune through 1 \(commit 3\) was refused and nothing of it was stored",
    ):
        b.prune_outbox(through=1)
    assert [e.sequence for e in b.read_outbox()] == [1, 2]
    assert b.prune_outbox(through=1) == 1  # usable: the retry works
    crash(b)
    again = _open(tmp_path)
    assert [e.sequence for e in again.read_outbox()] == [2]
    again.close()


# an unknown outcome: the store is broken ---------------------------------------------------

BREAKING_FAILURES = {
    "fsync fails, the cut-off fails": [("fsync:journal", "fail"), ("ftruncate:journal", "fail")],
    "fsync fails, the cut-off's fsync fails": [
        ("fsync:journal", "fail"),
        ("fsync:journal", "fail"),
    ],
    "half written, the cut-off fails": [("write:journal", "half"), ("ftruncate:journal", "fail")],
}

UNKNOWN = r"the outcome of commit 2 is unknown"


def _break_on_commit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> tuple[FileBackend, State, int]:
    b = _open(tmp_path)
    _commit(b, "a", event="first")
    before, size = _state(b), _journal_size(tmp_path)
    faults = Faults(monkeypatch, tmp_path)
    for target, action in BREAKING_FAILURES[failure]:
        faults.then(target, action)
    with pytest.raises(StoreUnavailableError, match=UNKNOWN + r".*open it again") as caught:
        _commit(b, "b", "c", event="uncertain")  # two records and an event: all or nothing
    assert isinstance(caught.value.__cause__, OSError)
    assert "injected" in str(caught.value)
    monkeypatch.undo()  # the disk works again: the store must still refuse
    return b, before, size


@pytest.mark.parametrize("failure", list(BREAKING_FAILURES))
def test_a_commit_of_unknown_outcome_breaks_the_store_until_it_is_reopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    b, before, _size = _break_on_commit_2(tmp_path, monkeypatch, failure)
    assert b.broken is not None and "outcome of commit 2 is unknown" in b.broken
    assert _state(b) == before  # memory never takes the uncertain commit
    refusals: list[Callable[[], object]] = [
        b.begin,
        b.read_outbox,
        lambda: b.prune_outbox(through=1),
        b.snapshot,
    ]
    for refused in refusals:
        with pytest.raises(StoreUnavailableError, match=UNKNOWN + r".*close the store and open"):
            refused()
    assert not (tmp_path / "snapshot.cms").exists()
    b.close()  # releases the store without a snapshot and without raising
    assert not (tmp_path / "snapshot.cms").exists()
    again = _open(tmp_path, lock_timeout=0.5)
    # the journal decides, all or nothing
    reopened = _state(again)
    if failure == "fsync fails, the cut-off fails":  # the whole frame is in the file
        assert set(reopened[0]["thing"]) == {"a", "b", "c"}
        assert [doc for _seq, doc in reopened[1]] == [
            b'{"label":"first"}',
            b'{"label":"uncertain"}',
        ]
    elif failure == "fsync fails, the cut-off's fsync fails":  # cut off, not known durably
        assert reopened == before
        assert again.recovery_report.torn_tail_offset is None
    else:  # half a frame: a torn tail, cut off on open
        assert reopened == before
        assert again.recovery_report.torn_tail_offset is not None
    _commit(again, "d")  # usable again
    again.close()


def test_a_transaction_begun_before_the_failure_cannot_commit_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = _open(tmp_path)
    waiting = b.begin()
    waiting.insert(thing("w"))
    Faults(monkeypatch, tmp_path).then("fsync:journal", "fail", "fail")
    with pytest.raises(StoreUnavailableError, match=r"the outcome of commit 1 is unknown"):
        _commit(b, "x")
    monkeypatch.undo()
    with pytest.raises(StoreUnavailableError, match=r"the outcome of commit 1 is unknown"):
        waiting.commit()
    assert b.state.rows["thing"] == {}
    b.close()


def test_a_reopen_after_an_unknown_outcome_has_all_of_the_commit_or_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # whatever part of the uncertain frame the disk kept, the reopened store has exactly the
    # state before the commit or exactly the state after it, never half; earlier commits stay
    src = tmp_path / "src"
    b, before, size = _break_on_commit_2(src, monkeypatch, "fsync fails, the cut-off fails")
    journal = (src / "journal.log").read_bytes()
    b.close()
    assert len(journal) > size
    after: State | None = None
    for cut in [*range(size, len(journal), 7), len(journal) - 1, len(journal)]:
        d = tmp_path / f"cut{cut}"
        d.mkdir()
        (d / "journal.log").write_bytes(journal[:cut])
        state = _reopened_state(d)
        if cut == len(journal):
            after = state
        else:
            assert state == before, f"cut at byte {cut}: not the state before the commit"
    assert after is not None and after != before
    assert set(after[0]["thing"]) == {"a", "b", "c"}
    assert [seq for seq, _doc in after[1]] == [1, 2]


def test_a_prune_of_unknown_outcome_breaks_the_store_and_the_journal_decides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = _two_events(tmp_path)
    Faults(monkeypatch, tmp_path).then("fsync:journal", "fail").then("ftruncate:journal", "fail")
    with pytest.raises(
        StoreUnavailableError,
        match=r"the outcome of the outbox prune through 1 \(commit 3\) is unknown",
    ):
        b.prune_outbox(through=1)
    monkeypatch.undo()
    assert [e.sequence for e in b.state.outbox] == [1, 2]  # not dropped from memory
    with pytest.raises(StoreUnavailableError, match=r"outbox prune through 1 \(commit 3\)"):
        b.read_outbox()
    b.close()
    again = _open(tmp_path)  # the whole prune frame is in the journal: it happened
    assert [e.sequence for e in again.read_outbox()] == [2]
    again.close()


def test_a_broken_store_refuses_units_of_work_and_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    b, _before, _size = _break_on_commit_2(tmp_path, monkeypatch, "fsync fails, the cut-off fails")
    store = RecordStore(b, clock=fixed_clock())
    with pytest.raises(StoreUnavailableError, match=UNKNOWN):
        store.events()
    with pytest.raises(StoreUnavailableError, match=UNKNOWN), store.unit_of_work() as uow:
        uow.facilities.get(FacilityId("anything"))
    store.close()


# snapshots: a failure never breaks a durable commit ------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["fsync:file", "fsync:dir"],
    ids=["fsync of the snapshot file", "fsync after its rename"],
)
def test_a_failed_snapshot_keeps_the_commit_and_the_store_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    b = _open(tmp_path, snapshot_every=2)
    _commit(b, "a")
    Faults(monkeypatch, tmp_path).then(target, "fail")
    _commit(b, "b")  # returns: durable in the journal; the snapshot after it failed
    failed = b.last_snapshot_error
    assert isinstance(failed, StoreUnavailableError)
    assert "cannot write a snapshot" in str(failed)
    assert b.broken is None
    assert _journal_size(tmp_path) > 0  # not emptied: it still holds both commits
    _commit(b, "c")  # usable, and this commit's snapshot works
    assert b.last_snapshot_error is None
    assert (tmp_path / "journal.log").read_bytes() == base_frame(3)  # emptied by a snapshot
    crash(b)
    assert set(_reopened_state(tmp_path)[0]["thing"]) == {"a", "b", "c"}


@pytest.mark.parametrize("step", ["fsync:dir", "fsync:file"])
def test_a_snapshot_whose_emptied_journal_is_not_durable_breaks_the_store_but_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    b = _open(tmp_path, snapshot_every=2)
    _commit(b, "a")
    faults = Faults(monkeypatch, tmp_path)
    if step == "fsync:dir":
        faults.then("fsync:dir", "ok", "fail")  # the snapshot's rename ok, the journal's not
        broken = True
    else:
        faults.then("fsync:file", "ok", "fail")  # the new empty journal's fsync fails
        broken = False  # before its rename: the old journal stays in use
    _commit(b, "b")  # acknowledged: in the journal and in the snapshot
    assert isinstance(b.last_snapshot_error, StoreUnavailableError)
    monkeypatch.undo()
    if broken:
        assert b.broken is not None and "emptied journal could not be made durable" in b.broken
        with pytest.raises(StoreUnavailableError, match=r"every acknowledged commit is in the"):
            b.begin()
        b.close()
    else:
        assert b.broken is None
        _commit(b, "c")
        crash(b)
    expected = {"a", "b"} if broken else {"a", "b", "c"}
    assert set(_reopened_state(tmp_path)[0]["thing"]) == expected


# every step of a workload ------------------------------------------------------------------

WORKLOAD = 8  # commits of two records and an event each, a snapshot after every third


@pytest.mark.parametrize("failing", [1, 2], ids=["one call fails", "two calls in a row fail"])
def test_failing_any_step_of_a_workload_never_loses_or_resurrects_a_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    outcomes: set[str] = set()
    k = 0
    while True:
        directory = tmp_path / f"{failing}-{k}"
        b = _open(directory, snapshot_every=3)
        faults = Faults(monkeypatch, directory)
        faults.fail_calls = set(range(k, k + failing))
        acknowledged, refused, unknown = set(), set(), None
        for i in range(WORKLOAD):
            try:
                _commit(b, f"r{i}", f"s{i}", event=f"e{i}")
                acknowledged.add(i)
            except StoreUnavailableError as e:
                if "was refused and nothing of it was stored" in str(e):
                    refused.add(i)
                elif f"the outcome of commit {b.commit_sequence + 1} is unknown" in str(e):
                    unknown = i
                else:
                    raise
            if b.broken is not None:
                break
        injected = faults.calls > k
        monkeypatch.undo()
        outcomes.add(
            "unknown"
            if unknown is not None
            else "broken by a snapshot"
            if b.broken
            else "refused"
            if refused
            else "all acknowledged"
        )
        if b.broken is None:
            assert set(range(WORKLOAD)) == acknowledged | refused
        if k % 2:
            b.close()
        else:
            crash(b)
        again = _open(directory)
        present = set(again.state.rows["thing"])
        events = [e.document["label"] for e in again.read_outbox()]
        again.close()
        done = {i for i in range(WORKLOAD) if f"r{i}" in present}
        assert {f"s{i}" for i in done} | {f"r{i}" for i in done} == present, "half a commit"
        assert events == [f"e{i}" for i in sorted(done)], "records and events disagree"
        assert acknowledged <= done, f"failing call {k}: acknowledged commits lost"
        assert not refused & done, f"failing call {k}: a refused commit came back"
        assert done <= acknowledged | ({unknown} if unknown is not None else set())
        if not injected:  # k is past the last call the workload makes: every step was tried
            break
        k += 1
    assert k > 2 * WORKLOAD  # each commit's write and fsync, and the snapshots' steps
    assert {"refused", "all acknowledged"} <= outcomes
    if failing == 2:
        assert {"unknown", "broken by a snapshot"} <= outcomes
