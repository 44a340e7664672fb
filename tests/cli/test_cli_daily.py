"""`creditmgmt run-daily` and `creditmgmt report` on a SQLite store."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.adapters.stores import open_store
from creditmgmt.cli import main
from creditmgmt.cli.console import PIPED_WIDTH
from creditmgmt.cli.daily import cell, money, report_table
from creditmgmt.testing.book import BookSpec, load

DAY = date(2026, 1, 5)


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'book.db'}"
    store = open_store(url, clock=FixedClock(datetime(2026, 1, 5, tzinfo=UTC)))
    load(store, BookSpec(customers=50, seed=11, as_of=DAY))
    store.close()
    return url


def _run(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return outcome.exit_code, outcome.output


def _daily(store_url: str, as_of: str, *more: str, rules: str = "cn-2023") -> tuple[int, str]:
    """`creditmgmt run-daily` on the store with the rule set, as of the day, with more options."""
    return _run("run-daily", "--store", store_url, "--rules", rules, "--as-of", as_of, *more)


def test_run_daily_prints_a_summary_and_a_rerun_writes_nothing(store_url: str) -> None:
    code, out = _daily(store_url, "2026-01-05")
    assert code == 0, out
    assert "Daily run 2026-01-05 (partition 0/1" in out and "¥" in out
    store = open_store(store_url, clock=FixedClock(datetime(2026, 1, 6, tzinfo=UTC)))
    with store.unit_of_work() as uow:
        before = len(uow.audit.entries())
    store.close()
    code, again = _daily(store_url, "2026-01-05")
    assert code == 0 and again.split("\n")[-20:] == out.split("\n")[-20:]
    store = open_store(store_url, clock=FixedClock(datetime(2026, 1, 6, tzinfo=UTC)))
    with store.unit_of_work() as uow:
        assert len(uow.audit.entries()) == before
    store.close()


def test_run_daily_partition_and_bad_options(store_url: str) -> None:
    code, out = _daily(store_url, "2026-01-06", "--partition", "1/2", "--lang", "zh")
    assert code == 0, out
    assert "日终监测 2026-01-06（分区" in out and "1/2，cn-2023" in out
    code, out = _daily(store_url, "2026-01-06", "--partition", "2/2")
    assert code == 2 and "--partition 2/2" in out
    code, out = _daily(store_url, "2026-01-06", rules="nope")
    assert code == 2 and "'nope'" in out


def test_run_daily_incremental_flag(store_url: str) -> None:
    code, full = _daily(store_url, "2026-01-05")
    assert code == 0, full
    code, quick = _daily(store_url, "2026-01-07", "--incremental")
    assert code == 0, quick
    assert "loans" in quick and "¥" in quick


def test_report_table_and_csv(store_url: str, tmp_path: Path) -> None:
    _daily(store_url, "2026-01-05")
    code, out = _run("report", "npl", "--store", store_url, "--as-of", "2026-01-05")
    assert code == 0, out
    assert "NPL ratio" in out and "%" in out
    code, out = _run("report", "npl", "--store", store_url, "--as-of", "2026-01-05", "--lang", "zh")
    assert "不良率" in out and "正常" in out
    target = tmp_path / "exposure.csv"
    code, out = _run(
        "report", "exposure", "--store", store_url, "--as-of", "2026-01-05", "--csv", str(target)
    )
    assert code == 0 and str(target) in out
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows and all(r["registration id"].startswith("*") for r in rows)
    code, out = _run(
        "report", "exposure", "--store", store_url, "--as-of", "2026-01-05", "--group-by", "hue"
    )
    assert code == 2 and "cannot group by 'hue'" in out


def test_amounts_and_ratios_are_formatted() -> None:
    from decimal import Decimal

    assert money(Decimal("1234567.891"), "CNY") == "¥1,234,567.89 CNY"  # ¥ is shared with JPY
    assert money(Decimal("1234567"), "JPY") == "¥1,234,567 JPY"
    assert cell({"share": Decimal("0.1234")}, "share", "en") == "12.34%"
    assert cell({"drawn": Decimal("5"), "currency": "CNY"}, "drawn", "en") == "¥5.00 CNY"
    assert cell({"breach": True}, "breach", "zh") == "是"
    assert cell({"key": "substandard"}, "key", "zh") == "次级"


#: a known code is labelled; ids, region and industry codes and a rule set's own trigger names
#: are shown as stored, so they can be searched for (not "cus 000000-00639")
KEYS_SHOWN = {
    "en": {
        "rm_call": "relationship manager call",
        "npl_ratio": "NPL ratio",
        "cus_000000-00639": "cus_000000-00639",
        "y_dpd_1_30": "y_dpd_1_30",
        "C3670": "C3670",
    },
    "zh": {
        "special_mention": "关注",
        "npl_ratio": "不良率",
        "grp_000001-00002": "grp_000001-00002",
    },
}


@pytest.mark.parametrize("lang", sorted(KEYS_SHOWN))
def test_report_keys_are_labelled_only_when_they_are_known_codes(lang: str) -> None:
    shown = {key: cell({"key": key}, "key", lang) for key in KEYS_SHOWN[lang]}
    assert shown == KEYS_SHOWN[lang]


def test_piped_report_tables_are_not_cut_to_80_columns(store_url: str) -> None:
    """Output to a pipe (as here) has no terminal to measure: the tables get `PIPED_WIDTH`
    columns instead of rich's 80, so the utilisation table keeps its columns whole."""
    _daily(store_url, "2026-01-05")
    code, out = _run("report", "utilisation", "--store", store_url, "--as-of", "2026-01-05")
    assert code == 0, out
    lines = out.splitlines()
    assert "…" not in out
    assert max(len(line) for line in lines) > 80
    assert all(len(line) <= PIPED_WIDTH for line in lines)


def test_a_narrow_console_folds_report_cells_instead_of_cutting_them() -> None:
    """Rich's default cuts a cell that does not fit to "…": a report would show an amount with
    digits missing. Every cell folds onto more lines instead, so each character is still there."""
    from decimal import Decimal

    from rich.console import Console

    name = "浙江省某某某某某某某某机械制造股份有限公司"
    row = {
        "key": "C-000123456",
        "name": name,
        "exposure": Decimal("123456789.12"),
        "limit": Decimal("223456789.12"),
        "drawn": Decimal("98765432.10"),
        "available": Decimal("124691357.02"),
        "utilisation": Decimal("0.4419"),
        "currency": "CNY",
    }
    narrow = Console(width=60, record=True)
    narrow.print(report_table([row, row], "utilisation"))
    out = narrow.export_text()
    assert "…" not in out
    # the cells folded onto several lines: read each column's text back in line order
    lines = [line.split("│")[1:-1] for line in out.splitlines() if line.startswith("│")]
    columns = ["".join(part.strip() for part in col) for col in zip(*lines, strict=True)]
    assert name + name in columns
    assert "¥123,456,789.12CNY" * 2 in columns
    assert "44.19%" * 2 in columns
