"""The file store's on-disk format: journal frames, the column and outbox sections frames and
snapshots share, and reading a frame back (see the package doc for the layout)."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from creditmgmt.adapters.records.contract import (
    ColumnValue,
    KindSpec,
    OutboxEntry,
    Record,
)
from creditmgmt.adapters.records.in_process import (
    Write,
)

MAGIC_V1: Final = b"CMJ1"  # payload: one JSON object (read for stores written by 0.1)
MAGIC: Final = b"CMJ2"  # payload: JSON meta line + the documents' UTF-8 bytes, back to back
HEADER: Final = struct.Struct(">4sII")  # magic, payload length, crc32
JOURNAL: Final = "journal.log"
SNAPSHOT: Final = "snapshot.cms"
SNAPSHOT_V1: Final = "snapshot.json"
SNAPSHOT_FORMAT: Final = 3  # 3: the header has a checksum of its own (2 is still read)
MAX_FRAME: Final = 1 << 30

#: Raw columns of one record, and how each stored column is read back.
#: commit sequence, writes, outbox entries, `through` of an outbox prune (else None), and
#: whether it is a base frame (the start of a journal: the commit it continues from)
Frame = tuple[int, list[Write], list[OutboxEntry], int | None, bool]


def base_frame(seq: int) -> bytes:
    """The first frame of a fresh journal: it continues the snapshot of commit `seq`."""
    meta = {"seq": seq, "base": True, "columns": {}, "writes": [], "outbox": []}
    body = json.dumps(meta, separators=(",", ":")).encode() + b"\n"
    return HEADER.pack(MAGIC, len(body), zlib.crc32(body)) + body


def header_crc(header: Mapping[str, Any]) -> int:
    """CRC-32 of a snapshot header's canonical JSON, without its own `header_crc32` key."""
    rest = {k: v for k, v in header.items() if k != "header_crc32"}
    return zlib.crc32(json.dumps(rest, sort_keys=True, separators=(",", ":")).encode())


def as_bytes(text: str | bytes) -> bytes:
    return text if isinstance(text, bytes) else text.encode("utf-8")


class Columns:
    """Positional column codec of one kind: names, and JSON-safe encode / decode of values."""

    def __init__(self, spec: KindSpec) -> None:
        self.names = tuple(c.name for c in spec.columns)
        self.decimals = tuple(i for i, c in enumerate(spec.columns) if c.type == "decimal")
        self.dates = tuple(i for i, c in enumerate(spec.columns) if c.type == "date")

    def encode(self, columns: Mapping[str, ColumnValue]) -> list[Any]:
        values: list[Any] = [columns.get(n) for n in self.names]
        for i in self.decimals:
            if values[i] is not None:
                values[i] = str(values[i])
        for i in self.dates:
            if values[i] is not None:
                values[i] = values[i].isoformat()
        return values

    def reader(self, stored_names: list[str]) -> Callable[[list[Any]], dict[str, ColumnValue]]:
        """Read values stored under `stored_names` (an older or newer column set is fine:
        a missing column reads as None, an unknown one is dropped)."""
        position = {n: i for i, n in enumerate(stored_names)}
        picks = [(n, position.get(n)) for n in self.names]
        decimals = {self.names[i] for i in self.decimals}
        dates = {self.names[i] for i in self.dates}
        convert = [
            (n, Decimal if n in decimals else date.fromisoformat)
            for n, at in picks
            if at is not None and (n in decimals or n in dates)
        ]
        if [n for n, _ in picks] == list(stored_names):

            def read_same(values: list[Any]) -> dict[str, ColumnValue]:
                out = dict(zip(stored_names, values, strict=True))
                for n, conv in convert:
                    v = out[n]
                    if v is not None:
                        out[n] = conv(v)
                return out

            return read_same

        def read_other(values: list[Any]) -> dict[str, ColumnValue]:
            out: dict[str, ColumnValue] = {}
            for n, at in picks:
                out[n] = None if at is None else values[at]
            for n, conv in convert:
                v = out[n]
                if v is not None:
                    out[n] = conv(v)  # type: ignore[arg-type]
            return out

        return read_other


def decode_outbox(raw: Mapping[str, Any]) -> OutboxEntry:
    """An outbox entry of format 1 (snapshot.json and CMJ1 frames)."""
    return OutboxEntry(
        aggregate_kind=raw["kind"],
        aggregate_id=raw["id"],
        event_type=raw["event_type"],
        document=raw["document"],
        recorded_at=datetime.fromisoformat(raw["recorded_at"]),
        sequence=int(raw["sequence"]),
    )


def outbox_section(entries: Iterable[OutboxEntry]) -> tuple[list[list[Any]], list[bytes]]:
    """Format 2: one meta row per entry, and the documents' bytes in the same order."""
    metas, texts = [], []
    for e in entries:
        text = as_bytes(e.document_text())
        metas.append(
            [
                e.sequence,
                e.aggregate_kind,
                e.aggregate_id,
                e.event_type,
                e.recorded_at.isoformat(),
                len(text),
            ]
        )
        texts.append(text)
    return metas, texts


def read_outbox_section(
    metas: list[list[Any]], data: bytes, at: int, times: dict[str, datetime]
) -> tuple[list[OutboxEntry], int]:
    entries = []
    for seq, kind, rid, event_type, recorded_at, length in metas:
        when = times.get(recorded_at)
        if when is None:
            when = times[recorded_at] = datetime.fromisoformat(recorded_at)
        text = data[at : at + length]
        at += length
        entries.append(OutboxEntry(kind, rid, event_type, None, when, int(seq), text=text))
    return entries, at


def read_frame(
    data: bytes, offset: int, layouts: Mapping[str, Columns]
) -> tuple[Frame | None, int, str]:
    """The frame at `offset` and the offset after it, or None and why it cannot be read."""
    if len(data) - offset < HEADER.size:
        return None, offset, "incomplete frame header"
    magic, length, crc = HEADER.unpack_from(data, offset)
    if magic not in (MAGIC, MAGIC_V1):
        return None, offset, "bad frame marker"
    start, end = offset + HEADER.size, offset + HEADER.size + length
    if length > MAX_FRAME or end > len(data):
        return None, offset, "incomplete frame"
    body = data[start:end]
    if zlib.crc32(body) != crc:
        return None, offset, "checksum mismatch"
    try:
        frame = _parse_v2(body, layouts) if magic == MAGIC else _parse_v1(body, layouts)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        return None, offset, f"unreadable payload ({type(e).__name__}: {e})"
    return frame, end, ""


def _parse_v2(body: bytes, layouts: Mapping[str, Columns]) -> Frame:
    newline = body.index(b"\n")
    meta = json.loads(body[:newline])
    readers = {kind: layouts[kind].reader(names) for kind, names in meta["columns"].items()}
    writes = []
    at = newline + 1
    for op, kind, rid, version, length, values in meta["writes"]:
        if op not in ("insert", "update"):
            raise ValueError(f"unknown operation {op!r}")
        text = body[at : at + length]
        at += length
        record = Record(kind, rid, version, None, readers[kind](values), text=text)
        writes.append(Write(op, record, text))
    outbox, at = read_outbox_section(meta["outbox"], body, at, {})
    if at != len(body):
        raise ValueError("document bytes do not add up")
    prune = meta.get("prune")  # an outbox prune frame (no writes, no entries)
    if prune is not None and (isinstance(prune, bool) or not isinstance(prune, int)):
        raise ValueError(f"bad prune position {prune!r}")
    base = meta.get("base") is True  # the start of a journal (format 3)
    return int(meta["seq"]), writes, outbox, prune, base


def _parse_v1(body: bytes, layouts: Mapping[str, Columns]) -> Frame:
    payload = json.loads(body)
    writes = []
    for w in payload["writes"]:
        names = list(w["columns"])
        columns = layouts[w["kind"]].reader(names)([w["columns"][n] for n in names])
        text = w["document"]
        record = Record(w["kind"], w["id"], w["version"], None, columns, text=text)
        writes.append(Write(w["op"], record, text))
    outbox = [decode_outbox(e) for e in payload["outbox"]]
    return int(payload["seq"]), writes, outbox, None, False


def valid_frame_after(data: bytes, start: int, layouts: Mapping[str, Columns]) -> bool:
    """Whether a readable frame starts anywhere after `start`."""
    for magic in (MAGIC, MAGIC_V1):
        at = data.find(magic, start)
        while at != -1:
            frame, _end, _reason = read_frame(data, at, layouts)
            if frame is not None:
                return True
            at = data.find(magic, at + 1)
    return False
