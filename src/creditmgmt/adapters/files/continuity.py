"""Commit-sequence continuity of the file store's journal against its snapshot.

Every journal frame carries its commit sequence. Replayed in order they must continue the
snapshot without a gap, a repeat or a swap: a frame cut out of the middle, duplicated or moved,
the first frames dropped, a snapshot deleted or its sequence edited would otherwise be read
silently, with commits lost. Since file format 3 a fresh journal starts with a *base frame*
naming the commit it continues from (the snapshot's sequence, 0 for a new store), so even an
empty journal says which snapshot it belongs to.

`Continuity.check(seq, base, offset)` is called for every frame read (after its checksum);
`finish()` once the journal is read. Each raises `DataError` naming the journal, the byte
offset and the sequence expected. A torn tail is cut before it reaches this check.
"""

from __future__ import annotations

from pathlib import Path

from creditmgmt.ports.errors import DataError


class Continuity:
    """Checks the sequences of a journal's frames against the snapshot's (`snapshot_seq`)."""

    def __init__(self, journal: Path, snapshot_seq: int, has_snapshot: bool) -> None:
        self.journal = journal
        self.snapshot_seq = snapshot_seq
        self.has_snapshot = has_snapshot
        self.last: int | None = None  # the sequence of the last frame read

    def _error(self, offset: int, problem: str) -> DataError:
        return DataError(
            f"{self.journal}: frame at byte {offset} {problem}; the journal does not continue "
            "the snapshot (frames lost, repeated or moved, or the snapshot replaced): restore "
            "from a backup"
        )

    def check(self, seq: int, base: bool, offset: int) -> bool:
        """Check the frame at `offset`; True when it is to be replayed (above the snapshot).

        Raises:
            DataError: a gap, a repeat or a reorder, or a journal that does not continue the
                snapshot (naming the byte offset and the sequence expected).
        """
        s = self.snapshot_seq
        if self.last is None:
            if base and seq > s:
                what = f"snapshot of commit {s}" if self.has_snapshot else "no snapshot"
                raise self._error(offset, f"continues from commit {seq}, but there is {what}")
            if not base and seq > s + 1:
                what = f"the snapshot holds commit {s}" if self.has_snapshot else "no snapshot"
                raise self._error(offset, f"holds commit {seq}, expected commit {s + 1} ({what})")
        elif base:
            # a base frame inside the journal: a rotation that did not happen before a crash
            if seq != self.last:
                raise self._error(
                    offset, f"continues from commit {seq}, expected commit {self.last}"
                )
            return False
        elif seq != self.last + 1:
            raise self._error(offset, f"holds commit {seq}, expected commit {self.last + 1}")
        self.last = seq
        return not base and seq > s

    def finish(self, end: int) -> None:
        """The journal was read up to byte `end`.

        Raises:
            DataError: the journal stops below the snapshot's sequence although it reaches
                back below it (its frames up to the snapshot are missing).
        """
        if self.last is not None and self.last < self.snapshot_seq:
            raise self._error(
                end,
                f"would hold commit {self.last + 1}, but the journal ends at commit "
                f"{self.last} below the snapshot's commit {self.snapshot_seq}",
            )
