"""Journal + snapshot implementation of the record contract (see the package doc)."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from io import BufferedWriter, FileIO
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import unquote, urlparse

import attrs
import filelock

from creditmgmt._gcpause import gc_paused
from creditmgmt.adapters.files.continuity import Continuity
from creditmgmt.adapters.files.format import (
    HEADER,
    JOURNAL,
    MAGIC,
    SNAPSHOT,
    SNAPSHOT_V1,
    Columns,
    as_bytes,
    base_frame,
    outbox_section,
    read_frame,
    valid_frame_after,
)
from creditmgmt.adapters.files.snapshot import load_snapshot, snapshot_content
from creditmgmt.adapters.records.contract import (
    KindSpec,
    OutboxEntry,
    RecordBackend,
    RecordTransaction,
    check_options,
)
from creditmgmt.adapters.records.in_process import (
    PreparedCommit,
    RecordState,
    StateTransaction,
)
from creditmgmt.adapters.records.kinds import ALL_SPECS
from creditmgmt.ports.errors import DataError, StoreUnavailableError


@attrs.frozen
class RecoveryReport:
    """What opening the store found: frames replayed, and a torn tail cut off (if any)."""

    snapshot_sequence: int
    frames_replayed: int
    torn_tail_offset: int | None = None
    torn_tail_reason: str | None = None
    bytes_discarded: int = 0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: Modes of what the store creates: owner only (the documents hold personal data).
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700


def _check_mode(mode: object, name: str) -> int:
    if not isinstance(mode, int) or isinstance(mode, bool) or not 0 <= mode <= 0o777:
        raise ValueError(f"file store option {name} must be a permission mode such as 0o600")
    return mode


def _holds_store(directory: Path) -> bool:
    return any((directory / name).exists() for name in (JOURNAL, SNAPSHOT, SNAPSHOT_V1))


def _write_all(fd: int, data: bytes) -> None:
    """Write all of `data` to `fd` (a write may take less than asked: go on with the rest)."""
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)
        while written < len(data):
            written += os.write(fd, view[written:])


class FileBackend(RecordBackend):
    """A crash-safe directory store. Open with `FileBackend(path)` (or a `file:///dir` URL).

    Snapshot policy: a snapshot is written (and the journal emptied) after a commit once the
    journal holds `snapshot_every` commits (0: no count limit) or, when
    `snapshot_journal_ratio` is set, once the journal is larger than that fraction of the
    last snapshot (and at least `snapshot_min_bytes`), and on `close()`. Opening therefore
    replays at most about that much journal, however long the store has been in use.

    A failed write or fsync of the journal never leaves a commit half-known (see
    `_append_frame`): either the frame is cut off again and the commit is cleanly refused
    (`StoreUnavailableError` saying nothing was stored; the store stays usable), or the store
    is *broken*: the outcome of that commit is unknown, every later operation raises
    `StoreUnavailableError` saying so, and only closing and opening the store again decides
    it (from the journal: the whole commit or none of it).
    """

    keeps_pristine = True

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        kinds: Mapping[str, KindSpec] | None = None,
        snapshot_every: int = 1000,
        snapshot_journal_ratio: float | None = 0.5,
        snapshot_min_bytes: int = 4 << 20,
        lock_timeout: float = 10.0,
        create: bool = False,
        file_mode: int = FILE_MODE,
        dir_mode: int = DIR_MODE,
    ) -> None:
        """Open the store in directory `path` (see the class doc for snapshots); with
        `create=True`, create it when the directory holds none (and the directory, when
        missing). Without it a path holding no store is refused, so a mistyped path never
        becomes a new empty store.

        Files the store creates (journal, snapshot, lock) get `file_mode` (owner read/write
        by default: 0o600) and a directory it creates `dir_mode` (0o700), whatever the
        process's umask; files of an existing store keep their modes until replaced (the
        journal and snapshot are replaced at each snapshot).

        Opening is also how a broken store (see `broken`) is recovered: the journal decides
        the commit whose outcome was unknown — its whole frame is there and it is replayed, or
        the frame is missing or torn and it is cut off (reported in `recovery_report`).

        Raises:
            StoreUnavailableError: the directory holds no store and `create` is false (names
                the path), cannot be used, or another process holds it.
            DataError: a corrupt snapshot, or corruption in the middle of the journal.
            ValueError: a mode that is not an int in 0..0o777.
        """
        directory = Path(path)
        self.directory = directory
        self.file_mode = _check_mode(file_mode, "file_mode")
        self.dir_mode = _check_mode(dir_mode, "dir_mode")
        self.kinds = dict(kinds if kinds is not None else ALL_SPECS)
        self.snapshot_every = snapshot_every
        self.snapshot_journal_ratio = snapshot_journal_ratio
        self.snapshot_min_bytes = snapshot_min_bytes
        self.state = RecordState(self.kinds)
        self.commit_sequence = 0
        self._columns = {k: Columns(spec) for k, spec in self.kinds.items()}
        self._since_snapshot = 0
        self._journal_bytes = 0
        self._snapshot_bytes = 0
        #: Why the store refuses every operation until it is opened again (None: usable).
        self._unusable: str | None = None
        if not create and not _holds_store(directory):
            raise StoreUnavailableError(
                f"no file store in {directory} (no {JOURNAL} or {SNAPSHOT}): check the path, "
                "or pass create=True to create a store there"
            )
        if not directory.is_dir():
            try:
                directory.parent.mkdir(parents=True, exist_ok=True)
                directory.mkdir(mode=self.dir_mode)
                os.chmod(directory, self.dir_mode)  # exactly: the umask may have narrowed it
            except OSError as e:
                raise StoreUnavailableError(
                    f"cannot create store directory {directory}: {e}"
                ) from e
        # not thread-local: the store may be closed from another thread than the one opening it
        self._lock = filelock.FileLock(
            str(directory / ".lock"),
            timeout=lock_timeout,
            thread_local=False,
            mode=self.file_mode,
        )
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StoreUnavailableError(
                f"store {directory} is in use by another process (lock not released "
                f"within {lock_timeout} s)"
            ) from None
        try:
            with gc_paused():
                self.recovery_report = self._load()
            self._since_snapshot = self.recovery_report.frames_replayed
            # unbuffered: a failed write leaves nothing behind in a buffer to reach the file
            # later; every frame is one os.write of its own (see _append_frame)
            self._journal: FileIO = open(directory / JOURNAL, "ab", buffering=0)  # noqa: SIM115
        except OSError as e:
            self._lock.release()
            raise StoreUnavailableError(f"cannot open the store in {directory}: {e}") from e
        except BaseException:
            self._lock.release()
            raise
        #: Why the last snapshot attempted after a commit failed, if it did (the commit itself
        #: was durable in the journal; the next commit or close tries again).
        self.last_snapshot_error: StoreUnavailableError | None = None

    def _create_file(self, path: Path) -> BufferedWriter:
        """`path` opened (buffered) for writing, empty, with the store's file mode (exactly)."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, self.file_mode)
        try:
            os.fchmod(fd, self.file_mode)
        except BaseException:
            os.close(fd)
            raise
        return os.fdopen(fd, "wb")

    # loading ----------------------------------------------------------------------------
    def _load(self) -> RecoveryReport:
        has_snapshot = (self.directory / SNAPSHOT).exists() or (
            self.directory / SNAPSHOT_V1
        ).exists()
        snapshot_seq, self._snapshot_bytes = load_snapshot(
            self.directory, self.state, self._columns
        )
        self.commit_sequence = snapshot_seq
        path = self.directory / JOURNAL
        if not path.exists():
            self._new_journal(snapshot_seq)
            self._journal_bytes = len(base_frame(snapshot_seq))
            return RecoveryReport(snapshot_seq, 0)
        data = path.read_bytes()
        self._journal_bytes = len(data)
        offset, replayed = 0, 0
        continuity = Continuity(path, snapshot_seq, has_snapshot)
        while offset < len(data):
            frame, end, reason = read_frame(data, offset, self._columns)
            if frame is None:
                if valid_frame_after(data, offset + 1, self._columns):
                    raise DataError(
                        f"{path}: corrupt frame at byte {offset} ({reason}) followed by valid "
                        "frames: the journal is damaged in the middle; restore from a backup"
                    )
                with open(path, "r+b") as f:
                    f.truncate(offset)
                    os.fsync(f.fileno())
                self._journal_bytes = offset
                return RecoveryReport(snapshot_seq, replayed, offset, reason, len(data) - offset)
            seq, writes, outbox, pruned_through, base = frame
            if continuity.check(seq, base, offset):
                if writes or outbox:
                    # checked when committed: only the unique indexes need bringing along
                    unique = self.state._unique_changes(writes)
                    self.state.apply(PreparedCommit(tuple(writes), tuple(outbox), unique))
                if pruned_through is not None:
                    self.state.prune(pruned_through)
                self.commit_sequence = seq
                replayed += 1
            offset = end
        continuity.finish(offset)
        return RecoveryReport(snapshot_seq, replayed)

    def _new_journal(self, seq: int) -> None:
        """Replace the journal, crash-safely, by one holding only the base frame of `seq`."""
        new = self.directory / (JOURNAL + ".new")
        with self._create_file(new) as f:
            f.write(base_frame(seq))
            f.flush()
            os.fsync(f.fileno())
        os.replace(new, self.directory / JOURNAL)
        _fsync_dir(self.directory)

    # writing ----------------------------------------------------------------------------
    @property
    def broken(self) -> str | None:
        """Why the store refuses every operation until it is closed and opened again, or None.

        Set when the outcome of a commit is unknown (its journal frame could be neither made
        durable nor cut off again), or when an emptied journal could not be made durable after
        a snapshot.
        """
        return self._unusable

    def _check_usable(self) -> None:
        if self._unusable is not None:
            raise StoreUnavailableError(
                f"{self.directory}: {self._unusable}; close the store and open it again"
            )

    def _persist(self, commit: PreparedCommit) -> None:
        self._check_usable()
        seq = self.commit_sequence + 1
        texts = [as_bytes(w.document_text()) for w in commit.writes]
        outbox_metas, outbox_texts = outbox_section(commit.outbox)
        kinds = {w.record.kind for w in commit.writes}
        meta = {
            "seq": seq,
            "columns": {k: list(self._columns[k].names) for k in sorted(kinds)},
            "writes": [
                [
                    w.op,
                    w.record.kind,
                    w.record.id,
                    w.record.version,
                    len(text),
                    self._columns[w.record.kind].encode(w.record.columns),
                ]
                for w, text in zip(commit.writes, texts, strict=True)
            ],
            "outbox": outbox_metas,
        }
        meta_line = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
        self._append_frame(
            seq, b"".join([meta_line, b"\n", *texts, *outbox_texts]), f"commit {seq}"
        )

    def _append_frame(self, seq: int, body: bytes, label: str) -> None:
        """Append one frame to the journal and fsync it: durable when this returns.

        The caller holds the state lock and changes the in-memory state only if this returns.
        If the write or the fsync fails, the outcome is not known (an fsync error may mean the
        bytes never reach the disk, or only some of them), so the frame is cut off again: the
        journal is truncated to its length before the frame and that is fsync'd. If that works
        the frame is gone for good and the commit is cleanly refused; if it fails too, the
        store is marked broken (`_unusable`) and refuses everything until it is opened again,
        when the journal decides. The failed fsync is never retried: after one, the operating
        system may report success for data it has already dropped.

        Raises:
            StoreUnavailableError: the commit was refused (nothing stored, the store is still
                usable) or its outcome is unknown (the store is now broken); the message
                says which.
        """
        self._check_usable()
        frame = HEADER.pack(MAGIC, len(body), zlib.crc32(body)) + body
        fd = self._journal.fileno()
        try:
            start = os.fstat(fd).st_size  # where to cut back to, as the file says
        except OSError as e:
            raise self._refused(label, e) from e
        try:
            _write_all(fd, frame)
            os.fsync(fd)
        except OSError as e:
            self._cut_off_frame(fd, start, label, e)  # always raises
        self.commit_sequence = seq
        self._since_snapshot += 1
        self._journal_bytes = start + len(frame)

    def _refused(self, label: str, error: OSError) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"{self.directory}: {label} was refused and nothing of it was stored: cannot "
            f"write the journal ({error}); the store is still usable"
        )

    def _cut_off_frame(self, fd: int, start: int, label: str, error: OSError) -> NoReturn:
        # any part of the frame may be in the file (or on its way to the disk): cut it off,
        # even after a write that reports nothing written, and make the cut durable
        try:
            os.ftruncate(fd, start)
            os.fsync(fd)
        except OSError as cut_error:
            self._unusable = (
                f"the outcome of {label} is unknown: its journal frame could not be "
                f"written durably ({error}) nor cut off again ({cut_error}); the store "
                f"refuses every operation, and the next open decides from the journal "
                f"whether {label} happened (all of it) or not (none of it)"
            )
            raise StoreUnavailableError(
                f"{self.directory}: {self._unusable}; close the store and open it again"
            ) from error
        raise self._refused(label, error) from error

    def snapshot_due(self) -> bool:
        """Whether the snapshot policy asks for a snapshot now."""
        if self.snapshot_every and self._since_snapshot >= self.snapshot_every:
            return True
        ratio = self.snapshot_journal_ratio
        return ratio is not None and self._journal_bytes >= max(
            self.snapshot_min_bytes, ratio * self._snapshot_bytes
        )

    def snapshot(self) -> None:
        """Write a snapshot of the committed state and empty the journal (crash-safe).

        Raises:
            StoreUnavailableError: the snapshot could not be written (the journal still holds
                every commit: nothing is lost), or the store is closed or broken (see
                `broken`). If the snapshot was written but the emptied journal could not be
                made durable, the store becomes broken: every acknowledged commit is safe, but
                new ones are refused until the store is opened again.
        """
        self.state.check_open()
        self._check_usable()
        try:
            self._write_snapshot()
        except OSError as e:
            raise StoreUnavailableError(f"{self.directory}: cannot write a snapshot: {e}") from e

    def _write_snapshot(self) -> None:
        with self.state.lock:
            header, parts = snapshot_content(self.state, self._columns, self.commit_sequence)
            tmp = self.directory / (SNAPSHOT + ".tmp")
            with self._create_file(tmp) as f:
                f.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
                f.writelines(parts)
                f.flush()
                os.fsync(f.fileno())
                size = f.tell()
            os.replace(tmp, self.directory / SNAPSHOT)
            self._snapshot_bytes = size
            # a failure from here on leaves the old or the new snapshot with the whole
            # journal: frames at or below the snapshot's sequence are skipped on replay
            _fsync_dir(self.directory)
            old = self.directory / SNAPSHOT_V1
            if old.exists():  # superseded by the new-format snapshot
                old.unlink()
                _fsync_dir(self.directory)
            # every frame is now in the snapshot: start a journal holding only the base frame
            # (it continues this snapshot) the same way
            new = self.directory / (JOURNAL + ".new")
            base = base_frame(self.commit_sequence)
            with self._create_file(new) as f:
                f.write(base)
                f.flush()
                os.fsync(f.fileno())
            os.replace(new, self.directory / JOURNAL)  # fails: the old journal stays in use
            fresh: FileIO | None = None
            try:
                fresh = open(self.directory / JOURNAL, "ab", buffering=0)  # noqa: SIM115
                _fsync_dir(self.directory)
            except OSError as e:
                # the handle we hold points at the replaced file, and the rename may not be
                # durable: a commit appended to either journal could be lost. Every commit so
                # far is in the snapshot, so refuse new ones until the store is opened again.
                if fresh is not None:
                    fresh.close()
                self._unusable = (
                    f"the emptied journal could not be made durable after a snapshot ({e}); "
                    "every acknowledged commit is in the snapshot, but new commits are refused"
                )
                raise
            self._journal.close()
            self._journal = fresh
            self._since_snapshot = 0
            self._journal_bytes = len(base)

    # RecordBackend ----------------------------------------------------------------------
    def begin(self) -> RecordTransaction:
        """Start a transaction.

        Raises:
            StoreUnavailableError: the store is closed or broken (see `broken`).
        """
        self.state.check_open()
        self._check_usable()
        return _FileTransaction(self)

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[OutboxEntry]:
        """Outbox entries with `sequence > after`, in order, at most `limit` of them.

        Raises:
            StoreUnavailableError: the store is broken (see `broken`).
        """
        self._check_usable()
        return self.state.read_outbox(after, limit)

    def prune_outbox(self, *, through: int) -> int:
        """Delete the outbox entries with `sequence <= through`; see `RecordBackend`.

        The prune is a journal frame of its own (`{"prune": through}`, no writes), fsync'd
        before the entries leave memory: a crash before the fsync leaves every entry, after it
        none of them, and a reopen replays it. Snapshots keep the last sequence ever assigned,
        so a reopened store never hands out a pruned sequence again. A snapshot follows when
        the snapshot policy asks for one, as after a commit.

        A failed journal write or fsync is handled as for a commit: the prune is refused
        with nothing deleted (the store stays usable), or its outcome is unknown and the store
        is broken until it is opened again (see `broken`); the message says which.

        Raises:
            OutboxRangeError: `through` is negative or beyond the last sequence.
            StoreUnavailableError: the store is closed or broken, or the journal cannot be
                written (see above).
        """
        with self.state.lock:
            self.state.check_open()
            self._check_usable()
            if self.state.prune_count(through) == 0:
                return 0
            seq = self.commit_sequence + 1
            meta = {"seq": seq, "columns": {}, "writes": [], "outbox": [], "prune": through}
            self._append_frame(
                seq,
                json.dumps(meta, separators=(",", ":")).encode() + b"\n",
                f"the outbox prune through {through} (commit {seq})",
            )
            count = self.state.prune(through)
        if self.snapshot_due():
            try:
                self.snapshot()
                self.last_snapshot_error = None
            except StoreUnavailableError as e:  # the prune stands: it is in the journal
                self.last_snapshot_error = e
        return count

    def close(self) -> None:
        """Snapshot what the journal holds and release the store.

        A broken store (see `broken`) is released without a snapshot and without raising:
        closing it and opening it again is how it is recovered.

        Raises:
            StoreUnavailableError: the snapshot could not be written (nothing is lost: the
                journal still holds every commit and the next open replays it).
        """
        if self.state.closed:
            return
        try:
            if self._since_snapshot and self._unusable is None:
                self.snapshot()
        except StoreUnavailableError as e:
            raise StoreUnavailableError(
                f"{e}; closed without it: the journal keeps every commit and the next open "
                "replays it"
            ) from e.__cause__
        finally:
            self.state.closed = True
            self._journal.close()
            self._lock.release()


class _FileTransaction(StateTransaction):
    def __init__(self, backend: FileBackend) -> None:
        super().__init__(backend.state, backend._persist)
        self._backend = backend

    def commit(self) -> None:
        """Make the transaction's writes and outbox entries durable, all or nothing.

        Raises:
            ConflictError, IntegrityError: checked against the committed state; nothing stored.
            StoreUnavailableError: the store is closed or broken, or the journal could not be
                written. The message says which of two cases it is: the commit was refused and
                nothing of it was stored (the store is still usable), or its outcome is
                unknown and the store is now broken (see `FileBackend.broken`): it refuses
                everything until it is closed and opened again, and the reopened store has
                either all of this commit or none of it.
        """
        super().commit()  # durable from here: the frame is fsync'd
        backend = self._backend
        if backend.snapshot_due():
            try:
                backend.snapshot()
                backend.last_snapshot_error = None
            except StoreUnavailableError as e:
                # the commit stands (it is in the journal); a failed snapshot only means a
                # longer replay on the next open, and the next commit or close retries
                backend.last_snapshot_error = e


def path_from_url(url: str) -> Path:
    """`file:///var/lib/credit` → Path("/var/lib/credit"). Raises `ValueError` otherwise."""
    parsed = urlparse(url)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        raise ValueError(f"not a local file URL: {url!r} (use file:///absolute/dir)")
    return Path(unquote(parsed.path))


#: The options `open_backend` takes.
OPTIONS: Final = frozenset(
    {
        "snapshot_every",
        "snapshot_journal_ratio",
        "snapshot_min_bytes",
        "lock_timeout",
        "create",
        "file_mode",
        "dir_mode",
    }
)


def open_backend(url: str, **options: Any) -> FileBackend:
    """Open the file store in the directory of a `file:///dir` URL (`FileBackend`):
    `create` (default false: a directory holding no store is refused), `snapshot_every`,
    `snapshot_journal_ratio`, `snapshot_min_bytes`, `lock_timeout`, `file_mode`, `dir_mode`.

    Raises:
        ConfigurationError: an option it does not take (named).
        ValueError: not a local file URL; and as `FileBackend`.
    """
    check_options("file", options, OPTIONS)
    return FileBackend(path_from_url(url), **options)
