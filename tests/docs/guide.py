"""Running a guide in docs/ as written: its fenced blocks, its ```console commands through
CliRunner, and its ```python blocks in order in one namespace with the commands between them
(the conventions test_docs_policies.py and test_docs_testing.py share)."""

from __future__ import annotations

import linecache
import re
import shlex
from pathlib import Path
from types import CodeType

from click.testing import CliRunner

from creditmgmt.cli import main

FENCE = re.compile(r'```(\w+)(?: title="([^"]+)")?\n(.*?)```', re.S)


def blocks(text: str) -> list[tuple[str, str, str]]:
    """(language, title or "", body) of every fenced block, in order."""
    return [(lang, name, body) for lang, name, body in FENCE.findall(text)]


def collapse(text: str) -> str:
    return " ".join(text.split())


def run_console(block: str, *, others: bool) -> bool:
    """Run a `$ creditmgmt ...` block: the exit code it states (`# exits N`, else 0) and every
    line it shows (a `...` line stands for lines left out). Another command (`pip install`)
    is skipped (False) when `others` allows it, else it fails."""
    command, *shown = block.strip("\n").splitlines()
    if not command.startswith("$ creditmgmt "):
        assert others, command
        return False
    exits = re.search(r"# exits (\d)", command)
    result = CliRunner().invoke(main, shlex.split(command[2:], comments=True)[1:])
    assert result.exit_code == (int(exits.group(1)) if exits else 0), (command, result.output)
    output = collapse(result.output)
    for line in shown:
        if line.strip() and line.strip() != "...":
            assert collapse(line) in output, f"{line!r} not in the output of {command!r}"
    return True


def compile_block(body: str, filename: str) -> CodeType:
    """Compile a block under its own file name, registered in `linecache` with the block's
    text: tracebacks show the block's lines, and `inspect.getsource` of a function it
    defines (Hypothesis reads it) gets Python, not the Markdown around the block (Python
    3.12's tokenizer fails on that prose)."""
    linecache.cache[filename] = (len(body), None, body.splitlines(keepends=True), filename)
    return compile(body, filename, "exec")


def run_in_order(
    fenced: list[tuple[str, str, str]], doc: Path, name: str, *, others: bool = False
) -> tuple[dict[str, object], int, int]:
    """Python blocks share one namespace (`__name__` is `name`); commands run between them, as
    a reader would. The namespace, the Python blocks run and the commands run."""
    namespace: dict[str, object] = {"__name__": name}
    python = commands = 0
    for lang, _name, body in fenced:
        if lang == "python":
            python += 1
            exec(compile_block(body, f"{doc} (python block {python})"), namespace)
        elif lang == "console":
            commands += run_console(body, others=others)
    return namespace, python, commands
