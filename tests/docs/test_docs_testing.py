"""docs/testing.md runs as written, with the conventions of test_docs_policies.py.

```yaml blocks are saved under their `title`; the ```python blocks run in order in one
namespace, and every `test_...` function they define is then called (the Hypothesis ones
run under the active profile); each ```console `$ creditmgmt ...` command runs through
CliRunner and must show every line the guide shows, with the exit code it states
(`# exits N`, else 0).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

from creditmgmt.cli import main

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
TEXT = DOC.read_text(encoding="utf-8")
FENCE = re.compile(r'```(\w+)(?: title="([^"]+)")?\n(.*?)```', re.S)
BLOCKS = FENCE.findall(TEXT)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _run_console(block: str) -> bool:
    command, *shown = block.strip("\n").splitlines()
    if not command.startswith("$ creditmgmt "):
        return False  # `pip install ...`: not ours to run
    exits = re.search(r"# exits (\d)", command)
    result = CliRunner().invoke(main, shlex.split(command[2:], comments=True)[1:])
    assert result.exit_code == (int(exits.group(1)) if exits else 0), (command, result.output)
    output = _collapse(result.output)
    for line in shown:
        assert _collapse(line) in output, f"{line!r} not in the output of {command!r}"
    return True


def test_the_guide_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for lang, name, body in BLOCKS:
        if lang == "yaml":
            (tmp_path / name).write_text(body, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "testing_guide"}
    commands = 0
    for lang, _name, body in BLOCKS:
        if lang == "python":
            exec(compile(body, str(DOC), "exec"), namespace)
        elif lang == "console":
            commands += _run_console(body)
    tests = {k: v for k, v in namespace.items() if k.startswith("test_") and callable(v)}
    assert len(tests) >= 12 and commands >= 3
    for name, test in tests.items():
        run: Callable[[], None] = test  # type: ignore[assignment]
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
