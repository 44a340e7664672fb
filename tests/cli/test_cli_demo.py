from __future__ import annotations

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
    ]
    assert result["max_dpd"] == 91
    assert isinstance(result["group_drawn"], Money)
    assert "Limits and days past due" in console.export_text()


def test_demo_command_in_chinese() -> None:
    outcome = CliRunner().invoke(main, ["demo", "--lang", "zh"])
    assert outcome.exit_code == 0, outcome.output
    assert "授信额度与逾期" in outcome.output
    assert "集团授信" in outcome.output
