"""File store snapshots: the whole committed state as of a commit, read back on open and
made from the state when the journal has grown (see the package doc for the layout)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from creditmgmt.adapters.files.format import (
    SNAPSHOT,
    SNAPSHOT_FORMAT,
    SNAPSHOT_V1,
    Columns,
    as_bytes,
    decode_outbox,
    header_crc,
    outbox_section,
    read_outbox_section,
)
from creditmgmt.adapters.records.in_process import RecordState, StoredRow
from creditmgmt.ports.errors import DataError


def load_snapshot(
    directory: Path, state: RecordState, layouts: Mapping[str, Columns]
) -> tuple[int, int]:
    """Load the snapshot of a store directory (either format) into an empty `state`; return
    its commit sequence and its size in bytes — (0, 0) when there is none.

    Raises:
        DataError: a damaged snapshot or one of an unknown format (names the file).
    """
    path = directory / SNAPSHOT
    if path.exists():
        return _load_v2(path, state, layouts)
    if (directory / SNAPSHOT_V1).exists():
        return _load_v1(directory / SNAPSHOT_V1, state, layouts), 0
    return 0, 0


def _load_v2(path: Path, state: RecordState, layouts: Mapping[str, Columns]) -> tuple[int, int]:
    data = path.read_bytes()
    try:
        newline = data.index(b"\n")
        header = json.loads(data[:newline])
        if not isinstance(header, dict):
            raise DataError(
                f"{path}: corrupt snapshot: its header is a JSON {type(header).__name__}, "
                "not an object"
            )
        if header.get("format") not in (2, SNAPSHOT_FORMAT):
            raise DataError(f"{path}: unknown snapshot format {header.get('format')!r}")
        if header["format"] >= 3 and header.get("header_crc32") != header_crc(header):
            raise DataError(f"{path}: header checksum mismatch: the snapshot is damaged")
        if zlib.crc32(memoryview(data)[newline + 1 :]) != header["crc32"]:
            raise DataError(f"{path}: checksum mismatch: the snapshot is damaged")
        at = newline + 1
        for kind, names in header["columns"].items():
            end = data.index(b"\n", at)
            metas = json.loads(data[at:end])
            at = end + 1
            read = layouts[kind].reader(names)
            target = state.rows[kind]
            unique = [(n, state.unique[(kind, n)]) for n in state.unique_columns[kind]]
            for rid, version, length, values in metas:
                columns = read(values)
                target[rid] = StoredRow(version, columns, data[at : at + length])
                at += length
                for name, index in unique:
                    value = columns.get(name)
                    if value is not None:
                        index[value] = rid
        end = data.index(b"\n", at)
        state.outbox, at = read_outbox_section(json.loads(data[at:end]), data, end + 1, {})
        if at != len(data):
            raise ValueError("document bytes do not add up")
        state.last_sequence = int(header["last_outbox_sequence"])
        return int(header["seq"]), len(data)
    except DataError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise DataError(f"{path}: corrupt snapshot ({type(e).__name__}: {e})") from e


def _load_v1(path: Path, state: RecordState, layouts: Mapping[str, Columns]) -> int:
    try:
        snap = json.loads(path.read_bytes())
        if not isinstance(snap, dict):
            raise DataError(
                f"{path}: corrupt snapshot: a JSON {type(snap).__name__}, not an object"
            )
        if snap.get("format") != 1:
            raise DataError(f"{path}: unknown snapshot format {snap.get('format')!r}")
        for kind, rows in snap["rows"].items():
            columns_of = layouts[kind]
            target = state.rows[kind]
            for rid, (version, document, columns) in rows.items():
                names = list(columns)
                values = columns_of.reader(names)([columns[n] for n in names])
                target[rid] = StoredRow(version, values, document)
                for name in state.unique_columns[kind]:
                    if values.get(name) is not None:
                        state.unique[(kind, name)][values[name]] = rid
        state.outbox = [decode_outbox(e) for e in snap["outbox"]]
        state.last_sequence = int(snap["last_outbox_sequence"])
        return int(snap["seq"])
    except DataError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise DataError(f"{path}: corrupt snapshot ({type(e).__name__}: {e})") from e


def snapshot_content(
    state: RecordState, layouts: Mapping[str, Columns], sequence: int
) -> tuple[dict[str, Any], list[bytes]]:
    """The header and the body parts of a snapshot of `state` as of commit `sequence` (the
    caller holds the state's lock and writes them crash-safely)."""
    parts: list[bytes] = []
    crc = 0
    for kind, rows in state.rows.items():
        columns = layouts[kind]
        texts = [as_bytes(row.document_text()) for row in rows.values()]
        metas = [
            [rid, row.version, len(text), columns.encode(row.columns)]
            for (rid, row), text in zip(rows.items(), texts, strict=True)
        ]
        line = json.dumps(metas, ensure_ascii=False, separators=(",", ":")).encode()
        parts.append(line + b"\n")
        parts.extend(texts)
    outbox_metas, outbox_texts = outbox_section(state.outbox)
    line = json.dumps(outbox_metas, ensure_ascii=False, separators=(",", ":")).encode()
    parts.append(line + b"\n")
    parts.extend(outbox_texts)
    for part in parts:
        crc = zlib.crc32(part, crc)
    header = {
        "format": SNAPSHOT_FORMAT,
        "seq": sequence,
        "last_outbox_sequence": state.last_sequence,
        "columns": {k: list(c.names) for k, c in layouts.items()},
        "crc32": crc,
    }
    header["header_crc32"] = header_crc(header)
    return header, parts
