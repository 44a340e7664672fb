"""The in-memory store: the reference semantics of every adapter (see `memory.backend`)."""

from creditmgmt.adapters.memory.backend import MemoryBackend, memory_store

__all__ = ["MemoryBackend", "memory_store"]
