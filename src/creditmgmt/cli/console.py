"""The console every `creditmgmt` command prints to."""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 160
"""Columns of output written to a pipe or a file, where there is no terminal to measure: wide
enough for the portfolio reports' tables, which rich would otherwise cut to 80 columns."""


def console(stderr: bool = False) -> Console:
    """A console the width of the terminal, or `PIPED_WIDTH` columns when not on one."""
    probe = Console(stderr=stderr)
    width = probe.width if probe.is_terminal else PIPED_WIDTH
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False)
