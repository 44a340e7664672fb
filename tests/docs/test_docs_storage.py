"""docs/storage.md: the Python examples run in order, sharing one namespace."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "storage.md"


def test_storage_guide_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    namespace: dict[str, object] = {"__name__": "storage_doc"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    assert "TestMyBackend" in namespace
    assert "handed_on" in namespace  # the outbox pruning example ran
