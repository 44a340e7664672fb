"""docs/security.md agrees with the code: its tables are the access policy's, and its
Python examples run."""

from __future__ import annotations

import re
from pathlib import Path

from creditmgmt.domain.credit_file import Confidentiality
from creditmgmt.services.access import (
    AUTHORITY_LEVELS,
    DEFAULT_CALLS,
    DEFAULT_CLEARANCE,
    DEFAULT_PII_READERS,
    Role,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
TEXT = DOC.read_text(encoding="utf-8")


def _rows(first_column: str) -> list[list[str]]:
    """The cells of every table row whose first cell matches `first_column` (a regex)."""
    rows = []
    for line in TEXT.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and re.fullmatch(first_column, cells[0]):
            rows.append(cells)
    return rows


def _table(first_header_cell: str) -> list[list[str]]:
    """The header and body rows of the one markdown table whose header starts with
    `first_header_cell`: the lines after it that start with "|", up to the first that does not
    (a table broken by a paragraph ends there, as it does when rendered)."""
    lines = TEXT.splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("|") and line.strip("| ").split("|")[0].strip() == first_header_cell
    )
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    assert len(rows) > 2 and set(rows[1][0]) <= set(":-"), "a header, its rule and rows"
    return [rows[0], *rows[2:]]


def test_the_policy_table_is_the_default_policy() -> None:
    header, *body = _table("call")
    roles = [Role(c.strip("`")) for c in header[1:]]
    assert set(roles) == set(Role)
    assert all(len(row) == len(header) for row in body), "every row has a cell per role"
    table = {
        row[0].strip("`"): frozenset(r for r, cell in zip(roles, row[1:], strict=True) if cell)
        for row in body
    }
    assert list(table) == list(DEFAULT_CALLS), "the table lists every call, in the same order"
    for call, allowed in DEFAULT_CALLS.items():
        assert table[call] == allowed, call
    for row in body:
        assert all(cell in ("", "✓") for cell in row[1:]), row


def test_the_clearance_table_is_the_default_clearance() -> None:
    clearance = {
        Role(row[0].strip("`")): Confidentiality[row[1].upper()]
        for row in _rows(r"`[a-z_]+`")
        if len(row) == 2 and row[1].upper() in Confidentiality.__members__
    }
    assert clearance == dict(DEFAULT_CLEARANCE)


def test_roles_levels_and_pii_readers_are_named() -> None:
    described = {row[0].strip("`") for row in _rows(r"`[a-z_]+`") if len(row) == 2}
    assert {r.value for r in Role} <= described
    levels = re.search(r"lowest first: (.*?)\s+\(`AUTHORITY_LEVELS`\)", TEXT, re.S)
    assert levels is not None
    assert re.findall(r"`(\w+)`", levels.group(1)) == list(AUTHORITY_LEVELS)
    readers = re.search(r"`DEFAULT_PII_READERS` see them unmasked: (.*?);", TEXT, re.S)
    assert readers is not None
    assert {Role(r) for r in re.findall(r"`(\w+)`", readers.group(1))} == DEFAULT_PII_READERS
    order = re.search(r"ordered\s+(.*?); an entry", TEXT, re.S)
    assert order is not None
    assert re.findall(r"`(\w+)`", order.group(1)) == [c.name.lower() for c in Confidentiality]


def test_the_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", TEXT, re.S)
    assert len(blocks) >= 3
    namespace: dict[str, object] = {"__name__": "security_doc"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert callable(namespace["still_there"])
