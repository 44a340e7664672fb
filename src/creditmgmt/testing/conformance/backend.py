"""The record contract of `creditmgmt.adapters.records` on the synthetic kinds: round trips,
uniqueness and conflicts, isolation and rollback, finds and keyset scans, concurrent writers;
the outbox part comes from `backend_outbox`."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from creditmgmt.adapters.records.contract import (
    In,
    Partition,
    Range,
    Record,
    RecordBackend,
)
from creditmgmt.ports.errors import (
    ConflictError,
    DataError,
    IntegrityError,
)
from creditmgmt.testing.conformance.backend_outbox import RecordOutboxContract
from creditmgmt.testing.conformance.synthetic import (
    BIG,
    HOSTILE_TEXTS,
    in_threads,
    thing,
)


class RecordBackendContract(RecordOutboxContract):
    """The record contract. Subclass and implement `create_backend`."""

    def test_round_trip_keeps_every_digit_date_and_character(self, backend: RecordBackend) -> None:
        doc = {
            "texts": [*HOSTILE_TEXTS, "nul \x00 inside"],
            "big": str(BIG),
            "nested": {"a": [1, 2]},
        }
        records = [
            thing(
                f"t{i}",
                name=text,
                code=f"c{i}",
                amount=BIG if i == 0 else Decimal("-0.01"),
                doc=doc,
            )
            for i, text in enumerate(HOSTILE_TEXTS)
        ]
        self._commit(backend, *records)
        tx = backend.begin()
        for r in records:
            got = tx.get("thing", r.id)
            assert got is not None
            assert got.document == doc
            assert got.version == 1
            assert got.columns["name"] == r.columns["name"]
            assert got.columns["amount"] == r.columns["amount"]
            assert isinstance(got.columns["amount"], Decimal)
            assert got.columns["due"] == date(2026, 1, 1)
            assert got.columns["flag"] is False
        assert tx.get("thing", "missing") is None
        tx.rollback()

    def test_nul_in_a_string_column_is_refused_everywhere(self, backend: RecordBackend) -> None:
        tx = backend.begin()
        with pytest.raises(DataError, match="NUL"):
            tx.insert(thing("t1", name="a\x00b"))
        tx.rollback()

    @pytest.mark.parametrize(
        "bad",
        [{1: "a key that is not a string"}, {"n": 2**64}, {"text": "lone surrogate \ud800"}],
        ids=["int-key", "int-past-64-bits", "surrogate"],
    )
    def test_a_document_json_cannot_hold_is_refused_and_nothing_is_stored(
        self, backend: RecordBackend, bad: dict[Any, Any]
    ) -> None:
        self._commit(backend, thing("t0"))
        tx = backend.begin()
        with pytest.raises(DataError, match="thing t1: document is not JSON"):
            tx.insert(thing("t0b"))
            tx.insert(thing("t1", doc=bad))
            tx.commit()
        tx.rollback()
        tx = backend.begin()
        assert tx.count("thing") == 1
        got = tx.get("thing", "t0")
        assert got is not None and got.version == 1
        tx.rollback()

    def test_duplicate_id_is_an_integrity_error(self, backend: RecordBackend) -> None:
        self._commit(backend, thing("t1"))
        tx = backend.begin()
        with pytest.raises(IntegrityError):
            tx.insert(thing("t1"))
            tx.commit()
        tx.rollback()

    def test_unique_column_is_enforced_and_null_is_exempt(self, backend: RecordBackend) -> None:
        self._commit(backend, thing("t1", code="USCC-1"), thing("t2"), thing("t3"))
        tx = backend.begin()
        with pytest.raises(IntegrityError):
            tx.insert(thing("t4", code="USCC-1"))
            tx.commit()
        tx.rollback()
        tx = backend.begin()
        tx.update(thing("t1", version=2, code="USCC-2"))
        tx.insert(thing("t5", code="USCC-1"))  # the freed value may be taken in the same unit
        tx.commit()
        tx = backend.begin()
        assert tx.count("thing") == 4
        tx.rollback()

    def test_stale_update_conflicts_and_nothing_is_stored(self, backend: RecordBackend) -> None:
        self._commit(backend, thing("t1"), thing("t2"))
        tx = backend.begin()
        tx.update(thing("t1", version=2, name="fresh"))
        tx.commit()
        stale = backend.begin()
        with pytest.raises(ConflictError, match="t1: expected version 1"):  # the one at fault
            stale.update(thing("t2", version=2, name="would be lost"))
            stale.update(thing("t1", version=2, name="stale"))
            stale.commit()
        stale.rollback()
        check = backend.begin()
        t1, t2 = check.get("thing", "t1"), check.get("thing", "t2")
        assert t1 is not None and t1.columns["name"] == "fresh" and t1.version == 2
        assert t2 is not None and t2.columns["name"] == "n" and t2.version == 1
        check.rollback()

    def test_update_of_a_missing_record_conflicts(self, backend: RecordBackend) -> None:
        tx = backend.begin()
        with pytest.raises(ConflictError):
            tx.update(thing("ghost", version=2))
            tx.commit()
        tx.rollback()

    def test_nothing_is_visible_before_commit(self, backend: RecordBackend) -> None:
        writer = backend.begin()
        writer.insert(thing("t1"))
        reader = backend.begin()
        assert reader.get("thing", "t1") is None
        reader.rollback()
        writer.commit()
        reader = backend.begin()
        assert reader.get("thing", "t1") is not None
        reader.rollback()

    def test_find_filters_order_and_limit(self, backend: RecordBackend) -> None:
        self._commit(
            backend,
            *(
                thing(
                    f"t{i:02d}",
                    name="even" if i % 2 == 0 else "odd",
                    amount=Decimal(i) / 4,
                    due=None if i == 7 else date(2026, 1, 1) + timedelta(days=i),
                    flag=i % 3 == 0,
                    n=i,
                )
                for i in range(12)
            ),
        )
        tx = backend.begin()

        def ids(records: list[Record]) -> list[str]:
            return [r.id for r in records]

        assert ids(tx.find("thing", where={"name": "odd"})) == [
            "t01",
            "t03",
            "t05",
            "t07",
            "t09",
            "t11",
        ]
        assert ids(tx.find("thing", where={"n": In((2, 3, 99))})) == ["t02", "t03"]
        assert ids(tx.find("thing", where={"flag": True, "name": "even"})) == ["t00", "t06"]
        assert ids(tx.find("thing", where={"amount": Range(Decimal("1.5"), Decimal("2.25"))})) == [
            "t06",
            "t07",
            "t08",
        ]
        inclusive = Range(upper=date(2026, 1, 3), upper_inclusive=True)
        assert ids(tx.find("thing", where={"due": inclusive})) == ["t00", "t01", "t02"]
        assert ids(tx.find("thing", where={"due": None})) == ["t07"]
        by_due = ids(tx.find("thing", order_by="due", limit=3))
        assert by_due == ["t00", "t01", "t02"]
        assert ids(tx.find("thing", order_by="due"))[-1] == "t07"  # NULLs last
        assert tx.count("thing", where={"name": "even"}) == 6
        with pytest.raises(ValueError, match="no column"):
            tx.find("thing", where={"nope": 1})
        tx.rollback()

    def test_keyset_scan_over_partitions_returns_every_row_once(
        self, backend: RecordBackend
    ) -> None:
        total = 150
        self._commit(backend, *(thing(f"id-{i:04d}", n=i) for i in range(total)))
        seen: list[str] = []
        for part in range(4):
            after: tuple[Any, str] | None = None
            while True:
                tx = backend.begin()
                batch = tx.find(
                    "thing",
                    where={"partition": Partition(part, 4)},
                    order_by="id",
                    after=after,
                    limit=7,
                )
                tx.rollback()
                if not batch:
                    break
                seen.extend(r.id for r in batch)
                after = (batch[-1].id, batch[-1].id)
        assert sorted(seen) == [f"id-{i:04d}" for i in range(total)]
        assert len(seen) == total

    def test_keyset_pagination_by_a_column(self, backend: RecordBackend) -> None:
        amounts = [Decimal("5"), None, Decimal("1.5"), Decimal("5"), None, Decimal("-2"), BIG]
        self._commit(
            backend,
            *(thing(f"k{i:02d}", amount=a, due=None, n=i) for i, a in enumerate(amounts * 3)),  # type: ignore[arg-type]
        )

        def pages(where: dict[str, Any] | None, size: int) -> list[str]:
            seen: list[str] = []
            after: tuple[Any, str] | None = None
            while True:
                tx = backend.begin()
                batch = tx.find("thing", where=where, order_by="amount", after=after, limit=size)
                tx.rollback()
                if not batch:
                    return seen
                seen.extend(r.id for r in batch)
                after = (batch[-1].columns["amount"], batch[-1].id)

        tx = backend.begin()
        everything = [r.id for r in tx.find("thing", order_by="amount")]
        positive = Range(lower=Decimal("0"))
        ranged = [r.id for r in tx.find("thing", where={"amount": positive}, order_by="amount")]
        tx.rollback()
        assert len(everything) == 21 and len(ranged) == 12
        for size in (1, 2, 5):
            assert pages(None, size) == everything  # NULLs last, each row once
            assert pages({"amount": positive}, size) == ranged

    def test_concurrent_writers_never_lose_an_update(self, backend: RecordBackend) -> None:
        self._commit(backend, thing("counter", n=0))
        threads, increments = 8, 10

        def work(_worker: int) -> None:
            done = 0
            while done < increments:
                tx = backend.begin()
                try:
                    current = tx.get("thing", "counter")
                    assert current is not None
                    n = int(current.columns["n"]) + 1  # type: ignore[arg-type]
                    tx.update(thing("counter", version=current.version + 1, n=n))
                    tx.commit()
                    done += 1
                except ConflictError:
                    tx.rollback()

        in_threads(work, threads, timeout=120)
        tx = backend.begin()
        final = tx.get("thing", "counter")
        tx.rollback()
        assert final is not None
        assert final.columns["n"] == threads * increments
        assert final.version == threads * increments + 1
