"""What a daily run reports: per-batch tallies (kept in the run's audit entries, so a resumed
run adds up to the same figures) and the `DailyRunSummary` they sum to."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import attrs

from creditmgmt.domain.classification import Category
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.loan_risk import MonitoringMark
from creditmgmt.ports.slices import bucket_of


def partition_key(customer: Customer) -> str:
    """What a customer is partitioned by: its group when it has one (a group's members, and
    so every facility under the group limit, land in one partition), else itself."""
    return str(customer.group_id) if customer.group_id is not None else str(customer.id)


def partition_of(customer: Customer, partitions: int) -> int:
    """The partition (0 … partitions − 1) a customer belongs to: the stable hash bucket of its
    `partition_key` (`ports.slices.bucket_of`, as a `PortfolioSlice` partitions), the same in
    every process and on every machine."""
    return bucket_of(partition_key(customer)) % partitions


def run_subject(as_of: date, partition: tuple[int, int]) -> str:
    """The audit subject of a run's log entries, e.g. "run:2026-03-02:0/4"."""
    return f"run:{as_of.isoformat()}:{partition[0]}/{partition[1]}"


def _add(into: dict[str, Decimal], key: str, amount: Decimal) -> None:
    into[key] = into.get(key, Decimal(0)) + amount


@attrs.frozen(kw_only=True)
class CategoryTotal:
    """Loans in one category: how many, and their outstanding principal per currency."""

    count: int
    balance: Mapping[str, Decimal]


@attrs.frozen(kw_only=True)
class RunError:
    """A record the run skipped: the customer and why (nothing of it was changed)."""

    subject: str
    error: str


#: The plain counters a `Tally` and a `DailyRunSummary` share, added up field by field.
COUNTERS = (
    "facilities",
    "loans",
    "new_risk_events",
    "collections_actions",
    "reviews_due",
    "reminders",
    "changed",
)


@attrs.define
class Tally:
    """Counts of one batch, or of several added up."""

    facilities: int = 0
    loans: int = 0
    counts: dict[str, int] = attrs.field(factory=dict)
    balances: dict[str, dict[str, Decimal]] = attrs.field(factory=dict)
    provisions: dict[str, Decimal] = attrs.field(factory=dict)
    new_risk_events: int = 0
    collections_actions: int = 0
    reviews_due: int = 0
    reminders: int = 0
    changed: int = 0
    errors: list[RunError] = attrs.field(factory=list)

    def loan(self, category: Category, currency: str, balance: Decimal, provision: Decimal) -> None:
        self.loans += 1
        self.counts[category.value] = self.counts.get(category.value, 0) + 1
        _add(self.balances.setdefault(category.value, {}), currency, balance)
        _add(self.provisions, currency, provision)

    def marked(self, mark: MonitoringMark) -> None:
        """Count a customer by its mark (an incremental run that did not assess it)."""
        self.facilities += mark.facilities
        for t in mark.loans:
            self.loans += t.loans
            self.counts[t.category.value] = self.counts.get(t.category.value, 0) + t.loans
            _add(self.balances.setdefault(t.category.value, {}), t.currency, t.balance)
            _add(self.provisions, t.currency, t.provision)

    def add(self, other: Tally) -> None:
        for counter in COUNTERS:
            setattr(self, counter, getattr(self, counter) + getattr(other, counter))
        for name, count in other.counts.items():
            self.counts[name] = self.counts.get(name, 0) + count
        for name, amounts in other.balances.items():
            for currency, amount in amounts.items():
                _add(self.balances.setdefault(name, {}), currency, amount)
        for currency, amount in other.provisions.items():
            _add(self.provisions, currency, amount)
        self.errors.extend(other.errors)

    def to_json(self) -> dict[str, Any]:
        return {
            **{counter: getattr(self, counter) for counter in COUNTERS},
            "counts": self.counts,
            "balances": {k: {c: str(a) for c, a in v.items()} for k, v in self.balances.items()},
            "provisions": {c: str(a) for c, a in self.provisions.items()},
            "errors": [[e.subject, e.error] for e in self.errors],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        tally = cls(
            counts={k: int(v) for k, v in data["counts"].items()},
            balances={
                k: {c: Decimal(a) for c, a in v.items()} for k, v in data["balances"].items()
            },
            provisions={c: Decimal(a) for c, a in data["provisions"].items()},
            errors=[RunError(subject=s, error=e) for s, e in data["errors"]],
        )
        for counter in COUNTERS:
            setattr(tally, counter, int(data[counter]))
        return tally


@attrs.frozen(kw_only=True)
class DailyRunSummary:
    """The result of `run_daily` (one partition of it when the run was partitioned).

    `facilities`: live facility nodes of the customers run; `by_category`: performing loans
    per category (count, outstanding principal per currency); `provisions`: the provisioning
    block's provisions per currency; `changed`: facilities whose state moved (a loan under
    them reclassified or re-provisioned, or the facility frozen or expired); `errors`:
    records skipped.
    """

    as_of: date
    partition: tuple[int, int]
    facilities: int
    loans: int
    by_category: Mapping[Category, CategoryTotal]
    provisions: Mapping[str, Decimal]
    new_risk_events: int
    collections_actions: int
    reviews_due: int
    reminders: int
    changed: int
    ruleset_ref: str
    batches: int
    errors: tuple[RunError, ...] = ()

    @classmethod
    def of(
        cls, as_of: date, partition: tuple[int, int], tally: Tally, ruleset_ref: str, batches: int
    ) -> DailyRunSummary:
        return cls(
            **{counter: getattr(tally, counter) for counter in COUNTERS},
            as_of=as_of,
            partition=partition,
            by_category={
                c: CategoryTotal(count=tally.counts[c.value], balance=dict(tally.balances[c.value]))
                for c in Category
                if c.value in tally.counts
            },
            provisions=dict(tally.provisions),
            ruleset_ref=ruleset_ref,
            batches=batches,
            errors=tuple(tally.errors),
        )

    def merge(self, other: DailyRunSummary) -> DailyRunSummary:
        """Two partitions' summaries as one (same date and rule set)."""
        by_category: dict[Category, CategoryTotal] = dict(self.by_category)
        for c, t in other.by_category.items():
            mine = by_category.get(c)
            if mine is None:
                by_category[c] = t
                continue
            balance = dict(mine.balance)
            for currency, amount in t.balance.items():
                _add(balance, currency, amount)
            by_category[c] = CategoryTotal(count=mine.count + t.count, balance=balance)
        provisions = dict(self.provisions)
        for currency, amount in other.provisions.items():
            _add(provisions, currency, amount)
        return attrs.evolve(
            self,
            **{counter: getattr(self, counter) + getattr(other, counter) for counter in COUNTERS},
            partition=(0, 1) if self.partition[1] == other.partition[1] else self.partition,
            by_category={c: by_category[c] for c in Category if c in by_category},
            provisions=provisions,
            batches=self.batches + other.batches,
            errors=self.errors + other.errors,
        )
