"""The daily run's periodic reviews by grade and its early-warning inputs beyond DPD and the
bureau: month-end utilisation, rating moves, revenue, litigation — each fires once."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from tests.services.desk_state import assessments

from creditmgmt.domain.credit_file import LitigationCase, LitigationRole
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.loan_risk import MonitoringMark
from creditmgmt.domain.risk import RiskEventStatus
from creditmgmt.domain.schedule import Amortisation, Frequency
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.monitoring.signals import rating_window_moves, warning_news
from creditmgmt.testing.builders import M, a_customer, a_schedule, a_statement
from creditmgmt.testing.desk import (
    ANALYST,
    RISK,
    RM,
    a_desk,
    a_filed_record,
    a_funded_customer,
    an_onboarded_customer,
)

RATED = date(2026, 3, 2)  # the desk's clock: the day a_funded_customer is approved


def _events(desk: CreditDesk, customer: CustomerId) -> list[tuple[str, RiskEventStatus]]:
    with desk.store.unit_of_work() as uow:
        return sorted((e.type, e.status) for e in uow.risk_events.find(customer_id=customer))


def _review_tasks(desk: CreditDesk, customer: CustomerId) -> list[str]:
    with desk.store.unit_of_work() as uow:
        return [
            t.title for t in uow.tasks.find(customer_id=customer) if "periodic review" in t.title
        ]


def test_approval_rates_the_customer() -> None:
    with a_desk() as desk:
        customer, _ = a_funded_customer(desk, pd="0.004")
        with desk.store.unit_of_work() as uow:
            rating = uow.customers.get(customer).rating
    assert rating is not None and (rating.grade, rating.rated_on) == ("BBB", RATED)


def test_a_periodic_review_falls_due_by_grade_once() -> None:
    with a_desk() as desk:
        bbb, _ = a_funded_customer(desk, serial=1, pd="0.004")  # BBB: yearly
        bb, _ = a_funded_customer(desk, serial=2, pd="0.01")  # BB: half-yearly
        desk.run_daily(date(2026, 9, 1))
        assert _review_tasks(desk, bb) == []
        due = desk.run_daily(date(2026, 9, 2))  # six months after the rating
        (title,) = _review_tasks(desk, bb)
        assert "grade BB rated 2026-03-02, review due 2026-09-02" in title
        assert _review_tasks(desk, bbb) == []
        assert due.reviews_due == 1
        assert desk.run_daily(date(2026, 9, 3)).reviews_due == 0  # still open: not again
        assert desk.run_daily(date(2026, 9, 2)) == due  # a finished day: its log
        assert len(_review_tasks(desk, bb)) == 1
        desk.run_daily(date(2027, 3, 1))
        assert _review_tasks(desk, bbb) == []
        desk.run_daily(date(2027, 3, 2))  # BBB's year is up
        assert len(_review_tasks(desk, bbb)) == 1 and len(_review_tasks(desk, bb)) == 1


def test_a_new_rating_moves_the_next_review() -> None:
    with a_desk() as desk:
        customer, _ = a_funded_customer(desk, pd="0.01")  # BB: due 2026-09-02
        with desk.store.unit_of_work() as uow:
            uow.customers.get(customer).rate("BB", on=date(2026, 8, 1))
            uow.commit()
        desk.run_daily(date(2026, 9, 2))
        assert _review_tasks(desk, customer) == []
        desk.run_daily(date(2027, 2, 1))
        assert len(_review_tasks(desk, customer)) == 1


def test_a_downgrade_of_two_notches_within_a_year_fires_once() -> None:
    with a_desk() as desk:
        customer, _ = a_funded_customer(desk, pd="0.004")  # BBB
        with desk.store.unit_of_work() as uow:
            uow.customers.get(customer).rate("BB", on=date(2026, 4, 1))  # one notch
            uow.commit()
        desk.run_daily(date(2026, 4, 1))
        assert ("y_rating_down_2_notches", RiskEventStatus.OPEN) not in _events(desk, customer)
        with desk.store.unit_of_work() as uow:
            uow.customers.get(customer).rate("B", on=date(2026, 4, 2))  # BBB → B: two
            uow.commit()
        assert desk.run_daily(date(2026, 4, 2)).new_risk_events >= 1
        desk.run_daily(date(2026, 4, 3))
        fired = [e for e in _events(desk, customer) if e[0] == "y_rating_down_2_notches"]
        assert fired == [("y_rating_down_2_notches", RiskEventStatus.OPEN)]


def test_a_handled_downgrade_is_raised_again_only_on_a_further_downgrade() -> None:
    trigger = "y_rating_down_2_notches"

    def rate(customer: CustomerId, grade: str, on: date) -> None:
        with desk.store.unit_of_work() as uow:
            uow.customers.get(customer).rate(grade, on=on)
            uow.commit()

    with a_desk() as desk:
        customer, _ = a_funded_customer(desk, pd="0.004")  # BBB
        rate(customer, "B", date(2026, 4, 2))  # two notches
        desk.run_daily(date(2026, 4, 2))
        with desk.store.unit_of_work() as uow:
            (event,) = [e for e in uow.risk_events.find(customer_id=customer) if e.type == trigger]
        desk.acknowledge(RISK, event.id)
        desk.resolve(RISK, event.id, note="downgrade reviewed")
        rate(customer, "B", date(2026, 5, 4))  # re-rated at the same grade: no news
        desk.run_daily(date(2026, 5, 4))
        assert [s for t, s in _events(desk, customer) if t == trigger] == [RiskEventStatus.RESOLVED]
        rate(customer, "CCC", date(2026, 6, 1))  # a further downgrade is news
        desk.run_daily(date(2026, 6, 1))
        assert sorted(s for t, s in _events(desk, customer) if t == trigger) == [
            RiskEventStatus.OPEN,
            RiskEventStatus.RESOLVED,
        ]


def test_warning_news_dates_the_fact_behind_each_news_input() -> None:
    grades = ("AAA", "AA", "A", "BBB", "BB", "B")
    customer = a_customer()
    assert warning_news(customer, None, grades, date(2026, 6, 1)) == {}
    customer.rate("A", on=date(2025, 9, 1))
    customer.rate("BB", on=date(2026, 2, 1))  # the downgrade
    customer.rate("BB", on=date(2026, 4, 1))  # re-rated, same grade
    customer.rate("BBB", on=date(2026, 5, 1))  # up a notch, still two below A
    assert warning_news(customer, None, grades, date(2026, 6, 1)) == {
        "rating_notches_down_12m": date(2026, 2, 1)
    }


def test_utilisation_over_90pct_at_three_month_ends_fires_once() -> None:
    with a_desk() as desk:
        customer, facility = a_funded_customer(desk, limit="3000000.00")
        desk.draw(RM, facility, M("2900000.00 CNY"), key="d1")  # 96.67% of the master limit

        def fired() -> list[tuple[str, RiskEventStatus]]:
            return [e for e in _events(desk, customer) if e[0] == "y_utilisation_3_month_ends"]

        desk.run_daily(date(2026, 3, 31))
        desk.run_daily(date(2026, 4, 30))
        assert fired() == []  # two month-ends only
        desk.run_daily(date(2026, 5, 29))  # not a month-end: nothing new is recorded
        assert fired() == []
        desk.run_daily(date(2026, 6, 1))  # the first run after May's month-end (a Sunday)
        desk.run_daily(date(2026, 6, 2))
        assert fired() == [("y_utilisation_3_month_ends", RiskEventStatus.OPEN)]
        with desk.store.unit_of_work() as uow:
            mark = uow.customers.get(customer).monitoring
        assert mark is not None
        assert [m.month_end for m in mark.month_ends] == [
            date(2026, 5, 31),
            date(2026, 4, 30),
            date(2026, 3, 31),
        ]


def test_an_incremental_run_fires_on_the_third_month_end_of_a_quiet_customer() -> None:
    with a_desk() as desk:
        customer, facility = a_funded_customer(desk, limit="3000000.00")
        quarterly = a_schedule(
            "2900000.00 CNY",
            start=RATED,
            amortisation=Amortisation.BULLET,
            frequency=Frequency.QUARTERLY,
        )  # first due 2 June: nothing falls due or is reminded before 26 May
        desk.draw(RM, facility, M("2900000.00 CNY"), key="d1", schedule=quarterly)

        def month_ends() -> list[date]:
            with desk.store.unit_of_work() as uow:
                mark = uow.customers.get(customer).monitoring
            assert mark is not None and mark.next_check == date(2026, 5, 26)
            return [m.month_end for m in mark.month_ends]

        with assessments(desk) as calls:
            desk.run_daily(date(2026, 3, 30))  # records February's month-end (96.67%)
            desk.run_daily(date(2026, 3, 31), incremental=True)
            # March's month-end: the mark took it
            assert [d for d, n in calls for _ in range(n)] == [date(2026, 3, 30)]
            assert month_ends() == [date(2026, 3, 31), date(2026, 2, 28)]
            assert desk.run_daily(date(2026, 4, 14), incremental=True).new_risk_events == 0
            assert desk.run_daily(date(2026, 4, 28), incremental=True).new_risk_events == 0
            april = desk.run_daily(date(2026, 4, 30), incremental=True)
        # still quiet, but with a third month-end the early warning needed a full assessment
        assert [d for d, n in calls for _ in range(n)] == [date(2026, 3, 30), date(2026, 4, 30)]
        assert month_ends() == [date(2026, 4, 30), date(2026, 3, 31), date(2026, 2, 28)]
        assert april.new_risk_events == 1
        assert [e for e in _events(desk, customer) if e[0] == "y_utilisation_3_month_ends"] == [
            ("y_utilisation_3_month_ends", RiskEventStatus.OPEN)
        ]


def test_a_low_utilisation_never_fires() -> None:
    with a_desk() as desk:
        customer, facility = a_funded_customer(desk, limit="3000000.00")
        desk.draw(RM, facility, M("2600000.00 CNY"), key="d1")  # 86.67%
        for day in (date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31)):
            desk.run_daily(day)
        assert "y_utilisation_3_month_ends" not in {e[0] for e in _events(desk, customer)}


def test_revenue_down_30pct_year_on_year_fires_once() -> None:
    with a_desk() as desk:
        falling = an_onboarded_customer(desk, serial=1, statements=False)
        steady = an_onboarded_customer(desk, serial=2)  # 45 m → 50 m
        desk.add_statement(ANALYST, falling, a_statement(period_end=date(2024, 12, 31)))
        desk.add_statement(
            ANALYST, falling, a_statement(period_end=date(2025, 12, 31), revenue="35000000")
        )
        first = desk.run_daily(date(2026, 3, 3))
        desk.run_daily(date(2026, 3, 4))
        assert _events(desk, falling) == [("y_revenue_down_30pct", RiskEventStatus.OPEN)]
        assert _events(desk, steady) == []
        assert first.new_risk_events == 1


def _sued(desk: CreditDesk, customer: CustomerId, claim: str, role: LitigationRole) -> None:
    case = LitigationCase(
        case_id=f"(2026)沪01民初{claim[:3]}号", claim=M(f"{claim} CNY"), role=role, status="pending"
    )
    a_filed_record(desk, customer, case, key=f"case-{claim}-{role.value}", as_of=date(2026, 3, 1))


def test_litigation_of_10pct_of_net_assets_fires_once() -> None:
    with a_desk() as desk:
        big = an_onboarded_customer(desk, serial=1)  # equity 27 m on the latest statement
        small = an_onboarded_customer(desk, serial=2)
        plaintiff = an_onboarded_customer(desk, serial=3)
        _sued(desk, big, "2700000.00", LitigationRole.DEFENDANT)
        _sued(desk, small, "2600000.00", LitigationRole.DEFENDANT)
        _sued(desk, plaintiff, "9000000.00", LitigationRole.PLAINTIFF)
        desk.run_daily(date(2026, 3, 3))
        desk.run_daily(date(2026, 3, 4))
        assert _events(desk, big) == [("r_litigation_10pct_net_assets", RiskEventStatus.OPEN)]
        assert _events(desk, small) == [] and _events(desk, plaintiff) == []


def test_incremental_runs_raise_the_same_reviews_and_warnings_as_full_runs() -> None:
    def days(
        incremental: bool,
    ) -> tuple[
        list[tuple[str, RiskEventStatus, date]], list[tuple[str, date]], MonitoringMark | None
    ]:
        with a_desk() as desk:
            customer, facility = a_funded_customer(desk, pd="0.01", limit="3000000.00")  # BB
            desk.draw(RM, facility, M("2900000.00 CNY"), key="d1")
            desk.run_daily(RATED)
            day = RATED
            while day < date(2026, 6, 3):
                day += timedelta(days=1)
                if day == date(2026, 3, 5):  # BB → D: four notches; monthly reviews
                    with desk.store.unit_of_work() as uow:
                        uow.customers.get(customer).rate("D", on=day)
                        uow.commit()
                desk.run_daily(day, incremental=incremental)
            with desk.store.unit_of_work() as uow:
                return (
                    sorted((e.type, e.status, e.business_date) for e in uow.risk_events.find()),
                    sorted((t.title, t.due) for t in uow.tasks.find(customer_id=customer)),
                    uow.customers.get(customer).monitoring,
                )

    full = days(incremental=False)
    assert full == days(incremental=True)
    events = {e[0] for e in full[0]}
    assert {"y_rating_down_2_notches", "y_utilisation_3_month_ends"} <= events
    assert sum("periodic review" in t for t, _ in full[1]) == 1


def test_a_past_grade_leaves_the_rating_year_on_a_date_the_mark_knows() -> None:
    customer = a_customer()
    assert rating_window_moves(customer, date(2026, 1, 1)) is None  # never rated
    customer.rate("BBB", on=date(2023, 6, 1))
    customer.rate("BB", on=date(2024, 2, 29))  # BBB held until 29 February
    customer.rate("B", on=date(2024, 9, 10))  # BB held until 10 September
    # BBB leaves once `day - 1 year >= 29 Feb 2024`: on 1 March 2025, not 28 February
    assert rating_window_moves(customer, date(2025, 1, 1)) == date(2025, 3, 1)
    rating = customer.rating
    assert rating is not None
    held = [
        rating.grades_since(d - relativedelta(years=1))
        for d in (date(2025, 2, 28), date(2025, 3, 1))
    ]
    assert held == [["B", "BB", "BBB"], ["B", "BB"]]
    assert rating_window_moves(customer, date(2025, 3, 1)) == date(2025, 9, 10)
    assert rating_window_moves(customer, date(2025, 9, 10)) is None
