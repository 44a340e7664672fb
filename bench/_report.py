"""Write one benchmark's results into its own marked section of docs/performance.md.

Each benchmark owns the text between `<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`;
re-running one benchmark replaces only its section, so sections measured in different runs are
dated separately. Ratios inside one section always come from one run.
"""

from __future__ import annotations

import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

REPORT = Path(__file__).resolve().parent.parent / "docs" / "performance.md"

_HEADER = """# Performance

Measured by `make bench` (or `python -m bench NAME`) on the project's machine class
(2 vCPU). Every target is a ratio against a baseline measured in the same run; absolute
figures are for orientation only. Targets: ../shared/design/PERFORMANCE.md (P1-P9).
"""


def machine() -> str:
    return f"CPython {platform.python_version()} on {platform.machine()}, {sys.platform}"


def write_section(name: str, title: str, body: str) -> Path:
    """Replace (or append) the section `name` in docs/performance.md and return its path."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = REPORT.read_text(encoding="utf-8") if REPORT.exists() else _HEADER
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- bench:{name}:start -->\n## {title}\n\n"
        f"_Run {stamp}, {machine()}._\n\n{body.strip()}\n<!-- bench:{name}:end -->"
    )
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)}:start -->.*?<!-- bench:{re.escape(name)}:end -->", re.S
    )
    text = (
        pattern.sub(lambda _m: section, text)
        if pattern.search(text)
        else f"{text.rstrip()}\n\n{section}\n"
    )
    REPORT.write_text(text, encoding="utf-8")
    return REPORT
