"""What the record-backend contracts need of an adapter: `create_backend(kinds)`, optionally
`reopen_backend(backend, kinds)`, and the `backend` fixture built on them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from creditmgmt.adapters.records.contract import (
    KindSpec,
    OutboxEntry,
    Record,
    RecordBackend,
)
from creditmgmt.testing.conformance.synthetic import (
    AT,
    TEST_KINDS,
)


class BackendHooks:
    """The hooks an adapter implements and the helpers the record tests share."""

    def create_backend(self, kinds: Mapping[str, KindSpec]) -> RecordBackend:
        raise NotImplementedError

    @pytest.fixture
    def backend(self) -> Iterator[RecordBackend]:
        b = self.create_backend(TEST_KINDS)
        try:
            yield b
        finally:
            b.close()

    def reopen_backend(
        self, backend: RecordBackend, kinds: Mapping[str, KindSpec]
    ) -> RecordBackend | None:
        """Close `backend` and open the same store again; None (the default) for a store
        that does not outlive its process."""
        return None

    def _commit(self, backend: RecordBackend, *records: Record) -> None:
        tx = backend.begin()
        for r in records:
            tx.insert(r)
        tx.commit()

    def _events(self, backend: RecordBackend, *labels: str) -> list[int]:
        """Commit one unit per label, each with one outbox entry; return their sequences."""
        for label in labels:
            tx = backend.begin()
            tx.append_outbox([OutboxEntry("thing", label, "Made", {"label": label}, AT)])
            tx.commit()
        entries = backend.read_outbox(after=0, limit=100_000)
        by_label = {e.document["label"]: e.sequence for e in entries}
        return [by_label[label] for label in labels]

    def _labels(self, backend: RecordBackend) -> list[tuple[int, str]]:
        return [(e.sequence, e.document["label"]) for e in backend.read_outbox(limit=100_000)]
