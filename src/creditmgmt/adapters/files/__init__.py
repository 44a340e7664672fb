"""The file store: a directory that survives crashes (single-process tools, air-gapped desks).

Layout of a store directory:

- `journal.log` — append-only journal of committed units of work. Each frame is
  `b"CMJ2"` + payload length (4 bytes, big-endian) + CRC-32 of the payload (4 bytes) + the
  payload: one line of JSON (commit sequence number; per record: operation, kind, id,
  version, document length, column values; per outbox entry the same with its event), then
  the documents' UTF-8 bytes back to back. A commit is acknowledged only after its frame is
  written and fsync'd. `prune_outbox(through=n)` is a frame of its own: a meta line with no
  writes, no entries and `"prune": n`, fsync'd before the entries are dropped, and replayed
  like a commit (a release that does not know the key reads it as an empty commit). Since
  format 3 a fresh journal starts with a *base frame* (`"base": true`, no writes) naming the
  commit it continues from: the snapshot's sequence, 0 for a new store.
- `snapshot.cms` — the whole state as of a commit sequence number: a JSON header (format,
  sequence numbers, column names, CRC-32 of the rest and, since format 3, a CRC-32 of the
  header itself), then per kind a line of record metadata
  followed by the documents' bytes, then the outbox the same way. It is written to a temporary
  file, fsync'd, atomically renamed and the directory fsync'd; afterwards the journal is
  emptied the same way (down to its base frame). The header keeps the last outbox sequence ever assigned, so a store
  whose outbox was pruned never hands a pruned sequence out again. Frames at or below the snapshot's sequence are skipped on replay, so a
  crash between any two steps loses nothing. Snapshots are taken by commit count, by journal
  size relative to the last snapshot, and on close, so a replay is always bounded.
- `.lock` — a `filelock` lock held while the store is open: one process at a time.

Modules: `backend` (`FileBackend`: opening, replaying, committing, pruning, locking),
`format` (frames and the sections frames and snapshots share), `snapshot` (reading and
making snapshots), `continuity` (the commit sequence a replay must follow).

Stores written in format 1 (`snapshot.json`, one JSON document; `CMJ1` frames with a JSON
payload) or format 2 (no header checksum, no base frames) are read and move to format 3 with
the next snapshot.

Replayed frames must continue the snapshot's commit sequence one by one
(`files.continuity`): a frame cut out of the middle, repeated or moved, the first frames
dropped, a journal whose base frame names another snapshot (a deleted or replaced one), or a
journal that starts after commit 1 without a snapshot is `DataError` naming the journal, the
byte offset and the commit expected. A snapshot whose header is not a JSON object, or fails its
checksum, is `DataError` naming the file.

On open, a torn or corrupt *tail* (an incomplete or checksum-failing last frame) is reported in
`recovery_report`, cut off and ignored: it was never acknowledged. A bad frame followed by a
good one is corruption in the middle of the journal: `DataError` naming the file and offset,
never silently dropped data. A snapshot whose checksum fails is `DataError` too.

A failed write or fsync of a frame is never retried (after a failed fsync the operating system
may report success for data it dropped). The frame is cut off again — the journal truncated to
its length before the frame, and fsync'd — and the commit (or prune) is refused with
`StoreUnavailableError` saying nothing was stored; the store stays usable. If the cut-off
fails too, the outcome is unknown: the store is *broken* (`FileBackend.broken`), keeps the
state of the last acknowledged commit, refuses every operation with `StoreUnavailableError`
saying "the outcome of commit N is unknown", and `close()` just releases it. Opening it again
decides from the journal: the whole frame is there and replayed, or it is torn or missing and
cut off — never half a commit.
"""

from creditmgmt.adapters.files.backend import FileBackend, RecoveryReport, open_backend

__all__ = ["FileBackend", "RecoveryReport", "open_backend"]
