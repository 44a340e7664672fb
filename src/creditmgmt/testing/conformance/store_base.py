"""What the unit-of-work contracts need of an adapter: `create_store()` and
`corrupt_document(store, kind, id, text)`, the `store` fixture, and saving any aggregate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain.events import Aggregate


class StoreHooks:
    """The hooks an adapter implements and the helper the store tests share."""

    def create_store(self) -> RecordStore:
        raise NotImplementedError

    def corrupt_document(self, store: RecordStore, kind: str, record_id: str, text: str) -> None:
        """Overwrite the stored document of a record with raw `text` (for DataError tests)."""
        raise NotImplementedError

    @pytest.fixture
    def store(self) -> Iterator[RecordStore]:
        s = self.create_store()
        try:
            yield s
        finally:
            s.close()

    def _save(self, store: RecordStore, *aggregates: Aggregate) -> None:
        with store.unit_of_work() as uow:
            for agg in aggregates:
                getattr(uow, repository_of(agg)).add(agg)
            uow.commit()


def repository_of(aggregate: Aggregate) -> str:
    """The unit of work's repository attribute (`customers`, `facilities`...) for an aggregate."""
    from creditmgmt.adapters.records.kinds import binding_for

    return REPOSITORIES[binding_for(aggregate).kind]


REPOSITORIES = {
    "customer": "customers",
    "group": "groups",
    "credit_file": "credit_files",
    "facility": "facilities",
    "drawdown": "drawdowns",
    "application": "applications",
    "risk_event": "risk_events",
    "interaction": "interactions",
    "task": "tasks",
    "classification": "classifications",
    "collateral": "collaterals",
    "guarantee": "guarantees",
}
