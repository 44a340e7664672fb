"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_has_an_embedding_example() -> None:
    assert BLOCKS
    assert len(BLOCKS[0].strip().splitlines()) <= 20  # the issue promises a 20-line example


def test_readme_example_uses_the_desk() -> None:
    assert "open_desk(" in BLOCKS[0] and "verify_audit()" in BLOCKS[0]


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(
    source: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the example's sqlite:///book.db lands here
    exec(compile(source, str(README), "exec"), {"__name__": "readme_example"})
    assert "exceeds the headroom" in capsys.readouterr().out
    assert (tmp_path / "book.db").is_file()
