"""Financial covenants: a bound on one statement ratio, kept at the threshold, silent on a
ratio the statement cannot give, filed in the covenants section of a credit file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest

from creditmgmt.domain import (
    Covenant,
    CovenantBound,
    CovenantMetric,
    InvalidValueError,
    Section,
)
from creditmgmt.domain.credit_file import DocumentRef
from creditmgmt.testing.builders import a_credit_file, a_statement

AS_OF = date(2026, 1, 31)
#: current ratio 20 m ÷ 12 m; debt to assets 33 m ÷ 60 m = 0.55; interest coverage 6 m ÷ 1.5 m
#: = 4; DSCR 7 m ÷ 4 m = 1.75
STATEMENT = a_statement()


def _covenant(metric: CovenantMetric, bound: CovenantBound, threshold: str) -> Covenant:
    return Covenant(metric=metric, bound=bound, threshold=Decimal(threshold))


RATIOS = [
    (CovenantMetric.DEBT_TO_ASSETS, Decimal("0.55")),
    (CovenantMetric.INTEREST_COVERAGE, Decimal("4")),
    (CovenantMetric.DSCR, Decimal("1.75")),
]
STEP = Decimal("0.0001")


@pytest.mark.parametrize("bound", list(CovenantBound))
@pytest.mark.parametrize(("metric", "ratio"), RATIOS)
def test_a_ratio_at_the_threshold_keeps_it_and_one_step_past_breaks_it(
    bound: CovenantBound, metric: CovenantMetric, ratio: Decimal
) -> None:
    # at least: a threshold above the ratio is broken; at most: one below it
    past = STEP if bound is CovenantBound.AT_LEAST else -STEP

    def breached(threshold: Decimal) -> bool | None:
        return Covenant(metric=metric, bound=bound, threshold=threshold).breached_by(STATEMENT)

    assert breached(ratio) is False  # the ratio at the threshold
    assert breached(ratio - past) is False  # the ratio one step on the kept side
    assert breached(ratio + past) is True  # the ratio one step on the broken side


def test_the_current_ratio_is_compared_exactly() -> None:
    ratio = STATEMENT.current_ratio  # 20 ÷ 12 = 1.666…
    assert ratio is not None
    at_least = _covenant(CovenantMetric.CURRENT_RATIO, CovenantBound.AT_LEAST, str(ratio))
    assert at_least.ratio_of(STATEMENT) == ratio
    assert at_least.breached_by(STATEMENT) is False
    assert at_least.breached_by(a_statement(current_assets="19999999")) is True
    at_most = _covenant(CovenantMetric.CURRENT_RATIO, CovenantBound.AT_MOST, "1.6666")
    assert at_most.breached_by(STATEMENT) is True
    assert str(at_most) == "current_ratio ≤ 1.6666"


def test_a_ratio_the_statement_cannot_give_neither_keeps_nor_breaks_it() -> None:
    no_interest = a_statement(interest_expense="0")
    no_debt = a_statement(debt_service="0")
    for bound in CovenantBound:
        coverage = _covenant(CovenantMetric.INTEREST_COVERAGE, bound, "3")
        assert coverage.breached_by(no_interest) is None
        assert _covenant(CovenantMetric.DSCR, bound, "1.2").breached_by(no_debt) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"threshold": Decimal("-0.01")}, "threshold must not be negative"),
        ({"threshold": Decimal("NaN")}, "threshold must be finite"),
        ({"threshold": Decimal("Infinity")}, "threshold must be finite"),
        ({"threshold": 1.2}, "threshold must be a Decimal, got float"),
        ({"threshold": "1.2"}, "threshold must be a Decimal, got str"),
        (
            {"metric": "leverage"},
            "covenant metric must be one of current_ratio, .*; got 'leverage'",
        ),
        ({"bound": "exactly"}, "covenant bound must be one of at_least, at_most; got 'exactly'"),
    ],
)
def test_invalid_covenants_are_refused_naming_the_field(
    fields: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {
        "metric": CovenantMetric.DSCR,
        "bound": CovenantBound.AT_LEAST,
        "threshold": Decimal("1.2"),
        **fields,
    }
    with pytest.raises(InvalidValueError, match=message):
        Covenant(**values)


def test_a_covenant_is_filed_in_the_covenants_section_only_one_per_entry() -> None:
    cf = a_credit_file()
    dscr = _covenant(CovenantMetric.DSCR, CovenantBound.AT_LEAST, "1.2")
    file = partial(cf.record, key="c", source="agreement", as_of=AS_OF)
    with pytest.raises(InvalidValueError, match="covenant belongs in section covenants"):
        file(section=Section.DOCUMENTS, covenant=dscr)
    with pytest.raises(InvalidValueError, match="document belongs in section documents"):
        file(section=Section.COVENANTS, document=DocumentRef(title="agreement", reference="a://1"))
    not_a_covenant: Any = "dscr >= 1.2"  # as untyped host code would pass it
    with pytest.raises(InvalidValueError, match="entry c: covenant must be a Covenant, got str"):
        file(section=Section.COVENANTS, covenant=not_a_covenant)
    with pytest.raises(InvalidValueError, match="one entry holds one record"):
        file(section=Section.COVENANTS, covenant=dscr, financial_statement=STATEMENT)
    assert cf.entries == ()
    entry = file(section=Section.COVENANTS, covenant=dscr)
    assert entry.covenant == dscr and cf.covenants() == [dscr]


def test_breaches_are_tested_against_the_latest_statement_of_live_entries() -> None:
    cf = a_credit_file()
    dscr = _covenant(CovenantMetric.DSCR, CovenantBound.AT_LEAST, "1.5")
    leverage = _covenant(CovenantMetric.DEBT_TO_ASSETS, CovenantBound.AT_MOST, "0.6")
    assert cf.covenant_breaches() is None  # nothing to test
    cf.record(key="dscr", section=Section.COVENANTS, source="agreement", as_of=AS_OF, covenant=dscr)
    assert cf.covenant_breaches() is None  # no statement
    weak = a_statement(period_end=date(2025, 12, 31), operating_cash_flow="5000000")  # 1.25
    cf.record(
        key="fs-2025",
        section=Section.FINANCIAL_STATEMENTS,
        source="accounts",
        as_of=AS_OF,
        financial_statement=weak,
    )
    cf.record(
        key="fs-2024",  # an older, sound statement filed later does not count
        section=Section.FINANCIAL_STATEMENTS,
        source="accounts",
        as_of=AS_OF,
        financial_statement=a_statement(period_end=date(2024, 12, 31)),
    )
    cf.record(
        key="lev", section=Section.COVENANTS, source="agreement", as_of=AS_OF, covenant=leverage
    )
    assert cf.covenants() == [dscr, leverage]
    assert cf.covenant_breaches() == [dscr]
    # the DSCR covenant replaced by one the statement keeps: the old entry is archived
    relaxed = _covenant(CovenantMetric.DSCR, CovenantBound.AT_LEAST, "1.25")
    cf.record(
        key="dscr", section=Section.COVENANTS, source="amendment", as_of=AS_OF, covenant=relaxed
    )
    assert cf.covenants() == [leverage, relaxed]
    assert cf.covenant_breaches() == []


def test_the_metric_and_the_bound_may_be_given_as_their_values() -> None:
    given = Covenant(metric="dscr", bound="at_least", threshold=Decimal("1.2"))
    assert given == _covenant(CovenantMetric.DSCR, CovenantBound.AT_LEAST, "1.2")
    assert given.metric is CovenantMetric.DSCR and given.bound is CovenantBound.AT_LEAST


def test_a_breach_is_dated_by_the_latest_of_its_statement_and_its_broken_covenants() -> None:
    cf = a_credit_file()
    dscr = _covenant(CovenantMetric.DSCR, CovenantBound.AT_LEAST, "1.5")
    leverage = _covenant(CovenantMetric.DEBT_TO_ASSETS, CovenantBound.AT_MOST, "0.9")
    record = partial(cf.record, source="accounts")
    record(key="dscr", section=Section.COVENANTS, as_of=date(2025, 6, 1), covenant=dscr)
    assert cf.covenant_breach_dated() is None  # no statement to test it against
    weak = a_statement(period_end=date(2025, 12, 31), operating_cash_flow="5000000")  # 1.25
    record(key="fs", section=Section.FINANCIAL_STATEMENTS, as_of=AS_OF, financial_statement=weak)
    assert cf.covenant_breach_dated() == AS_OF  # the statement is the newer fact
    later = date(2026, 2, 15)
    record(key="lev", section=Section.COVENANTS, as_of=later, covenant=leverage)  # kept
    assert cf.covenant_breach_dated() == AS_OF
    stricter = _covenant(CovenantMetric.DSCR, CovenantBound.AT_LEAST, "1.6")
    record(key="dscr", section=Section.COVENANTS, as_of=later, covenant=stricter)  # broken
    assert cf.covenant_breach_dated() == later
    sound = a_statement(period_end=date(2026, 3, 31), operating_cash_flow="9000000")
    record(
        key="fs-q1", section=Section.FINANCIAL_STATEMENTS, as_of=later, financial_statement=sound
    )
    assert cf.covenant_breaches() == [] and cf.covenant_breach_dated() is None
