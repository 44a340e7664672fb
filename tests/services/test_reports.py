"""Portfolio reports over a synthetic book after a daily run."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.bootstrap import open_desk
from creditmgmt.domain.money import Money
from creditmgmt.ports.errors import DataError
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services import Capital, Principal, Role, report_book
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.errors import PermissionDeniedError
from creditmgmt.services.monitoring import DailyRunSummary
from creditmgmt.services.reports import REPORTS, ReportError, ReportRequest
from creditmgmt.testing.book import BookSpec, load

DAY = date(2026, 1, 5)
RISK = Principal("usr_ro", roles={Role.RISK_OFFICER})  # reads no PII
ANALYST = Principal("usr_an", roles={Role.CREDIT_ANALYST})  # reads PII


@pytest.fixture(scope="module")
def booked(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[CreditDesk, DailyRunSummary]]:
    path = tmp_path_factory.mktemp("reports") / "book.db"
    desk = open_desk(
        f"sqlite:///{path}",
        rules="cn-2023",
        clock=FixedClock(datetime(2026, 1, 5, 18, tzinfo=UTC)),
        institution_region="310000",
        capital=Capital(
            net_capital=Money.of("2000000000.00", "CNY"), tier1_net=Money.of("1600000000.00", "CNY")
        ),
    )
    assert isinstance(desk.store, RecordStore)
    load(desk.store, BookSpec(customers=150, seed=3, as_of=DAY))
    summary = desk.run_daily(DAY)
    yield desk, summary
    desk.close()


def test_npl_ratio_matches_the_run(booked: tuple[CreditDesk, DailyRunSummary]) -> None:
    desk, summary = booked
    rows = desk.report(RISK, "npl", as_of=DAY)
    by_key = {r["key"]: r for r in rows}
    for category, total in summary.by_category.items():
        assert by_key[category.value]["loans"] == total.count
        assert by_key[category.value]["balance"] == total.balance["CNY"]
    npl = sum((t.balance["CNY"] for c, t in summary.by_category.items() if c.is_npl), Decimal(0))
    book = sum((t.balance["CNY"] for t in summary.by_category.values()), Decimal(0))
    assert npl > 0
    assert by_key["npl_ratio"]["balance"] == npl
    assert by_key["npl_ratio"]["share"] == (npl / book).quantize(Decimal("0.0001"))


def test_provisions_coverage_against_the_floors(booked: tuple[CreditDesk, DailyRunSummary]) -> None:
    desk, summary = booked
    (row,) = desk.report(RISK, "provisions", as_of=DAY)
    assert row["provisions"] == summary.provisions["CNY"]
    assert row["coverage"] == (row["provisions"] / row["npl"]).quantize(Decimal("0.0001"))
    assert row["coverage_ok"] is (row["provisions"] >= row["npl"] * Decimal("1.5"))
    assert row["provision_ratio_ok"] is (row["provisions"] >= row["balance"] * Decimal("0.025"))
    assert row["shortfall"] >= 0


@pytest.mark.parametrize("group_by", ["customer", "group", "industry", "region", "product"])
def test_exposure_shares_add_up(booked: tuple[CreditDesk, DailyRunSummary], group_by: str) -> None:
    desk, _ = booked
    rows = desk.report(RISK, "exposure", as_of=DAY, group_by=group_by)
    assert rows
    drawn = sum((r["drawn"] for r in rows), Decimal(0))
    assert abs(sum((r["share"] for r in rows), Decimal(0)) - 1) < Decimal("0.01")
    assert [r["drawn"] for r in rows] == sorted((r["drawn"] for r in rows), reverse=True)
    assert all(r["drawn"] <= r["limit"] for r in rows)
    if group_by != "product":  # masters hold the customer's whole drawn amount
        totals = desk.report(RISK, "exposure", as_of=DAY, group_by="customer")
        assert drawn == sum((r["drawn"] for r in totals), Decimal(0))


def test_exposure_by_category_is_the_loan_book(booked: tuple[CreditDesk, DailyRunSummary]) -> None:
    desk, summary = booked
    rows = desk.report(RISK, "exposure", as_of=DAY, group_by="category")
    assert {r["key"]: r["drawn"] for r in rows} == {
        c.value: t.balance["CNY"] for c, t in summary.by_category.items()
    }


def test_collections_pipeline_counts_every_loan(booked: tuple[CreditDesk, DailyRunSummary]) -> None:
    desk, summary = booked
    rows = desk.report(RISK, "collections", as_of=DAY)
    assert sum(r["loans"] for r in rows) == summary.loans
    assert rows[0]["key"] == "none" and {r["key"] for r in rows} > {"none", "legal"}


def test_risk_events_concentration_remote_and_overdue(
    booked: tuple[CreditDesk, DailyRunSummary],
) -> None:
    desk, summary = booked
    events = desk.report(RISK, "risk_events", as_of=DAY)
    assert events[0]["key"] == "red" and sum(r["count"] for r in events) >= summary.new_risk_events
    caps = desk.report(RISK, "concentration", as_of=DAY)
    assert {r["kind"] for r in caps} == {"customer", "group"}
    # large-exposure caps: 15% (customer) and 20% (group) of tier-1 net; the headroom is
    # also bounded by the core indicators (10% / 15% of net capital)
    assert {r["cap"] for r in caps} == {Decimal("240000000.00"), Decimal("320000000.00")}
    assert all(r["headroom"] <= r["cap"] - r["exposure"] for r in caps)
    assert all(r["breach"] is (r["headroom"] < 0) for r in caps)
    (remote,) = desk.report(RISK, "remote", as_of=DAY)
    assert 0 < remote["share"] < 1 and remote["within_cap"] is (remote["share"] <= Decimal("0.2"))
    later = desk.report(RISK, "overdue", as_of=date(2026, 3, 1))
    assert any(r["key"] == "red review" for r in later)
    shares = desk.report(RISK, "shares", as_of=DAY, group_by="region")
    assert abs(sum((r["share"] for r in shares), Decimal(0)) - 1) < Decimal("0.01")


def test_csv_masks_pii_unless_the_reader_may_see_it(
    booked: tuple[CreditDesk, DailyRunSummary], tmp_path: Path
) -> None:
    desk, _ = booked
    masked, plain = tmp_path / "masked.csv", tmp_path / "plain.csv"
    n = desk.export_csv(RISK, "exposure", masked, as_of=DAY)
    desk.export_csv(ANALYST, "exposure", plain, as_of=DAY)
    hidden = list(csv.DictReader(masked.open(encoding="utf-8")))
    shown = list(csv.DictReader(plain.open(encoding="utf-8")))
    assert len(hidden) == n == len(shown)
    assert all(r["registration id"].startswith("**************") for r in hidden)
    assert all("*" not in r["registration id"] and len(r["registration id"]) == 18 for r in shown)
    assert [r["registration id"][-4:] for r in hidden] == [r["registration id"][-4:] for r in shown]


def test_csv_in_chinese(booked: tuple[CreditDesk, DailyRunSummary], tmp_path: Path) -> None:
    desk, _ = booked
    out = tmp_path / "npl.csv"
    desk.export_csv(RISK, "npl", out, as_of=DAY, lang="zh")
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("维度,币种,借据数,余额,占比")
    assert "次级" in text and "正常" in text


def test_refusals(booked: tuple[CreditDesk, DailyRunSummary], tmp_path: Path) -> None:
    desk, _ = booked
    with pytest.raises(ReportError, match="unknown report 'npls'"):
        desk.report(RISK, "npls", as_of=DAY)
    with pytest.raises(ReportError, match="cannot group by 'colour'"):
        desk.report(RISK, "exposure", as_of=DAY, group_by="colour")
    with pytest.raises(ReportError, match="takes no group_by"):
        desk.report(RISK, "npl", as_of=DAY, group_by="region")
    guest = Principal("usr_ap", roles={Role.APPROVER})
    with pytest.raises(PermissionDeniedError, match="export_csv"):
        desk.export_csv(guest, "npl", tmp_path / "x.csv", as_of=DAY)
    assert len(REPORTS) == 10


def test_concentration_needs_capital_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open_desk(
        "memory://",
        rules="cn-2023",
        clock=FixedClock(datetime(2026, 1, 5, tzinfo=UTC)),
        institution_region="310000",
    ) as desk:
        with pytest.raises(ReportError, match="capital"):
            desk.report(RISK, "concentration", as_of=DAY)
        units = _count_units(desk, monkeypatch)
        with pytest.raises(ReportError, match="capital"):
            desk.reports(RISK, ["npl", "overdue", "concentration"], as_of=DAY)
        assert units == []


def _count_units(desk: CreditDesk, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The units of work the desk's store opens from now on (one entry each)."""
    units: list[int] = []
    opened = desk.store.unit_of_work

    def counted() -> UnitOfWork:
        units.append(1)
        return opened()

    monkeypatch.setattr(desk.store, "unit_of_work", counted)
    return units


# several reports from one pass over the book -----------------------------------------------------
GROUPINGS = {
    "exposure": ("customer", "group", "industry", "region", "product", "category"),
    "utilisation": ("product", "customer"),
    "shares": ("industry", "region"),
    "risk_events": ("severity", "type"),
}


def _every_request() -> list[ReportRequest]:
    """Every report by its name alone, then with every grouping it takes."""
    assert set(GROUPINGS) < set(REPORTS)
    requests: list[ReportRequest] = []
    for name in REPORTS:
        requests.append(name)
        requests += [(name, g) for g in GROUPINGS.get(name, ())]
    return requests


def _separately(
    desk: CreditDesk, by: Principal, request: ReportRequest, day: date
) -> list[dict[str, object]]:
    name, group_by = (request, None) if isinstance(request, str) else request
    return desk.report(by, name, as_of=day, group_by=group_by)


@pytest.mark.parametrize("day", [DAY, date(2026, 3, 1)])
def test_one_pass_gives_the_rows_of_the_separate_calls(
    booked: tuple[CreditDesk, DailyRunSummary], day: date
) -> None:
    desk, _ = booked
    requests = _every_request()
    for by in (RISK, ANALYST):  # registration ids masked for one, shown to the other
        together = desk.reports(by, requests, as_of=day)
        assert list(together) == requests
        # the same report asked for twice (default grouping, then by name): equal rows,
        # not the same list
        assert together["exposure"] == together[("exposure", "customer")]
        assert together["exposure"] is not together[("exposure", "customer")]
        for request in requests:
            assert together[request] == _separately(desk, by, request, day), request
        empty = {r for r in requests if not together[r]}
        assert empty <= ({"overdue"} if day == DAY else set()), empty


def test_pages_feed_the_reports_one_at_a_time(booked: tuple[CreditDesk, DailyRunSummary]) -> None:
    """Fed the book 7 customers a page (22 pages), each report accumulates the rows it
    gives from the whole book at once."""
    desk, _ = booked
    rules, capital = desk.context.rules.as_of(DAY), desk.context.capital
    assert capital is not None
    made: dict[ReportRequest, report_book.BookReport] = {
        ("exposure", g): report_book.Exposure(g, pii=False) for g in GROUPINGS["exposure"]
    }
    made |= {
        ("utilisation", "product"): report_book.Exposure("product", pii=False, shape="utilisation"),
        ("shares", "region"): report_book.Exposure("region", pii=False, shape="shares"),
        "npl": report_book.Npl(),
        "provisions": report_book.Provisions(rules),
        "concentration": report_book.Concentration(capital, rules),
        "remote": report_book.Remote(),
        "collections": report_book.Collections(rules, DAY),
    }
    pages = list(report_book.pages(desk.store, loans=True, size=7))
    assert len(pages) == 22 and sum(len(p.customers) for p in pages) == 150
    report_book.scan(desk.store, list(made.values()), size=7)
    for request, report in made.items():
        assert report.rows() == _separately(desk, RISK, request, DAY), request


def test_one_pass_refuses_a_bad_request_before_reading(
    booked: tuple[CreditDesk, DailyRunSummary], monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, _ = booked
    units = _count_units(desk, monkeypatch)
    good: list[ReportRequest] = ["npl", "overdue", ("risk_events", "type"), "collections"]
    refusals: list[tuple[object, str]] = [
        ("npls", "unknown report 'npls'"),
        (("exposure", "colour"), "cannot group by 'colour'"),
        (("npl", "region"), "takes no group_by"),
        (("exposure",), "a name or \\(name, group_by\\)"),
        (("exposure", "industry", "x"), "a name or"),
        (3, "a name or"),
    ]
    for bad, message in refusals:
        with pytest.raises(ReportError, match=message):
            desk.reports(RISK, [*good, bad], as_of=DAY)  # type: ignore[list-item]
    assert units == []
    desk.reports(RISK, good, as_of=DAY)
    assert units, "the spy sees the units of work a report opens"


def test_one_pass_checks_permission_per_report(
    booked: tuple[CreditDesk, DailyRunSummary], monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, _ = booked
    asked: list[tuple[str, str]] = []
    permit = desk._permit

    def spy(by: Principal, call: str, subject: str) -> None:
        asked.append((call, subject))
        permit(by, call, subject)

    monkeypatch.setattr(desk, "_permit", spy)
    desk.reports(
        RISK,
        ["npl", ("exposure", "industry"), ("exposure", "region"), "npl", "risk_events"],
        as_of=DAY,
    )
    assert asked == [("report", f"report:{n}") for n in ("npl", "exposure", "risk_events")]

    def unread(*args: object, **kwargs: object) -> Iterator[report_book.Page]:
        raise AssertionError("the book was read for a refused principal")

    monkeypatch.setattr(report_book, "pages", unread)
    nobody = Principal("usr_nobody", roles=set())
    with pytest.raises(PermissionDeniedError, match="may not call report on report:exposure"):
        desk.reports(nobody, [("exposure", "industry"), "npl"], as_of=DAY)
    refusal = desk.audit_trail(Principal("usr_au", roles={Role.AUDITOR}))[-1]
    assert (refusal.outcome, refusal.subject) == ("refused", "report:exposure")


def test_facility_reports_read_no_loans(tmp_path: Path) -> None:
    """Every loan document corrupted: the reports of customers and facilities still give the
    same rows, while one that reads the loans fails on them."""
    path = tmp_path / "book.db"

    def opened() -> CreditDesk:
        return open_desk(
            f"sqlite:///{path}",
            rules="cn-2023",
            clock=FixedClock(datetime(2026, 1, 5, 18, tzinfo=UTC)),
            institution_region="310000",
            capital=Capital(
                net_capital=Money.of("200000000.00", "CNY"),
                tier1_net=Money.of("160000000.00", "CNY"),
            ),
        )

    requests: list[ReportRequest] = [
        *(("exposure", g) for g in GROUPINGS["exposure"] if g != "category"),
        *(("utilisation", g) for g in GROUPINGS["utilisation"]),
        *(("shares", g) for g in GROUPINGS["shares"]),
        "concentration",
        "remote",
    ]
    with opened() as desk:
        assert isinstance(desk.store, RecordStore)
        load(desk.store, BookSpec(customers=30, seed=5, as_of=DAY))
        before = desk.reports(RISK, requests, as_of=DAY)
    assert all(before.values())
    with sqlite3.connect(path) as db:  # the SQL store's default table prefix: cm_
        corrupted = db.execute("UPDATE cm_drawdown SET document = '{not json'").rowcount
    assert corrupted > 30
    db.close()
    with opened() as desk:
        assert desk.reports(RISK, requests, as_of=DAY) == before
        assert (
            desk.report(RISK, "exposure", as_of=DAY, group_by="industry")
            == before[("exposure", "industry")]
        )
        with pytest.raises(DataError, match="not valid JSON"):
            desk.reports(RISK, [*requests, "npl"], as_of=DAY)
        with pytest.raises(DataError, match="not valid JSON"):
            desk.report(RISK, "exposure", as_of=DAY, group_by="category")
