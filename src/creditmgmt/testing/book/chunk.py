"""What `generate` yields (`BookChunk`) and what `load` counts (`BookStats`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Final

import attrs

from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import DrawdownId
from creditmgmt.domain.interaction import Interaction
from creditmgmt.domain.loan import Drawdown, LoanStatus
from creditmgmt.domain.money import Money
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.ports.unit_of_work import UnitOfWork

#: Days-past-due buckets `BookStats` counts loans in: (name, lowest dpd, highest dpd).
DPD_BUCKETS: Final = (
    ("0", 0, 0),
    ("1-30", 1, 30),
    ("31-90", 31, 90),
    ("91-360", 91, 360),
    (">360", 361, None),
)


def dpd_bucket(dpd: int) -> str:
    """The name of the `DPD_BUCKETS` bucket `dpd` falls in."""
    for name, low, high in DPD_BUCKETS:
        if dpd >= low and (high is None or dpd <= high):
            return name
    raise ValueError(f"dpd {dpd} is negative")  # pragma: no cover - dpd is never negative


@attrs.frozen(kw_only=True)
class BookChunk:
    """Store-ready aggregates of whole groups and standalone customers, generated together.

    Every customer's credit file, facilities, loans, classifications, risk events and
    interactions are in the chunk of the customer, and a group's members are in the chunk of
    the group, so one unit of work can commit a chunk and group limits stay whole.
    `restructured` names the loans that refinance a loan in arrears (借新还旧): the
    restructuring decision is also recorded as a `ClassificationEntry` on the new loan.
    """

    index: int
    customers: tuple[Customer, ...]
    groups: tuple[CustomerGroup, ...]
    credit_files: tuple[CreditFile, ...]
    facilities: tuple[Facility, ...]
    drawdowns: tuple[Drawdown, ...]
    classifications: tuple[ClassificationEntry, ...]
    risk_events: tuple[RiskEvent, ...]
    interactions: tuple[Interaction, ...]
    restructured: tuple[DrawdownId, ...]

    def aggregates(self) -> Iterator[Aggregate]:
        """Every aggregate of the chunk, kind by kind."""
        for kind in AGGREGATE_KINDS:
            yield from getattr(self, kind)

    def add_to(self, uow: UnitOfWork) -> None:
        """Add every aggregate of the chunk to its repository of `uow` (not committed).

        Raises:
            IntegrityError: an aggregate is already in the unit of work (at commit: already
                stored).
        """
        for kind in AGGREGATE_KINDS:
            repository = getattr(uow, kind)
            for aggregate in getattr(self, kind):
                repository.add(aggregate)


#: The fields of `BookChunk` that hold aggregates, in the order they are added; each is also
#: the name of the unit of work's repository for them.
AGGREGATE_KINDS: Final = (
    "customers",
    "groups",
    "credit_files",
    "facilities",
    "drawdowns",
    "classifications",
    "risk_events",
    "interactions",
)


@attrs.define(kw_only=True)
class BookStats:
    """Counts of a generated or loaded book.

    `drawn` is the total drawn on root facilities (group limits and customers' master limits
    outside groups) by currency, which is also the outstanding principal of all loans;
    `loans_by_dpd` counts loans not settled by `DPD_BUCKETS` name as of the book's date.
    """

    as_of: date
    chunks: int = 0
    customers: int = 0
    remote_customers: int = 0
    groups: int = 0
    facilities: int = 0
    loans: int = 0
    settled_loans: int = 0
    restructured_loans: int = 0
    credit_files: int = 0
    risk_events: int = 0
    interactions: int = 0
    drawn: dict[str, Money] = attrs.field(factory=dict)
    loans_by_dpd: dict[str, int] = attrs.field(factory=lambda: {b[0]: 0 for b in DPD_BUCKETS})

    def add(self, chunk: BookChunk) -> None:
        """Count one chunk in."""
        self.chunks += 1
        self.customers += len(chunk.customers)
        self.remote_customers += sum(1 for c in chunk.customers if c.is_remote)
        self.groups += len(chunk.groups)
        self.facilities += len(chunk.facilities)
        self.loans += len(chunk.drawdowns)
        self.restructured_loans += len(chunk.restructured)
        self.credit_files += len(chunk.credit_files)
        self.risk_events += len(chunk.risk_events)
        self.interactions += len(chunk.interactions)
        for node in chunk.facilities:
            if node.parent_id is None:
                ccy = node.currency
                self.drawn[ccy] = self.drawn.get(ccy, Money.zero(ccy)) + node.drawn
        for loan in chunk.drawdowns:
            if loan.status is LoanStatus.SETTLED:
                self.settled_loans += 1
            else:
                self.loans_by_dpd[dpd_bucket(loan.dpd(self.as_of))] += 1

    @property
    def loans_in_arrears(self) -> int:
        """Loans with at least one day past due."""
        return sum(n for name, n in self.loans_by_dpd.items() if name != "0")
