"""The file store: a directory that survives crashes (single-process tools, air-gapped desks).

Layout of a store directory:

- `journal.log` — append-only journal of committed units of work. Each frame is
  `b"CMJ1"` + payload length (4 bytes, big-endian) + CRC-32 of the payload (4 bytes) + the
  payload (UTF-8 JSON: commit sequence number, records written, outbox entries). A commit is
  acknowledged only after its frame is written and fsync'd.
- `snapshot.json` — the whole state as of a commit sequence number, written to a temporary
  file, fsync'd, atomically renamed and the directory fsync'd; afterwards the journal is
  rotated the same way. Frames at or below the snapshot's sequence are skipped on replay, so a
  crash between any two steps loses nothing.
- `.lock` — a `filelock` lock held while the store is open: one process at a time.

On open, a torn or corrupt *tail* (an incomplete or checksum-failing last frame) is reported in
`recovery_report`, cut off and ignored: it was never acknowledged. A bad frame followed by a
good one is corruption in the middle of the journal: `DataError` naming the file and offset,
never silently dropped data.
"""

from creditmgmt.adapters.files.backend import FileBackend, RecoveryReport, file_store

__all__ = ["FileBackend", "RecoveryReport", "file_store"]
