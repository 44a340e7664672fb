"""Journal + snapshot implementation of the record contract (see the package doc)."""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Final
from urllib.parse import unquote, urlparse

import attrs
import filelock

from creditmgmt.adapters.kinds import ALL_SPECS
from creditmgmt.adapters.records import (
    ColumnValue,
    KindSpec,
    OutboxEntry,
    Record,
    RecordBackend,
    RecordTransaction,
)
from creditmgmt.adapters.state import (
    PreparedCommit,
    RecordState,
    StateTransaction,
    StoredRow,
    Write,
)
from creditmgmt.adapters.unit_of_work import RecordStore
from creditmgmt.ports.clock import Clock
from creditmgmt.ports.errors import DataError, StoreUnavailableError

MAGIC: Final = b"CMJ1"
HEADER: Final = struct.Struct(">4sII")  # magic, payload length, crc32
FORMAT: Final = 1
JOURNAL: Final = "journal.log"
SNAPSHOT: Final = "snapshot.json"
MAX_FRAME: Final = 1 << 30


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


def _encode_columns(spec: KindSpec, columns: Mapping[str, ColumnValue]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c in spec.columns:
        v = columns.get(c.name)
        if v is not None and c.type == "decimal":
            v = str(v)
        elif v is not None and c.type == "date":
            v = v.isoformat()  # type: ignore[union-attr]
        out[c.name] = v
    return out


def _decode_columns(spec: KindSpec, raw: Mapping[str, Any]) -> dict[str, ColumnValue]:
    out: dict[str, ColumnValue] = {}
    for c in spec.columns:
        v = raw.get(c.name)
        if v is not None and c.type == "decimal":
            v = Decimal(v)
        elif v is not None and c.type == "date":
            v = date.fromisoformat(v)
        out[c.name] = v
    return out


def _encode_outbox(e: OutboxEntry) -> dict[str, Any]:
    return {
        "sequence": e.sequence,
        "kind": e.aggregate_kind,
        "id": e.aggregate_id,
        "event_type": e.event_type,
        "document": e.document,
        "recorded_at": e.recorded_at.isoformat(),
    }


def _decode_outbox(raw: Mapping[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        aggregate_kind=raw["kind"],
        aggregate_id=raw["id"],
        event_type=raw["event_type"],
        document=raw["document"],
        recorded_at=datetime.fromisoformat(raw["recorded_at"]),
        sequence=int(raw["sequence"]),
    )


class FileBackend(RecordBackend):
    """A crash-safe directory store. Open with `FileBackend.open(path)`."""

    def __init__(
        self,
        directory: Path,
        *,
        kinds: Mapping[str, KindSpec] | None = None,
        snapshot_every: int = 1000,
        lock_timeout: float = 10.0,
        fsync: bool = True,
    ) -> None:
        self.directory = directory
        self.kinds = dict(kinds if kinds is not None else ALL_SPECS)
        self.snapshot_every = snapshot_every
        self.fsync = fsync
        self.state = RecordState(self.kinds)
        self.commit_sequence = 0
        self._since_snapshot = 0
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreUnavailableError(f"cannot create store directory {directory}: {e}") from e
        self._lock = filelock.FileLock(str(directory / ".lock"), timeout=lock_timeout)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise StoreUnavailableError(
                f"store {directory} is in use by another process (lock not released "
                f"within {lock_timeout} s)"
            ) from None
        try:
            self.recovery_report = self._load()
            self._since_snapshot = self.recovery_report.frames_replayed
            self._journal: BinaryIO = open(directory / JOURNAL, "ab")  # noqa: SIM115
        except BaseException:
            self._lock.release()
            raise

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        kinds: Mapping[str, KindSpec] | None = None,
        snapshot_every: int = 1000,
        lock_timeout: float = 10.0,
    ) -> FileBackend:
        """Open (or create) the store in directory `path`.

        Raises:
            StoreUnavailableError: the directory cannot be used, or another process holds it.
            DataError: a corrupt snapshot, or corruption in the middle of the journal.
        """
        return cls(
            Path(path), kinds=kinds, snapshot_every=snapshot_every, lock_timeout=lock_timeout
        )

    # loading ----------------------------------------------------------------------------
    def _load(self) -> RecoveryReport:
        snapshot_seq = self._load_snapshot()
        path = self.directory / JOURNAL
        if not path.exists():
            with open(path, "wb") as f:
                os.fsync(f.fileno())
            _fsync_dir(self.directory)
            return RecoveryReport(snapshot_seq, 0)
        data = path.read_bytes()
        offset, replayed = 0, 0
        while offset < len(data):
            frame, reason = self._read_frame(data, offset)
            if frame is None:
                if self._valid_frame_after(data, offset + 1):
                    raise DataError(
                        f"{path}: corrupt frame at byte {offset} ({reason}) followed by valid "
                        "frames: the journal is damaged in the middle; restore from a backup"
                    )
                with open(path, "r+b") as f:
                    f.truncate(offset)
                    os.fsync(f.fileno())
                return RecoveryReport(snapshot_seq, replayed, offset, reason, len(data) - offset)
            payload, end = frame
            if payload["seq"] > self.commit_sequence:
                self._replay(payload)
                replayed += 1
            offset = end
        return RecoveryReport(snapshot_seq, replayed)

    def _read_frame(
        self, data: bytes, offset: int
    ) -> tuple[tuple[dict[str, Any], int] | None, str]:
        if len(data) - offset < HEADER.size:
            return None, "incomplete frame header"
        magic, length, crc = HEADER.unpack_from(data, offset)
        if magic != MAGIC:
            return None, "bad frame marker"
        start, end = offset + HEADER.size, offset + HEADER.size + length
        if length > MAX_FRAME or end > len(data):
            return None, "incomplete frame"
        body = data[start:end]
        if zlib.crc32(body) != crc:
            return None, "checksum mismatch"
        try:
            payload = json.loads(body)
        except ValueError:
            return None, "unreadable payload"
        return (payload, end), ""

    def _valid_frame_after(self, data: bytes, start: int) -> bool:
        at = data.find(MAGIC, start)
        while at != -1:
            frame, _ = self._read_frame(data, at)
            if frame is not None:
                return True
            at = data.find(MAGIC, at + 1)
        return False

    def _load_snapshot(self) -> int:
        path = self.directory / SNAPSHOT
        if not path.exists():
            return 0
        try:
            snap = json.loads(path.read_bytes())
            if snap.get("format") != FORMAT:
                raise DataError(f"{path}: unknown snapshot format {snap.get('format')!r}")
            for kind, rows in snap["rows"].items():
                spec = self.state.spec(kind)
                target = self.state.rows[kind]
                for rid, (version, document, columns) in rows.items():
                    row = StoredRow(version, document, _decode_columns(spec, columns))
                    target[rid] = row
                    for c in spec.columns:
                        if c.unique and row.columns.get(c.name) is not None:
                            self.state.unique[(kind, c.name)][row.columns[c.name]] = rid
            self.state.outbox = [_decode_outbox(e) for e in snap["outbox"]]
            self.state.last_sequence = int(snap["last_outbox_sequence"])
            self.commit_sequence = int(snap["seq"])
        except DataError:
            raise
        except (ValueError, KeyError, TypeError) as e:
            raise DataError(f"{path}: corrupt snapshot ({type(e).__name__}: {e})") from e
        return self.commit_sequence

    def _replay(self, payload: Mapping[str, Any]) -> None:
        writes = []
        for w in payload["writes"]:
            spec = self.state.spec(w["kind"])
            columns = _decode_columns(spec, w["columns"])
            record = Record(w["kind"], w["id"], w["version"], {}, columns)
            writes.append(Write(w["op"], record, w["document"]))
        outbox = tuple(_decode_outbox(e) for e in payload["outbox"])
        unique = self.state._unique_changes(writes)
        self.state.apply(PreparedCommit(tuple(writes), outbox, unique))
        self.commit_sequence = int(payload["seq"])

    # writing ----------------------------------------------------------------------------
    def _persist(self, commit: PreparedCommit) -> None:
        seq = self.commit_sequence + 1
        payload = {
            "seq": seq,
            "writes": [
                {
                    "op": w.op,
                    "kind": w.record.kind,
                    "id": w.record.id,
                    "version": w.record.version,
                    "document": w.document,
                    "columns": _encode_columns(self.kinds[w.record.kind], w.record.columns),
                }
                for w in commit.writes
            ],
            "outbox": [_encode_outbox(e) for e in commit.outbox],
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        frame = HEADER.pack(MAGIC, len(body), zlib.crc32(body)) + body
        try:
            self._journal.write(frame)
            self._journal.flush()
            if self.fsync:
                os.fsync(self._journal.fileno())
        except OSError as e:
            self._reopen_journal_after_failure()
            raise StoreUnavailableError(f"{self.directory}: cannot write the journal: {e}") from e
        self.commit_sequence = seq
        self._since_snapshot += 1

    def _reopen_journal_after_failure(self) -> None:
        # a partial frame may be on disk: cut it so the next commit starts on a frame boundary
        try:
            self._journal.close()
        finally:
            path = self.directory / JOURNAL
            data = path.read_bytes()
            good = 0
            while good < len(data):
                frame, _ = self._read_frame(data, good)
                if frame is None:
                    break
                good = frame[1]
            with open(path, "r+b") as f:
                f.truncate(good)
                os.fsync(f.fileno())
            self._journal = open(path, "ab")  # noqa: SIM115

    def snapshot(self) -> None:
        """Write a snapshot of the committed state and rotate the journal (crash-safe)."""
        with self.state.lock:
            snap = {
                "format": FORMAT,
                "seq": self.commit_sequence,
                "last_outbox_sequence": self.state.last_sequence,
                "rows": {
                    kind: {
                        rid: [row.version, row.document, _encode_columns(spec, row.columns)]
                        for rid, row in rows.items()
                    }
                    for kind, rows in self.state.rows.items()
                    for spec in (self.kinds[kind],)
                },
                "outbox": [_encode_outbox(e) for e in self.state.outbox],
            }
            tmp = self.directory / (SNAPSHOT + ".tmp")
            with open(tmp, "wb") as f:
                f.write(json.dumps(snap, ensure_ascii=False, separators=(",", ":")).encode())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.directory / SNAPSHOT)
            _fsync_dir(self.directory)
            # every frame is now in the snapshot: start an empty journal the same way
            new = self.directory / (JOURNAL + ".new")
            with open(new, "wb") as f:
                os.fsync(f.fileno())
            self._journal.close()
            os.replace(new, self.directory / JOURNAL)
            _fsync_dir(self.directory)
            self._journal = open(self.directory / JOURNAL, "ab")  # noqa: SIM115
            self._since_snapshot = 0

    # RecordBackend ----------------------------------------------------------------------
    def begin(self) -> RecordTransaction:
        self.state.check_open()
        return _FileTransaction(self)

    def read_outbox(self, *, after: int = 0, limit: int = 1000) -> list[OutboxEntry]:
        return self.state.read_outbox(after, limit)

    def close(self) -> None:
        if self.state.closed:
            return
        try:
            if self._since_snapshot:
                self.snapshot()
        finally:
            self.state.closed = True
            self._journal.close()
            self._lock.release()


class _FileTransaction(StateTransaction):
    def __init__(self, backend: FileBackend) -> None:
        super().__init__(backend.state, backend._persist)
        self._backend = backend

    def commit(self) -> None:
        super().commit()
        b = self._backend
        if b.snapshot_every and b._since_snapshot >= b.snapshot_every:
            b.snapshot()


def path_from_url(url: str) -> Path:
    """`file:///var/lib/credit` → Path("/var/lib/credit"). Raises `ValueError` otherwise."""
    parsed = urlparse(url)
    if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
        raise ValueError(f"not a local file URL: {url!r} (use file:///absolute/dir)")
    return Path(unquote(parsed.path))


def file_store(url_or_path: str | os.PathLike[str], *, clock: Clock, **options: Any) -> RecordStore:
    """A `RecordStore` over a file store directory (a path or a `file:///dir` URL)."""
    path = (
        path_from_url(url_or_path)
        if isinstance(url_or_path, str) and url_or_path.startswith("file:")
        else Path(url_or_path)
    )
    return RecordStore(FileBackend.open(path, **options), clock=clock)
