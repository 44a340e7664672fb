"""docs/testing.md runs as written, with the conventions of test_docs_policies.py.

```yaml blocks are saved under their `title`; the ```python blocks run in order in one
namespace, and every `test_...` function they define is then called (the Hypothesis ones
run under the active profile); each ```console `$ creditmgmt ...` command runs through
CliRunner and must show every line the guide shows, with the exit code it states
(`# exits N`, else 0).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from tests.docs.guide import blocks, run_in_order

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = blocks(TEXT)


def test_the_guide_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for lang, name, body in BLOCKS:
        if lang == "yaml":
            (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace, _python, commands = run_in_order(BLOCKS, DOC, "testing_guide", others=True)
    tests = {k: v for k, v in namespace.items() if k.startswith("test_") and callable(v)}
    assert len(tests) >= 12 and commands >= 3
    for name, test in tests.items():
        run: Callable[[], None] = test
        try:
            run()
        except Exception as e:
            raise AssertionError(f"docs/testing.md: {name} failed") from e


def test_the_profile_table_states_the_registered_numbers() -> None:
    rows = re.findall(r"^\| `(\w+)` \| (\d+) \| none \| (yes|no) \|", TEXT, re.M)
    assert {name for name, _n, _b in rows} == {"dev", "ci", "soak"}
    for name, examples, blob in rows:
        profile = settings.get_profile(name)
        assert profile.max_examples == int(examples), name
        assert profile.deadline is None
        assert profile.print_blob is (blob == "yes"), name
