"""Tampering with the stored audit trail is found by `desk.verify_audit()`, on SQLite,
PostgreSQL and the file store: an edited entry, a deleted one (in the middle or the last),
two entries swapped — each named in `first_broken`; an untouched trail verifies.

The stores are edited from outside the desk, the way someone with access to the database or
the directory would: SQL UPDATE / DELETE on the audit table, and for the file store a
rewritten `snapshot.cms` (closing a file store snapshots it and empties the journal). The
snapshot carries a CRC-32 of its body; a CRC catches torn or garbled writes, not edits —
whoever can write the file can recompute it — so the editor here recomputes it, and a test
shows that an edit which does not is refused on opening (`DataError`).

What the chain cannot see (docs/security.md): the last entries deleted together with the
head rewound to the new last entry, or the whole trail deleted with its head. Only a head
hash exported elsewhere shows that; the last two tests pin this down.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from creditmgmt.adapters.records import codec
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.adapters.sql import SqlBackend
from creditmgmt.ports.audit import ChainHead, entry_digest
from creditmgmt.ports.errors import DataError
from creditmgmt.services import CreditDesk

HEAD = "~chain-head"


class SqlAudit:
    """The audit table of a SQL store, edited with plain SQL."""

    def __init__(self, desk: CreditDesk) -> None:
        store = desk.store
        assert isinstance(store, RecordStore) and isinstance(store.backend, SqlBackend)
        self.engine = store.backend.engine
        self.table = store.backend.table("audit")

    def documents(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(self.table.c.id, self.table.c.document)).all()
        return {row.id: json.loads(row.document) for row in rows}

    def put(self, record_id: str, document: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                self.table.update()
                .where(self.table.c.id == record_id)
                .values(document=json.dumps(document, ensure_ascii=False))
            )
            assert done.rowcount == 1

    def delete(self, record_id: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(self.table.delete().where(self.table.c.id == record_id))
            assert done.rowcount == 1

    def done(self) -> None:
        pass


class SnapshotAudit:
    """The audit section of a closed file store's `snapshot.cms`, rewritten in place.

    Layout (adapters/files): a JSON header line (with `columns` naming the kinds in order,
    `crc32` over the rest and, from format 3, `header_crc32` over the header's canonical
    JSON without that key), then per kind a JSON line of `[id, version, length, columns]`
    and the documents' bytes back to back, then the outbox the same way.
    """

    def __init__(self, directory: Path) -> None:
        self.path = directory / "snapshot.cms"
        data = self.path.read_bytes()
        header_end = data.index(b"\n") + 1
        self.header = json.loads(data[:header_end])
        body, offset = data[header_end:], 0
        self.sections: list[tuple[str, list[list[Any]], list[bytes]]] = []
        for kind in self.header["columns"]:
            line_end = body.index(b"\n", offset) + 1
            metas = json.loads(body[offset:line_end])
            offset = line_end
            texts = []
            for meta in metas:
                texts.append(body[offset : offset + meta[2]])
                offset += meta[2]
            self.sections.append((kind, metas, texts))
        self.rest = body[offset:]  # the outbox, untouched
        kind, metas, texts = next(s for s in self.sections if s[0] == "audit")
        self.audit = {m[0]: (m, json.loads(t)) for m, t in zip(metas, texts, strict=True)}

    def documents(self) -> dict[str, dict[str, Any]]:
        return {rid: doc for rid, (_m, doc) in self.audit.items()}

    def put(self, record_id: str, document: dict[str, Any]) -> None:
        meta, _old = self.audit[record_id]
        self.audit[record_id] = (meta, document)

    def delete(self, record_id: str) -> None:
        del self.audit[record_id]

    def done(self, *, fix_checksum: bool = True) -> None:
        parts: list[bytes] = []
        for kind, metas, texts in self.sections:
            if kind == "audit":
                texts = [
                    json.dumps(d, ensure_ascii=False).encode() for _m, d in self.audit.values()
                ]
                metas = [
                    [m[0], m[1], len(t), m[3]]
                    for (m, _d), t in zip(self.audit.values(), texts, strict=True)
                ]
            parts.append(json.dumps(metas, ensure_ascii=False, separators=(",", ":")).encode())
            parts.append(b"\n")
            parts.extend(texts)
        parts.append(self.rest)
        body = b"".join(parts)
        if fix_checksum:
            self.header["crc32"] = zlib.crc32(body)
            if "header_crc32" in self.header:  # format 3: the header's own checksum too
                rest = {k: v for k, v in self.header.items() if k != "header_crc32"}
                canonical = json.dumps(rest, sort_keys=True, separators=(",", ":")).encode()
                self.header["header_crc32"] = zlib.crc32(canonical)
        self.path.write_bytes(
            json.dumps(self.header, separators=(",", ":")).encode() + b"\n" + body
        )


Editor = SqlAudit | SnapshotAudit


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "file"],
)
def trail(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    store_config_for: Any,  # before `desks`: their desks close before the schema is dropped
    desks: Any,
    new_book: Any,
) -> Callable[[], tuple[Editor, Callable[[], CreditDesk]]]:
    """An audit trail of 8 entries; calling it closes the desk as needed and returns the
    store's editor and a function that (re)opens a desk on the edited store."""
    if request.param == "file":
        config: Any = {"url": f"file://{tmp_path / 'book'}", "create": True}
    else:
        config = store_config_for(request.param)
    desk = desks(config)
    book = new_book(desk)
    book.customer()
    book.customer()
    assert desk.verify_audit().checked == 8

    def edit() -> tuple[Editor, Callable[[], CreditDesk]]:
        if request.param == "file":
            desk.close()
            return SnapshotAudit(tmp_path / "book"), lambda: desks(config)
        return SqlAudit(desk), lambda: desk

    return edit


def _by_sequence(editor: Editor) -> dict[int, tuple[str, dict[str, Any]]]:
    return {d["data"]["sequence"]: (rid, d) for rid, d in editor.documents().items() if rid != HEAD}


def _data(document: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = document["data"]
    return data


def test_an_untouched_trail_verifies(trail: Any) -> None:
    editor, reopen = trail()
    editor.done()
    check = reopen().verify_audit()
    assert (check.ok, check.checked, check.first_broken) == (True, 8, None)


@pytest.mark.parametrize("field", ["detail", "actor", "at", "outcome"])
def test_an_edited_entry_is_named(trail: Any, field: str) -> None:
    editor, reopen = trail()
    rid, document = _by_sequence(editor)[3]
    value = _data(document)[field]
    _data(document)[field] = {
        "detail": value + " ",
        "actor": "usr_someone_else",
        "at": value.replace("09:00", "08:00"),
        "outcome": "refused",
    }[field]
    assert _data(document)[field] != value
    editor.put(rid, document)
    editor.done()
    check = reopen().verify_audit()
    assert (check.ok, check.first_broken) == (False, rid), check
    assert "changed" in check.reason


def test_an_edited_entry_with_its_hash_recomputed_breaks_the_next_link(trail: Any) -> None:
    editor, reopen = trail()
    entries = _by_sequence(editor)
    rid, document = entries[3]
    data = _data(document)
    data["actor"] = "usr_someone_else"
    entry = codec.decode_audit(document, record_id=rid)
    data["hash"] = entry_digest(entry, sequence=3, prev_hash=data["prev_hash"])
    editor.put(rid, document)
    editor.done()
    check = reopen().verify_audit()
    assert (check.ok, check.first_broken) == (False, entries[4][0]), check
    assert "does not link" in check.reason


def test_a_deleted_middle_entry_is_named_by_its_successor(trail: Any) -> None:
    editor, reopen = trail()
    entries = _by_sequence(editor)
    editor.delete(entries[4][0])
    editor.done()
    check = reopen().verify_audit()
    assert (check.ok, check.first_broken, check.checked) == (False, entries[5][0], 3), check
    assert "missing" in check.reason


def test_a_deleted_last_entry_is_named_by_its_sequence(trail: Any) -> None:
    editor, reopen = trail()
    editor.delete(_by_sequence(editor)[8][0])
    editor.done()
    check = reopen().verify_audit()
    assert (check.ok, check.first_broken, check.checked) == (False, "sequence 8", 7), check


@pytest.mark.parametrize("fields", [("sequence",), ("sequence", "prev_hash", "hash")])
def test_two_swapped_entries_are_named(trail: Any, fields: tuple[str, ...]) -> None:
    """Entries 5 and 6 swap places: their sequence numbers only, or their whole position in
    the chain (sequence and both hashes). Either way the entry now claiming 5 is named."""
    editor, reopen = trail()
    entries = _by_sequence(editor)
    (fifth, a), (sixth, b) = entries[5], entries[6]
    for name in fields:
        _data(a)[name], _data(b)[name] = _data(b)[name], _data(a)[name]
    editor.put(fifth, a)
    editor.put(sixth, b)
    editor.done()
    check = reopen().verify_audit()
    assert (check.ok, check.first_broken) == (False, sixth), check


def test_a_snapshot_edit_without_its_checksum_is_refused_on_opening(
    tmp_path: Path, desks: Any, new_book: Any
) -> None:
    config = {"url": f"file://{tmp_path / 'book'}", "create": True}
    desk = desks(config)
    new_book(desk).customer()
    desk.close()
    editor = SnapshotAudit(tmp_path / "book")
    rid, document = _by_sequence(editor)[2]
    _data(document)["actor"] = "usr_someone_else"
    editor.put(rid, document)
    editor.done(fix_checksum=False)
    with pytest.raises(DataError, match="snapshot"):
        desks(config)


def test_truncation_with_a_rewound_head_needs_an_exported_head_to_be_seen(trail: Any) -> None:
    """The limit of a self-contained chain: drop the last entry and point the head at the
    one before, and the trail verifies — only the head hash exported before shows it."""
    editor, reopen = trail()
    entries = _by_sequence(editor)
    exported = ChainHead(8, _data(entries[8][1])["hash"])
    editor.delete(entries[8][0])
    head = editor.documents()[HEAD]
    _data(head)["sequence"], _data(head)["hash"] = 7, _data(entries[7][1])["hash"]
    editor.put(HEAD, head)
    editor.done()
    desk = reopen()
    assert desk.verify_audit().ok
    with desk.store.unit_of_work() as uow:
        assert uow.audit.head() != exported


def test_deleting_every_entry_and_the_head_leaves_an_empty_trail_that_verifies(
    trail: Any,
) -> None:
    editor, reopen = trail()
    for rid in list(editor.documents()):
        editor.delete(rid)
    editor.done()
    check = reopen().verify_audit()
    assert (check.ok, check.checked) == (True, 0)
