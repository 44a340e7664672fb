from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner
from rich.console import Console

from creditmgmt.cli import main
from creditmgmt.cli.demo import run_walkthrough
from creditmgmt.domain import Money


def test_walkthrough_reports_refusals_and_keeps_invariants() -> None:
    console = Console(record=True, width=120)
    result = run_walkthrough(console)
    assert result["violations"] == []
    refusals = result["refusals"]
    assert isinstance(refusals, list)
    assert [r.split(":")[0] for r in refusals] == [
        "SelfApprovalError",
        "SubLimitExceedsParentError",
        "LimitExceededError",
        "CurrencyMismatchError",
        "FacilityNotActiveError",
    ]
    assert result["max_dpd"] == 91
    assert isinstance(result["group_drawn"], Money)
    text = console.export_text()
    assert "Limits and days past due" in text
    assert "Financial ratios" in text


def test_walkthrough_exercises_the_model_not_a_script() -> None:
    result = run_walkthrough(Console(record=True, width=120))
    # Hangzhou and Suzhou are outside a Shanghai institution's area (异地)
    assert result["remote"] == ["杭州新材料股份有限公司", "苏州物流有限公司"]
    current, debt_assets, coverage, dscr = result["ratios"]  # type: ignore[misc]
    assert (current, debt_assets, coverage, dscr) == (
        Decimal("1.4"),
        Decimal("0.55"),
        Decimal(4),
        Decimal("1.4"),
    )
    # the borrower who stopped (91 DPD) and the one paying half (60 DPD) are red and frozen
    warnings = result["warnings"]
    frozen = result["frozen"]
    assert isinstance(warnings, list) and isinstance(frozen, list)
    assert [severity for _, severity in warnings] == ["red", "red"]
    assert sorted(facility for facility, _ in warnings) == sorted(frozen)
    ltv = result["ltv"]
    assert isinstance(ltv, Decimal) and Decimal(0) < ltv < Decimal(1)
    # what the loans still owe in principal is what the tree says is drawn
    assert result["loans_outstanding"] == result["group_drawn"]


def test_walkthrough_is_deterministic() -> None:
    first = run_walkthrough(Console(record=True, width=120))
    second = run_walkthrough(Console(record=True, width=120))
    assert first == second


def test_demo_command_in_chinese() -> None:
    outcome = CliRunner().invoke(main, ["demo", "--lang", "zh"])
    assert outcome.exit_code == 0, outcome.output
    assert "授信额度与逾期" in outcome.output
    assert "集团授信" in outcome.output
    assert "异地" in outcome.output
    assert "已冻结" in outcome.output
