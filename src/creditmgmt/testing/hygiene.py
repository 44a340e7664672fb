"""Store contracts for safe failure (mixed into `UnitOfWorkContract`).

- No stored value leaks through an error: a duplicate registration id is `IntegrityError`
  naming the unique column, the value masked to its last four characters — also in the
  chained exceptions a logged traceback would print (no driver text, no SQL parameters).
- A closed store refuses: a unit begun before `close()` cannot commit, and no new unit can
  read or commit (`StoreUnavailableError`), on every store alike.
- A change made after `commit()` to an aggregate the unit committed or loaded is never dropped
  silently: the next `commit()` of the unit, or leaving the block normally, raises
  `ChangedAfterCommitError` naming the kind and id; what was committed stays as committed.
"""

from __future__ import annotations

import traceback
from datetime import date

import pytest

from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain.customer import Segment
from creditmgmt.domain.events import Aggregate
from creditmgmt.ports.errors import (
    ChangedAfterCommitError,
    IntegrityError,
    StoreUnavailableError,
)
from creditmgmt.testing.builders import SequentialIds, a_customer, make_uscc

DAY = date(2026, 3, 2)


class HygieneContract:
    """Safe failure. Needs the `store` fixture and `_save` of `UnitOfWorkContract`."""

    def _save(self, store: RecordStore, *aggregates: Aggregate) -> None:  # pragma: no cover
        raise NotImplementedError  # provided by UnitOfWorkContract

    # PII ------------------------------------------------------------------------------------
    def test_a_duplicate_registration_id_is_named_by_column_never_by_value(
        self, store: RecordStore
    ) -> None:
        ids = SequentialIds()
        registration_id = make_uscc(41)
        self._save(store, a_customer(ids, registration_id=registration_id))
        twin = a_customer(ids, registration_id=registration_id)
        with pytest.raises(IntegrityError) as caught, store.unit_of_work() as uow:
            uow.customers.add(twin)
            uow.commit()
        message = str(caught.value)
        assert "registration_id" in message, message
        assert registration_id not in message, message
        logged = "".join(traceback.format_exception(caught.value))  # with chained causes
        assert registration_id not in logged, logged

    # close ----------------------------------------------------------------------------------
    def test_a_closed_store_refuses_to_commit_or_read(self, store: RecordStore) -> None:
        ids = SequentialIds()
        kept = a_customer(ids, registration_id=make_uscc(42))
        self._save(store, kept)
        late = a_customer(ids, registration_id=make_uscc(43))
        with store.unit_of_work() as uow:
            assert uow.customers.exists(kept.id)  # a unit with an open read transaction
            uow.customers.add(late)
            store.close()
            with pytest.raises(StoreUnavailableError):
                uow.commit()
        with pytest.raises(StoreUnavailableError), store.unit_of_work() as uow:
            uow.customers.add(a_customer(ids, registration_id=make_uscc(44)))
            uow.commit()
        with pytest.raises(StoreUnavailableError), store.unit_of_work() as uow:
            uow.customers.count()

    # after commit ---------------------------------------------------------------------------
    def test_a_change_after_commit_raises_at_the_end_of_the_block(self, store: RecordStore) -> None:
        customer = a_customer(SequentialIds(), registration_id=make_uscc(45))
        with (
            pytest.raises(ChangedAfterCommitError, match=f"customer {customer.id}"),
            store.unit_of_work() as uow,
        ):
            uow.customers.add(customer)
            uow.commit()
            customer.verify_identity(on=DAY)  # records no event: found by its document
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id).identity_verified_on is None

    def test_a_change_after_commit_fails_the_next_commit_and_stores_nothing(
        self, store: RecordStore
    ) -> None:
        ids = SequentialIds()
        first = a_customer(ids, registration_id=make_uscc(46))
        other = a_customer(ids, registration_id=make_uscc(47))
        self._save(store, first)
        with store.unit_of_work() as uow:
            loaded = uow.customers.get(first.id)  # loaded, not changed, by the first commit
            uow.commit()
            loaded.change_segment(Segment.VIP)
            uow.customers.add(other)
            with pytest.raises(ChangedAfterCommitError, match=f"customer {first.id}"):
                uow.commit()
            uow.rollback()  # an explicit rollback discards the change, as any other
        with store.unit_of_work() as uow:
            assert uow.customers.get(first.id).segment is Segment.GENERAL
            assert not uow.customers.exists(other.id)
        assert len(store.events()) == 1  # the first customer's onboarding only

    def test_work_after_commit_on_reloaded_aggregates_is_stored(self, store: RecordStore) -> None:
        customer = a_customer(SequentialIds(), registration_id=make_uscc(48))
        with store.unit_of_work() as uow:
            uow.customers.add(customer)
            uow.commit()
            again = uow.customers.get(customer.id)  # loaded again after the commit
            again.change_segment(Segment.VIP)
            uow.commit()
            uow.customers.get(customer.id).verify_identity(on=DAY)
            uow.commit()
        with store.unit_of_work() as uow:
            stored = uow.customers.get(customer.id)
            assert stored.segment is Segment.VIP
            assert stored.identity_verified_on == DAY

    def test_an_exception_in_the_block_is_not_hidden_by_a_change_after_commit(
        self, store: RecordStore
    ) -> None:
        customer = a_customer(SequentialIds(), registration_id=make_uscc(49))
        with pytest.raises(RuntimeError, match="boom"), store.unit_of_work() as uow:
            uow.customers.add(customer)
            uow.commit()
            customer.change_segment(Segment.VIP)
            raise RuntimeError("boom")
