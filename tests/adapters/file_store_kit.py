"""What the file-store tests do to a `FileBackend` again and again: commit records of the
synthetic kind `thing`, crash (no snapshot on the way out), and leave a snapshot with one
commit after it in the journal."""

from __future__ import annotations

from pathlib import Path

from creditmgmt.adapters.files import FileBackend
from creditmgmt.testing.conformance import TEST_KINDS, thing


def commit(backend: FileBackend, *ids: str) -> None:
    """One unit inserting a `thing` per id."""
    tx = backend.begin()
    for i in ids:
        tx.insert(thing(i))
    tx.commit()


def crash(backend: FileBackend) -> None:
    """Stop as a killed process would: the journal and lock let go, no snapshot written."""
    backend._journal.close()
    backend._lock.release()  # no snapshot on the way out
    backend.state.closed = True


def snapshot_then_one_commit(folder: Path) -> None:
    """Commit `a`, snapshot it, commit `b` to the journal, crash."""
    b = FileBackend(
        folder, create=True, kinds=TEST_KINDS, snapshot_every=0, snapshot_journal_ratio=None
    )
    commit(b, "a")
    b.snapshot()
    commit(b, "b")
    crash(b)
