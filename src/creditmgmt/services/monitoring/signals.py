"""What the daily run reads about a customer beyond its loans: the inputs of the
`early_warning` block, and when its periodic review falls due.

Periodic review (定期审查): `review_frequency(grade)` months after the customer's rating
(`Customer.rating`, kept when an application is approved); the run raises one review task
per rating and due date.

| input | from |
| --- | --- |
| `dpd` | the customer's worst loan |
| `overdue_at_other_bank`, `external_rating` | the latest bureau report of the credit file |
| `utilisation_me1..3` | drawn ÷ limit of the customer's live customer-level facilities at the last three month-ends, kept on the customer's `MonitoringMark` (the first run on or after a month-end records it as it reads the facilities); fed only when the three are consecutive month-ends |
| `rating_notches_down_12m` | the customer's current grade against the best grade it held in the year before the run date (`Customer.rating`), counted on the `master_scale` block's order |
| `revenue_change_yoy` | the two latest financial statements of the credit file, when they are 12 months apart |
| `net_assets` | equity of the latest financial statement |
| `litigation_amount` | claims of the live litigation entries where the customer is the defendant and the case is not closed (in the statement's currency); fed when above zero |
| `covenant_breach` | the live covenants of the credit file against its latest financial statement: true when the statement breaks any of them (a ratio it cannot give is no breach); fed only when the file holds both a covenant and a statement |
| `key_person_changed` | true when the credit file reports a change of controller, chairman or CFO (`CreditFile.key_person_changes`) dated in the year up to the run date (`key_person_news_since`); not fed otherwise |

Three inputs report news that stays true for a while after the fact: `key_person_changed`
for a year, `rating_notches_down_12m` while the lower grade is within the year, and
`covenant_breach` until a statement cures it. `warning_news` dates the fact behind each
(`NEWS_INPUTS`): a risk event of a trigger that reads such an input, resolved after it was
raised on or after that date, has covered the fact, so the run raises no second event for
it; a later fact (another change of key persons, a further downgrade, a new statement or
covenant that is broken) is news again.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from creditmgmt.domain.credit_file import CreditFile, LitigationRole
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.facility import Facility, FacilityLevel, FacilityStatus
from creditmgmt.domain.loan_risk import MonitoringMark, MonthEndUtilisation, months_between
from creditmgmt.policies.ruleset import Decision


def review_due(
    evaluate: Callable[[Mapping[str, Any]], Decision] | None, customer: Customer
) -> date | None:
    """When the customer's next periodic review falls due, by the `review_frequency` block's
    `evaluate` (None: never rated, or no such block).

    Raises:
        PolicyInputError: a grade the block does not know.
    """
    if evaluate is None or customer.rating is None:
        return None
    months = int(evaluate({"grade": customer.rating.grade}).outputs["months"])
    return customer.rating.review_due(months)


_LIVE = (FacilityStatus.ACTIVE, FacilityStatus.FROZEN, FacilityStatus.SUSPENDED)
#: litigation statuses (as court registries report them) of a case that no longer threatens
_ENDED = frozenset({"closed", "withdrawn", "dismissed", "settled"})
_RATIO = Decimal("0.0001")


def month_end_on_or_before(day: date) -> date:
    """The last month-end on or before `day` (`day` itself on a month's last day)."""
    if (day + timedelta(days=1)).month != day.month:
        return day
    return day.replace(day=1) - timedelta(days=1)


def next_month_end(day: date) -> date:
    """The first month-end after `day`."""
    first_of_next = (day.replace(day=1) + relativedelta(months=1)).replace(day=1)
    if (day + timedelta(days=1)).month != day.month:  # `day` is a month-end
        first_of_next += relativedelta(months=1)
    return first_of_next - timedelta(days=1)


def rating_window_moves(customer: Customer, as_of: date) -> date | None:
    """The first date after `as_of` on which a grade the customer held leaves the year that
    `rating_notches_down_12m` looks back over (None: no earlier grade is still in it)."""
    rating = customer.rating
    if rating is None:
        return None
    year = relativedelta(years=1)
    moves: list[date] = []
    until = rating.rated_on  # each earlier grade was held until the next rating
    for past in rating.earlier:
        # `grades_since(day - 1 year)` drops the grade once `day - 1 year >= until`
        leaves = until + year
        if leaves - year < until:  # held until 29 February: gone a day later
            leaves += timedelta(days=1)
        if leaves > as_of:
            moves.append(leaves)
        until = past.on
    return min(moves) if moves else None


def key_person_news_since(as_of: date) -> date:
    """The first day of the year `key_person_changed` looks back over from `as_of`: a change
    dated from it to `as_of` is news (one dated a year before `as_of` no longer is, as a
    grade leaves the rating-move year)."""
    return as_of - relativedelta(years=1) + timedelta(days=1)


def key_person_news_starts(file: CreditFile | None, as_of: date) -> date | None:
    """The first date after `as_of` on which a key-person change dated later (reported ahead
    of its date) becomes news (None: no such change)."""
    if file is None:
        return None
    ahead = file.key_person_changes(since=as_of + timedelta(days=1))
    return ahead[0].on if ahead else None


def latest_key_person_news(file: CreditFile | None, as_of: date) -> date | None:
    """The date of the latest key-person change that is news on `as_of` (dated in the year up
    to it; None: none is)."""
    if file is None:
        return None
    changes = file.key_person_changes(since=key_person_news_since(as_of))
    return max((c.on for c in changes if c.on <= as_of), default=None)


def key_person_news_ends(file: CreditFile | None, as_of: date) -> date | None:
    """The first date after `as_of` on which no key-person change that is news on `as_of`
    still is (None: none is news on `as_of`)."""
    latest = latest_key_person_news(file, as_of)
    if latest is None:
        return None
    ends = latest + relativedelta(years=1)
    while key_person_news_since(ends) <= latest:  # a change on 29 February
        ends += timedelta(days=1)
    return ends


#: The `early_warning` inputs that report news (see the module doc).
NEWS_INPUTS = frozenset({"key_person_changed", "rating_notches_down_12m", "covenant_breach"})


def warning_news(
    customer: Customer, file: CreditFile | None, grades: tuple[str, ...], as_of: date
) -> dict[str, date]:
    """The date of the fact behind each news input the run feeds true for the customer on
    `as_of`: the latest key-person change in the news year up to `as_of`; the rating that
    last lowered the grade (a re-rating at the same or a better grade is no news); the later
    of the as-of dates of the latest financial statement and of the newest covenant it
    breaks. An input with no such fact is left out."""
    news: dict[str, date] = {}
    rating = customer.rating
    if rating is not None:
        chain = [(rating.grade, rating.rated_on), *((g.grade, g.on) for g in rating.earlier)]
        for (grade, on), (older, _) in itertools.pairwise(chain):
            if grade in grades and older in grades and grades.index(grade) > grades.index(older):
                news["rating_notches_down_12m"] = on
                break
    if file is None:
        return news
    changed = latest_key_person_news(file, as_of)
    if changed is not None:
        news["key_person_changed"] = changed
    breach = file.covenant_breach_dated()
    if breach is not None:
        news["covenant_breach"] = breach
    return news


def utilisation(facilities: Sequence[Facility]) -> Decimal | None:
    """Drawn ÷ limit of the customer's live customer-level facilities (those in the first
    one's currency), to 4 places; None when they have no limit."""
    tops = [f for f in facilities if f.level is FacilityLevel.CUSTOMER and f.status in _LIVE]
    if not tops:
        return None
    currency = tops[0].limit.currency
    limit = sum((f.limit.amount for f in tops if f.limit.currency == currency), Decimal(0))
    drawn = sum((f.drawn.amount for f in tops if f.limit.currency == currency), Decimal(0))
    return (drawn / limit).quantize(_RATIO) if limit else None


def month_ends(
    previous: MonitoringMark | None, facilities: Sequence[Facility], as_of: date
) -> tuple[MonthEndUtilisation, ...]:
    """The last three month-end utilisations, newest first: the kept ones, and the latest
    month-end's read now when none is kept for it."""
    kept = previous.month_ends if previous is not None else ()
    latest = month_end_on_or_before(as_of)
    if kept and kept[0].month_end >= latest:
        return kept
    return (MonthEndUtilisation(month_end=latest, utilisation=utilisation(facilities)), *kept[:2])


def warning_inputs(
    customer: Customer,
    file: CreditFile | None,
    worst_dpd: int,
    utilisations: tuple[MonthEndUtilisation, ...],
    grades: tuple[str, ...],
    as_of: date,
) -> dict[str, Any]:
    """The `early_warning` inputs the book holds for the customer (see the module doc);
    `grades`: the master scale's grades, best first (empty: no rating move is fed)."""
    inputs: dict[str, Any] = {"dpd": worst_dpd}
    report = file.latest_bureau_report() if file is not None else None
    if report is not None:
        inputs["overdue_at_other_bank"] = report.overdue_at_other_banks
        if report.external_rating:
            inputs["external_rating"] = report.external_rating
    figures = [u.utilisation for u in utilisations]
    consecutive = all(
        month_end_on_or_before(a.month_end.replace(day=1)) == b.month_end
        for a, b in itertools.pairwise(utilisations)
    )
    if len(figures) == 3 and consecutive and None not in figures:
        for n, value in enumerate(figures, start=1):
            inputs[f"utilisation_me{n}"] = value
    rating = customer.rating
    if rating is not None and rating.grade in grades:
        held = rating.grades_since(as_of - relativedelta(years=1))
        best = min(grades.index(g) for g in held if g in grades)
        inputs["rating_notches_down_12m"] = max(grades.index(rating.grade) - best, 0)
    if file is not None:
        inputs.update(_file_inputs(file, as_of))
    return inputs


def _file_inputs(file: CreditFile, as_of: date) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if latest_key_person_news(file, as_of) is not None:
        found["key_person_changed"] = True
    statements = file.statements()
    currency = None
    if statements:
        last = statements[-1]
        currency = last.currency
        found["net_assets"] = last.equity.amount
        if len(statements) > 1:
            previous = statements[-2]
            if months_between(previous.period_end, last.period_end) == 12:
                growth = last.revenue_growth(previous)
                if growth is not None:
                    found["revenue_change_yoy"] = growth
    breaches = file.covenant_breaches()
    if breaches is not None:
        found["covenant_breach"] = bool(breaches)
    cases = [
        e.litigation
        for e in file.live_entries()
        if e.litigation is not None
        and e.litigation.role is LitigationRole.DEFENDANT
        and e.litigation.status.strip().lower() not in _ENDED
    ]
    if cases:
        currency = currency or cases[0].claim.currency
        amount = sum((c.claim.amount for c in cases if c.claim.currency == currency), Decimal(0))
        if amount > 0:
            found["litigation_amount"] = amount
    return found
