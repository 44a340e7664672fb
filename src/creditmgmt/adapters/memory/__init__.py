"""The in-memory store: the reference semantics of every adapter (see `memory.backend`)."""

from creditmgmt.adapters.memory.backend import MemoryBackend, open_backend

__all__ = ["MemoryBackend", "open_backend"]
