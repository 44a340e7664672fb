"""What the daily run concluded about a loan, kept on the loan between runs (pure).

The NPL upgrade rule and the restructuring observation period need state across days: when
the arrears of a non-performing loan were first seen repaid (the upgrade clock), and when the
observation period of a restructured loan started (restarted by a missed payment). The run
keeps them, with the loan's last category, stage, ECL and provision, in a `LoanRisk` on the
`Drawdown`; the run compares its new conclusion with this one and writes only what moved.
The state is bounded (no history is replayed), so a loan with 1,000 movements costs the same.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from creditmgmt.domain.classification import Category, Stage
from creditmgmt.domain.money import Money
from creditmgmt.domain.schedule import RepaymentSchedule


@attrs.frozen(kw_only=True)
class LoanRisk:
    """The daily run's last conclusion about one loan.

    `own_category` is the loan's category from its own facts (held while an NPL may not be
    upgraded yet); `category` adds borrower contagion. `cure_start`: the business date the
    arrears of a loan held as NPL were first seen repaid (None: not cured, or not NPL).
    `observation_start`: start of a restructured loan's observation period (None: not
    restructured, or not started yet). `decided_on`: the run date that last changed it.
    """

    decided_on: date
    own_category: Category
    category: Category
    stage: Stage
    ecl: Money
    provision: Money
    cure_start: date | None = None
    observation_start: date | None = None

    def same_as(self, other: LoanRisk | None) -> bool:
        """Equal in everything but the date it was decided on."""
        return other is not None and attrs.evolve(other, decided_on=self.decided_on) == self


def months_between(start: date, end: date) -> int:
    """Whole calendar months from `start` to `end` (0 when `end` is not after `start`)."""
    if end <= start:
        return 0
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


def periods_due_between(schedule: RepaymentSchedule, start: date, end: date) -> int:
    """Instalments due on or after `start` and before `end` (repayment periods elapsed)."""
    return sum(1 for i in schedule.installments if start <= i.due_date < end)


def first_due_after(schedule: RepaymentSchedule, on: date) -> date | None:
    """The first instalment due date after `on` (the start of an observation period)."""
    return next((i.due_date for i in schedule.installments if i.due_date > on), None)


@attrs.frozen(kw_only=True)
class LoanTally:
    """A customer's performing loans of one category and currency, as the run counted them."""

    category: Category
    currency: str
    loans: int
    balance: Decimal
    provision: Decimal


@attrs.frozen(kw_only=True)
class MonthEndUtilisation:
    """A customer's utilisation (drawn ÷ limit of its live customer-level facilities) as the
    first run on or after a month-end read it; None: no limit."""

    month_end: date
    utilisation: Decimal | None


@attrs.frozen(kw_only=True)
class MonitoringMark:
    """What the daily run last concluded about a customer as a whole, kept on the `Customer`.

    `next_check`: the first business date on which a run could conclude anything else about
    the customer when none of its records moves (an instalment falling due or overdue, a
    reminder, a facility maturing, a credit-file entry going stale; None: nothing ahead);
    `basis`: the rule set and run settings it was decided under; `facilities` and `loans`:
    what the customer adds to a run's summary; `month_ends`: the utilisation at the last
    three month-ends, newest first (the early-warning input); `fired`: the early-warning
    triggers that fired, sorted (a resolved event covers its trigger while it keeps firing).
    An incremental run skips a customer whose mark is still good and whose records did not
    move.
    """

    next_check: date | None
    basis: str
    facilities: int
    loans: tuple[LoanTally, ...] = ()
    month_ends: tuple[MonthEndUtilisation, ...] = ()
    fired: tuple[str, ...] = ()
