"""`creditmgmt demo`: a synthetic book through the desk, daily runs, portfolio report."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from creditmgmt.cli import main
from creditmgmt.cli.demo import business_days, run_demo
from creditmgmt.domain.classification import Category


def test_business_days_skip_weekends() -> None:
    from datetime import date

    days = business_days(date(2026, 1, 5), 3)  # a Monday
    assert days == [date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 5)]


def test_demo_runs_the_desk_end_to_end(tmp_path: Path) -> None:
    console = Console(record=True, width=140)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = run_demo(console, customers=40, store_url=url, days=3)
    assert result["store"] == url and result["customers"] == 40
    assert result["audit_ok"] is True
    # the new applications went through to drawn facilities on the desk
    assert [n["grade"] for n in result["new"]] == ["BBB", "BB", "B"]
    summaries = result["summaries"]
    assert [s.as_of for s in summaries] == result["days"] and len(summaries) == 3
    last = summaries[-1]
    assert last.loans > 0 and sum(t.count for t in last.by_category.values()) == last.loans
    # the report reads what the run left: the NPL rows are the run's categories
    npl = {r["key"]: r for r in result["reports"]["npl"]}
    for category, total in last.by_category.items():
        assert npl[category.value]["balance"] == total.balance["CNY"]
    book = sum((t.balance["CNY"] for t in last.by_category.values()), Decimal(0))
    bad = sum((t.balance["CNY"] for c, t in last.by_category.items() if c.is_npl), Decimal(0))
    assert npl["npl_ratio"]["balance"] == bad
    assert npl["npl_ratio"]["share"] == (bad / book).quantize(Decimal("0.0001"))
    (coverage,) = result["reports"]["provisions"]
    assert coverage["provisions"] == last.provisions["CNY"]
    assert Category.NORMAL in last.by_category
    text = console.export_text()
    for heading in ("NPL ratio", "Provision coverage", "Collections pipeline", "Daily run"):
        assert heading in text
    assert "¥" in text


def test_demo_is_deterministic(tmp_path: Path) -> None:
    first = run_demo(
        Console(record=True), customers=30, store_url=f"sqlite:///{tmp_path / 'a.db'}", days=2
    )
    second = run_demo(
        Console(record=True), customers=30, store_url=f"sqlite:///{tmp_path / 'b.db'}", days=2
    )
    assert first["reports"] == second["reports"]
    assert first["summaries"] == second["summaries"]


def test_demo_command_in_chinese_prints_its_store(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        main, ["demo", "--customers", "20", "--days", "1", "--lang", "zh"], catch_exceptions=False
    )
    assert outcome.exit_code == 0, outcome.output
    assert "store: sqlite:///" in outcome.output
    assert "日终监测" in outcome.output and "拨备覆盖率" in outcome.output
