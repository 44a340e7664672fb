"""Pause the cyclic garbage collector around bulk work that builds no reference cycles.

Bulk loads and big commits build hundreds of thousands of small, acyclic objects (documents,
records, rows). With the collector on, every few hundred allocations start a pass, and the
periodic full passes walk an ever larger heap: the collector alone took 40 % of a 60,000-
aggregate commit and two thirds of opening a 100,000-aggregate file store. Reference counting
still frees everything as usual; any cyclic garbage made meanwhile is collected once the
collector runs again.

Used by the record layer (bulk commits, batch reads: `find`, `get_many`, each batch of a
scan) and by the daily run (each batch of customers, from its read to its commit). It sits
outside the layers so that both can: it does no I/O and holds no state but the pause.

Pauses nest and may overlap across threads: the collector is re-enabled when the last pause
ends, and only if it was enabled when the first one began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused (see the module doc)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
