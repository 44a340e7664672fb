"""docs/tutorial.md runs as written, in order, sharing one namespace — on the SQLite file it
names, and on PostgreSQL (the store URL swapped for a mapping to a fresh schema)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)
STORE = '"sqlite:///book.db"'
_prefixes = itertools.count()


def _run(blocks: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "tutorial"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "exceeds the headroom of facility" in out  # the refused drawdown
    assert "may not call draw" in out  # the refused principal
    assert "draw: amount must be a Money, got str '1.00 CNY'" in out  # the refused argument
    assert namespace["again"] == namespace["loan"]
    exported = namespace["exported"]
    assert "red EW_CONTROLLER_CHAIRMAN_CFO_CHANGE open" in out  # the run's warning
    # 19 calls, two daily runs of two entries each (a batch and the run's log), one refusal
    assert isinstance(exported, tuple) and exported[0] == 24
    return namespace


def test_the_tutorial_names_its_store_once() -> None:
    assert len(BLOCKS) >= 7
    assert "".join(BLOCKS).count(STORE) == 1


def test_the_tutorial_runs_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _run(BLOCKS, capsys)
    assert (tmp_path / "book.db").is_file()


@pytest.mark.postgres
def test_the_tutorial_runs_on_postgres(
    postgres_schema: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    url, schema = postgres_schema
    store = repr({"url": url, "schema": schema, "table_prefix": f"tut{next(_prefixes)}_"})
    _run([block.replace(STORE, store) for block in BLOCKS], capsys)
