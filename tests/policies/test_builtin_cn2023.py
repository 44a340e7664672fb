"""The built-in rule set cn-2023: block contracts and every regulatory boundary of DOMAIN.md."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain.classification import Category
from creditmgmt.domain.money import Money
from creditmgmt.policies import (
    PolicyError,
    PolicyInputError,
    RuleSet,
    UnknownRuleSetError,
    builtin_names,
    builtin_ruleset,
)
from creditmgmt.policies import model as m

D = Decimal
CENT = D("0.01")


@pytest.fixture(scope="module")
def cn() -> RuleSet:
    return builtin_ruleset("cn-2023")


def out(rules: RuleSet, block: str, **inputs: Any) -> dict[str, Any]:
    return dict(rules.evaluate(block, inputs).outputs)


# --- contracts ---------------------------------------------------------------------------

CLASSIFICATION_INPUTS = {
    "dpd",
    "technical_overdue",
    "restructured",
    "restructured_failed",
    "impaired",
    "ecl_ratio",
    "bankrupt",
    "evading",
    "other_npl_at_bank",
    "bureau_npl_share",
}

#: DOMAIN.md "Block contracts of cn-2023": block -> (inputs, outputs), exactly
CONTRACT: dict[str, tuple[set[str], set[str]]] = {
    "classification": (CLASSIFICATION_INPUTS, {"category"}),
    "card_classification": ({"dpd"}, {"category"}),
    "contagion": ({"npl_share"}, {"all_npl"}),
    "provisioning_cn2002": ({"category", "balance"}, {"rate", "provision"}),
    "provisioning_mof2012": ({"category", "balance"}, {"rate", "provision"}),
    "ifrs9_stage": ({"dpd", "sicr", "impaired"}, {"stage"}),
    "ecl": ({"stage", "pd_12m", "pd_lifetime", "lgd", "ead"}, {"ecl"}),
    "master_scale": ({"pd"}, {"grade"}),
    "collections": ({"dpd"}, {"action", "freeze_undrawn"}),
    "review_frequency": ({"grade"}, {"months"}),
}

#: the other blocks the task and DOMAIN.md name (contract documented in their descriptions)
NAMED_BLOCKS = {
    "concentration",
    "remote_customer",
    "early_warning",
    "approval_authority",
    "limit",
}


@pytest.mark.parametrize("block_id", sorted(CONTRACT))
def test_contract_blocks_take_and_give_exactly_the_documented_names(
    cn: RuleSet, block_id: str
) -> None:
    inputs, outputs = CONTRACT[block_id]
    block = cn.blocks[block_id]
    assert set(block.inputs) == inputs
    assert {o.name for o in block.outputs} == outputs


def test_every_named_block_exists_and_is_described(cn: RuleSet) -> None:
    for block_id in {*CONTRACT, *NAMED_BLOCKS}:
        assert block_id in cn.blocks
        assert cn.blocks[block_id].description.strip(), block_id


def test_document_header_is_approved_and_cites_the_regulations(cn: RuleSet) -> None:
    doc = cn.document
    assert (doc.id, doc.status) == ("cn-2023", "approved")
    assert doc.approved_by
    assert doc.effective_from.isoformat() == "2023-07-01"
    for citation in ("2023", "2002", "2012", "2018", "IFRS 9"):
        assert citation in doc.change_note
    assert cn.ref.startswith("cn-2023@1.0.0#")


def test_evaluated_outputs_carry_exactly_the_contract_names(cn: RuleSet) -> None:
    samples: dict[str, dict[str, Any]] = {
        "classification": {"dpd": 0},
        "card_classification": {"dpd": 0},
        "contagion": {"npl_share": "0"},
        "provisioning_cn2002": {"category": "normal", "balance": "1"},
        "provisioning_mof2012": {"category": "normal", "balance": "1"},
        "ifrs9_stage": {"dpd": 0, "sicr": False, "impaired": False},
        "ecl": {"stage": 1, "pd_12m": "0.01", "pd_lifetime": "0.02", "lgd": "0.4", "ead": "1"},
        "master_scale": {"pd": "0.01"},
        "collections": {"dpd": 0},
        "review_frequency": {"grade": "BBB"},
    }
    for block_id, inputs in samples.items():
        assert set(cn.evaluate(block_id, inputs).outputs) == CONTRACT[block_id][1]


# --- classification ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "technical", "expected"),
    [
        (0, False, "normal"),
        (0, True, "normal"),
        (1, False, "special_mention"),
        (1, True, "normal"),
        (7, True, "normal"),  # technical overdue of up to 7 days is exempt
        (7, False, "special_mention"),
        (8, True, "special_mention"),  # more than 7 days is never technical
        (8, False, "special_mention"),
        (90, False, "special_mention"),
        (91, False, "substandard"),  # > 90 means 91 or more
        (91, True, "substandard"),
        (270, False, "substandard"),
        (271, False, "doubtful"),
        (360, False, "doubtful"),
        (361, False, "loss"),
        (5000, False, "loss"),
    ],
)
def test_classification_dpd_boundaries(
    cn: RuleSet, dpd: int, technical: bool, expected: str
) -> None:
    assert out(cn, "classification", dpd=dpd, technical_overdue=technical)["category"] == expected


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"restructured": True}, "special_mention"),
        ({"other_npl_at_bank": True}, "special_mention"),
        ({"impaired": True}, "substandard"),
        ({"restructured_failed": True}, "substandard"),
        ({"bureau_npl_share": "0.20"}, "normal"),  # exactly 20% does not trigger
        ({"bureau_npl_share": "0.2000001"}, "substandard"),
        ({"impaired": True, "ecl_ratio": "0.4999"}, "substandard"),
        ({"impaired": True, "ecl_ratio": "0.50"}, "doubtful"),
        ({"impaired": True, "ecl_ratio": "0.8999"}, "doubtful"),
        ({"impaired": True, "ecl_ratio": "0.90"}, "loss"),
        ({"impaired": False, "ecl_ratio": "0.95"}, "normal"),  # the ratio needs impairment
        ({"evading": True}, "doubtful"),
        ({"bankrupt": True}, "loss"),
        ({"restructured": True, "evading": True}, "doubtful"),  # worst floor wins
        ({"bankrupt": True, "restructured": True, "other_npl_at_bank": True}, "loss"),
    ],
)
def test_classification_flag_floors(cn: RuleSet, flags: dict[str, Any], expected: str) -> None:
    assert out(cn, "classification", dpd=0, **flags)["category"] == expected


def test_classification_reports_every_floor_that_applied(cn: RuleSet) -> None:
    decision = cn.evaluate("classification", {"dpd": 300, "restructured": True})
    assert decision.outputs["category"] == "doubtful"
    assert set(decision.matched) == {
        "normal",
        "sm_overdue",
        "sm_restructured",
        "ss_dpd_over_90",
        "d_dpd_over_270",
    }


def test_classification_refuses_bad_inputs_by_name(cn: RuleSet) -> None:
    with pytest.raises(PolicyInputError, match="dpd"):
        cn.evaluate("classification", {"technical_overdue": True})
    with pytest.raises(PolicyInputError, match="ecl_ratio"):
        cn.evaluate("classification", {"dpd": 0, "ecl_ratio": "1.5"})
    with pytest.raises(PolicyInputError, match="dpd"):
        cn.evaluate("classification", {"dpd": -1})
    with pytest.raises(PolicyInputError, match="colour"):
        cn.evaluate("classification", {"dpd": 0, "colour": "red"})


def reference_category(
    *,
    dpd: int,
    technical_overdue: bool,
    restructured: bool,
    restructured_failed: bool,
    impaired: bool,
    ecl_ratio: Decimal,
    bankrupt: bool,
    evading: bool,
    other_npl_at_bank: bool,
    bureau_npl_share: Decimal,
) -> Category:
    """DOMAIN.md's classification rules, written out by hand."""
    floors = [Category.NORMAL]
    exempt = technical_overdue and dpd <= 7
    if (dpd >= 1 and not exempt) or restructured or other_npl_at_bank:
        floors.append(Category.SPECIAL_MENTION)
    if dpd > 90 or impaired or restructured_failed or bureau_npl_share > D("0.20"):
        floors.append(Category.SUBSTANDARD)
    if dpd > 270 or (impaired and ecl_ratio >= D("0.50")) or evading:
        floors.append(Category.DOUBTFUL)
    if dpd > 360 or (impaired and ecl_ratio >= D("0.90")) or bankrupt:
        floors.append(Category.LOSS)
    return Category.worst(*floors)


DPD_EDGES = [0, 1, 7, 8, 90, 91, 270, 271, 360, 361]
RATIO_EDGES = [D(x) for x in ("0", "0.2", "0.2000001", "0.4999999", "0.5", "0.8999999", "0.9", "1")]
ratios = st.one_of(
    st.sampled_from(RATIO_EDGES),
    st.decimals(min_value=0, max_value=1, places=7, allow_nan=False, allow_infinity=False),
)


@given(
    dpd=st.one_of(st.sampled_from(DPD_EDGES), st.integers(min_value=0, max_value=3000)),
    technical_overdue=st.booleans(),
    restructured=st.booleans(),
    restructured_failed=st.booleans(),
    impaired=st.booleans(),
    ecl_ratio=ratios,
    bankrupt=st.booleans(),
    evading=st.booleans(),
    other_npl_at_bank=st.booleans(),
    bureau_npl_share=ratios,
)
def test_classification_agrees_with_a_hand_written_reference(**inputs: Any) -> None:
    rules = builtin_ruleset("cn-2023")
    got = rules.evaluate("classification", inputs).outputs["category"]
    assert Category(got) == reference_category(**inputs)


# --- credit cards, contagion, NPL upgrade, restructuring ----------------------------------


@pytest.mark.parametrize(
    ("dpd", "expected"),
    [
        (0, "normal"),
        (1, "special_mention"),
        (90, "special_mention"),
        (91, "substandard"),
        (120, "substandard"),
        (121, "doubtful"),
        (180, "doubtful"),
        (181, "loss"),
        (10_000, "loss"),
    ],
)
def test_card_classification_ladder(cn: RuleSet, dpd: int, expected: str) -> None:
    assert out(cn, "card_classification", dpd=dpd)["category"] == expected


@pytest.mark.parametrize(
    ("share", "all_npl"),
    [
        ("0", False),
        ("0.0999999", False),
        ("0.10", False),  # exactly 10% does not trigger
        ("0.1000001", True),
        ("1", True),
    ],
)
def test_contagion_more_than_ten_percent(cn: RuleSet, share: str, all_npl: bool) -> None:
    assert out(cn, "contagion", npl_share=share)["all_npl"] is all_npl


@pytest.mark.parametrize(
    ("repaid", "periods", "months", "impaired_left", "expected"),
    [
        (True, 2, 6, False, True),
        (True, 1, 6, False, False),  # two periods at least
        (True, 2, 5, False, False),  # and six months at least
        (True, 12, 12, True, False),  # no impaired asset may remain at the bank
        (False, 12, 12, False, False),  # arrears first
    ],
)
def test_npl_upgrade_conditions(
    cn: RuleSet, repaid: bool, periods: int, months: int, impaired_left: bool, expected: bool
) -> None:
    result = out(
        cn,
        "npl_upgrade",
        arrears_repaid=repaid,
        periods_paid_normally=periods,
        months_paid_normally=months,
        impaired_asset_at_bank=impaired_left,
    )
    assert result["may_upgrade"] is expected


@pytest.mark.parametrize(
    ("periods", "months", "complete"),
    [(2, 12, True), (1, 12, False), (2, 11, False), (24, 24, True)],
)
def test_restructuring_observation_two_periods_and_a_year(
    cn: RuleSet, periods: int, months: int, complete: bool
) -> None:
    result = out(
        cn, "restructuring_observation", periods_paid_normally=periods, months_paid_normally=months
    )
    assert result["complete"] is complete


# --- provisioning ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "category", "balance", "rate", "provision"),
    [
        ("provisioning_cn2002", "normal", "1000000.00", "0", "0.00"),
        ("provisioning_cn2002", "special_mention", "100.25", "0.02", "2.00"),  # 2.005 → 2.00
        ("provisioning_cn2002", "special_mention", "100.75", "0.02", "2.02"),  # 2.015 → 2.02
        ("provisioning_cn2002", "substandard", "0.02", "0.25", "0.00"),  # 0.005 → 0.00
        ("provisioning_cn2002", "substandard", "0.06", "0.25", "0.02"),  # 0.015 → 0.02
        ("provisioning_cn2002", "substandard", "1000000.00", "0.25", "250000.00"),
        ("provisioning_cn2002", "doubtful", "0.01", "0.50", "0.00"),  # 0.005 → 0.00
        ("provisioning_cn2002", "doubtful", "0.03", "0.50", "0.02"),  # 0.015 → 0.02
        ("provisioning_cn2002", "loss", "1234567.89", "1", "1234567.89"),
        ("provisioning_mof2012", "normal", "1.00", "0.015", "0.02"),  # 0.015 → 0.02
        ("provisioning_mof2012", "normal", "3.00", "0.015", "0.04"),  # 0.045 → 0.04
        ("provisioning_mof2012", "normal", "0.33", "0.015", "0.00"),  # 0.00495
        ("provisioning_mof2012", "normal", "1000000.00", "0.015", "15000.00"),
        ("provisioning_mof2012", "special_mention", "0.50", "0.03", "0.02"),  # 0.015 → 0.02
        ("provisioning_mof2012", "special_mention", "1.50", "0.03", "0.04"),  # 0.045 → 0.04
        ("provisioning_mof2012", "substandard", "0.05", "0.30", "0.02"),  # 0.015 → 0.02
        ("provisioning_mof2012", "substandard", "0.15", "0.30", "0.04"),  # 0.045 → 0.04
        ("provisioning_mof2012", "doubtful", "0.01", "0.60", "0.01"),  # 0.006
        ("provisioning_mof2012", "doubtful", "1234567.89", "0.60", "740740.73"),  # …734
        ("provisioning_mof2012", "loss", "100.00", "1", "100.00"),
    ],
)
def test_provision_to_the_cent_half_even(
    cn: RuleSet, block: str, category: str, balance: str, rate: str, provision: str
) -> None:
    result = out(cn, block, category=category, balance=balance)
    assert result["rate"] == D(rate)
    assert result["provision"] == D(provision)
    assert result["provision"].as_tuple().exponent == -2


def test_provisioning_takes_money_and_domain_categories(cn: RuleSet) -> None:
    result = out(
        cn,
        "provisioning_mof2012",
        category=Category.SUBSTANDARD,
        balance=Money.of("200.00", "CNY"),
    )
    assert result == {"rate": D("0.30"), "provision": D("60.00")}


@given(
    category=st.sampled_from([c.value for c in Category]),
    balance=st.decimals(min_value=0, max_value=10**12, places=2),
    block=st.sampled_from(["provisioning_cn2002", "provisioning_mof2012"]),
)
def test_provision_is_balance_times_rate_rounded_half_even(
    category: str, balance: Decimal, block: str
) -> None:
    rates = {
        "provisioning_cn2002": dict(zip(Category, ("0", "0.02", "0.25", "0.50", "1"), strict=True)),
        "provisioning_mof2012": dict(
            zip(Category, ("0.015", "0.03", "0.30", "0.60", "1"), strict=True)
        ),
    }
    rate = D(rates[block][Category(category)])
    result = builtin_ruleset("cn-2023").evaluate(block, {"category": category, "balance": balance})
    assert result.outputs["rate"] == rate
    assert result.outputs["provision"] == (balance * rate).quantize(CENT, ROUND_HALF_EVEN)


@pytest.mark.parametrize(
    ("loans", "reserve"),
    [("1000000.00", "10000.00"), ("100.50", "1.00"), ("101.50", "1.02")],  # 1.005, 1.015
)
def test_general_reserve_cn2002_is_one_percent_of_loans(
    cn: RuleSet, loans: str, reserve: str
) -> None:
    assert out(cn, "general_reserve_cn2002", loan_balance=loans)["general_reserve"] == D(reserve)


@pytest.mark.parametrize(
    ("estimate", "allowance", "risk_assets", "reserve"),
    [
        ("500.00", "400.00", "10000.00", "150.00"),  # 1.5% of risk assets is the larger
        ("900.00", "400.00", "10000.00", "500.00"),  # estimate − allowance is the larger
        ("100.00", "400.00", "10000.00", "150.00"),  # a negative difference never wins
        ("0", "0", "100.30", "1.50"),  # 1.5045 → 1.50
    ],
)
def test_general_reserve_mof2012(
    cn: RuleSet, estimate: str, allowance: str, risk_assets: str, reserve: str
) -> None:
    result = out(
        cn,
        "general_reserve_mof2012",
        standard_estimate=estimate,
        impairment_allowance=allowance,
        risk_assets=risk_assets,
    )
    assert result["general_reserve"] == D(reserve)


@pytest.mark.parametrize(
    ("provisions", "floors", "coverage_ok", "ratio_ok", "required", "shortfall"),
    [
        # NPL 200, loans 10,000: coverage 150% → 300; provision ratio 2.5% → 250
        ("300.00", {}, True, True, "300.00", "0.00"),
        ("299.99", {}, False, True, "300.00", "0.01"),
        ("249.99", {}, False, False, "300.00", "50.01"),
        ("240.00", {"coverage_floor": "1.20"}, True, False, "250.00", "10.00"),
        (
            "240.00",
            {"coverage_floor": "1.20", "provision_ratio_floor": "0.015"},
            True,
            True,
            "240.00",
            "0.00",
        ),
    ],
)
def test_provision_adequacy_coverage_and_provision_ratio(
    cn: RuleSet,
    provisions: str,
    floors: dict[str, str],
    coverage_ok: bool,
    ratio_ok: bool,
    required: str,
    shortfall: str,
) -> None:
    result = out(
        cn,
        "provision_adequacy",
        provisions=provisions,
        npl_balance="200.00",
        loan_balance="10000.00",
        **floors,
    )
    assert (result["coverage_ok"], result["provision_ratio_ok"]) == (coverage_ok, ratio_ok)
    assert (result["required"], result["shortfall"]) == (D(required), D(shortfall))


def test_provision_floors_stay_in_the_2018_bands(cn: RuleSet) -> None:
    book = {"provisions": "1", "npl_balance": "1", "loan_balance": "1"}
    with pytest.raises(PolicyInputError, match="coverage_floor"):
        cn.evaluate("provision_adequacy", {**book, "coverage_floor": "1.19"})
    with pytest.raises(PolicyInputError, match="provision_ratio_floor"):
        cn.evaluate("provision_adequacy", {**book, "provision_ratio_floor": "0.03"})


# --- IFRS 9 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "sicr", "impaired", "stage"),
    [
        (0, False, False, 1),
        (30, False, False, 1),
        (31, False, False, 2),  # > 30
        (90, False, False, 2),
        (91, False, False, 3),  # > 90
        (0, True, False, 2),
        (30, True, False, 2),
        (0, False, True, 3),
        (0, True, True, 3),
        (91, True, False, 3),
        (45, False, True, 3),
    ],
)
def test_ifrs9_stage(cn: RuleSet, dpd: int, sicr: bool, impaired: bool, stage: int) -> None:
    result = out(cn, "ifrs9_stage", dpd=dpd, sicr=sicr, impaired=impaired)
    assert result["stage"] == stage
    assert isinstance(result["stage"], int)


@pytest.mark.parametrize(
    ("stage", "pd_12m", "pd_lifetime", "lgd", "ead", "ecl"),
    [
        (1, "0.02", "0.10", "0.45", "1000.00", "9.00"),  # 12-month PD
        (2, "0.02", "0.10", "0.45", "1000.00", "45.00"),  # lifetime PD
        (3, "0.02", "0.10", "0.45", "1000.00", "450.00"),  # PD = 1
        (1, "0.001", "0.5", "0.5", "5.00", "0.00"),  # 0.0025
        (1, "0.001", "0.5", "0.5", "15.00", "0.01"),  # 0.0075 → 0.01
        (1, "0.001", "0.5", "0.5", "25.00", "0.01"),  # 0.0125 → 0.01 (half-even)
        (1, "0.001", "0.5", "0.5", "35.00", "0.02"),  # 0.0175 → 0.02
        (2, "0.9", "0.0123", "0.37", "987654.32", "4494.81"),  # 4494.8148...
        (3, "0", "0", "0.375", "0.10", "0.04"),  # 0.0375
    ],
)
def test_ecl_per_stage(
    cn: RuleSet, stage: int, pd_12m: str, pd_lifetime: str, lgd: str, ead: str, ecl: str
) -> None:
    result = out(cn, "ecl", stage=stage, pd_12m=pd_12m, pd_lifetime=pd_lifetime, lgd=lgd, ead=ead)
    assert result["ecl"] == D(ecl)
    assert result["ecl"].as_tuple().exponent == -2


def test_ecl_stage_is_one_two_or_three(cn: RuleSet) -> None:
    inputs = {"pd_12m": "0.1", "pd_lifetime": "0.2", "lgd": "0.5", "ead": "1"}
    with pytest.raises(PolicyInputError, match="stage"):
        cn.evaluate("ecl", {"stage": 4, **inputs})


def reference_by_dpd(dpd: int, sicr: bool, impaired: bool) -> tuple[int, str, str, bool]:
    """Stage, card category, collections action and freeze, written out from DOMAIN.md."""
    stage = 3 if dpd > 90 or impaired else (2 if dpd > 30 or sicr else 1)
    card = (
        "normal"
        if dpd == 0
        else "special_mention"
        if dpd <= 90
        else "substandard"
        if dpd <= 120
        else "doubtful"
        if dpd <= 180
        else "loss"
    )
    ladder = [(0, "none"), (1, "reminder"), (8, "rm_call"), (31, "formal_notice")]
    ladder += [(61, "final_demand"), (91, "legal"), (361, "write_off_review")]
    action = [name for start, name in ladder if dpd >= start][-1]
    return stage, card, action, dpd >= 31


@given(
    dpd=st.one_of(
        st.sampled_from([0, 1, 7, 8, 30, 31, 60, 61, 90, 91, 120, 121, 180, 181, 360, 361]),
        st.integers(min_value=0, max_value=5000),
    ),
    sicr=st.booleans(),
    impaired=st.booleans(),
)
def test_dpd_driven_blocks_agree_with_a_reference(dpd: int, sicr: bool, impaired: bool) -> None:
    rules = builtin_ruleset("cn-2023")
    stage, card, action, freeze = reference_by_dpd(dpd, sicr, impaired)
    got_stage = rules.evaluate("ifrs9_stage", {"dpd": dpd, "sicr": sicr, "impaired": impaired})
    assert got_stage["stage"] == stage
    assert rules.evaluate("card_classification", {"dpd": dpd})["category"] == card
    collections = rules.evaluate("collections", {"dpd": dpd}).outputs
    assert (collections["action"], collections["freeze_undrawn"]) == (action, freeze)


# --- concentration -----------------------------------------------------------------------

CAPITAL = {"net_capital": "1000000.00", "tier1_net": "800000.00"}


def concentration(cn: RuleSet, kind: str, exposure: str, loans: str = "0") -> dict[str, Any]:
    return out(
        cn, "concentration", counterparty_kind=kind, exposure=exposure, loans=loans, **CAPITAL
    )


@pytest.mark.parametrize(
    ("exposure", "large"),
    [("0", False), ("19999.99", False), ("20000.00", False), ("20000.01", True)],
)
def test_large_exposure_is_more_than_2_5_percent_of_tier1(
    cn: RuleSet, exposure: str, large: bool
) -> None:
    for kind in ("customer", "group", "interbank"):
        assert concentration(cn, kind, exposure)["is_large_exposure"] is large


@pytest.mark.parametrize(
    ("kind", "cap", "limit"),
    [
        ("customer", "120000.00", "120000.00"),
        ("group", "160000.00", "160000.00"),
        ("interbank", "200000.00", "200000.00"),
    ],
)
def test_large_exposure_caps_15_20_25_percent_of_tier1(
    cn: RuleSet, kind: str, cap: str, limit: str
) -> None:
    at_cap = concentration(cn, kind, cap)
    assert at_cap["limit"] == D(limit)
    assert (at_cap["le_breach"], at_cap["breach"]) == (False, False)
    assert at_cap["headroom"] == D("0.00")
    over = concentration(cn, kind, str(D(cap) + CENT))
    assert (over["le_breach"], over["breach"]) == (True, True)
    assert over["headroom"] == D("-0.01")


@pytest.mark.parametrize(
    ("kind", "core_cap"),
    [("customer", "100000.00"), ("group", "150000.00")],  # 10% / 15% of net capital
)
def test_core_indicator_caps_of_net_capital(cn: RuleSet, kind: str, core_cap: str) -> None:
    at_cap = concentration(cn, kind, "0", loans=core_cap)
    assert (at_cap["core_breach"], at_cap["breach"]) == (False, False)
    over = concentration(cn, kind, "0", loans=str(D(core_cap) + CENT))
    assert (over["core_breach"], over["le_breach"], over["breach"]) == (True, False, True)
    assert over["headroom"] == D("-0.01")


def test_core_indicators_do_not_apply_to_interbank(cn: RuleSet) -> None:
    result = concentration(cn, "interbank", "1000.00", loans="999999999")
    assert result["core_breach"] is False
    assert result["headroom"] == D("199000.00")


def test_headroom_is_the_tighter_of_the_caps(cn: RuleSet) -> None:
    # customer: large-exposure room 120,000 − 50,000; core room 100,000 − 90,000
    assert concentration(cn, "customer", "50000", loans="90000")["headroom"] == D("10000.00")
    assert concentration(cn, "customer", "110000", loans="0")["headroom"] == D("10000.00")


# --- remote customers --------------------------------------------------------------------

REMOTE_OK = {
    "grade": "A",
    "requested_limit": "500000.00",
    "comparable_local_limit": "1000000.00",
    "secured": False,
    "internet_loan": False,
    "lender_local_incorporated": True,
    "remote_book_share": "0.20",
}


@pytest.mark.parametrize(
    ("change", "eligible", "reason"),
    [
        ({}, True, "ok"),  # 50% of the local limit and 20% of the book are still within
        ({"grade": "BBB", "secured": True}, True, "ok"),
        ({"grade": "BBB"}, False, "unsecured_below_a"),  # below A needs security
        ({"grade": "BB", "secured": True}, False, "grade_below_bbb"),
        ({"grade": "AAA", "internet_loan": True}, False, "internet_loan_out_of_region"),
        ({"internet_loan": True, "lender_local_incorporated": False}, True, "ok"),
        ({"requested_limit": "500000.01"}, False, "over_local_share"),
        ({"remote_book_share": "0.2000001"}, False, "remote_book_over_20pct"),
    ],
)
def test_remote_customer_rules(
    cn: RuleSet, change: dict[str, Any], eligible: bool, reason: str
) -> None:
    result = out(cn, "remote_customer", **{**REMOTE_OK, **change})
    assert (result["eligible"], result["reason"]) == (eligible, reason)
    assert result["max_limit"] == D("500000.00")
    assert result["review_months"] == 3
    grade = {**REMOTE_OK, **change}["grade"]
    assert result["collateral_required"] is (grade not in ("AAA", "AA", "A"))


# --- collections -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpd", "action", "freeze"),
    [
        (0, "none", False),
        (1, "reminder", False),
        (7, "reminder", False),
        (8, "rm_call", False),
        (30, "rm_call", False),
        (31, "formal_notice", True),  # undrawn limits frozen from 31 days
        (60, "formal_notice", True),
        (61, "final_demand", True),
        (90, "final_demand", True),
        (91, "legal", True),
        (360, "legal", True),
        (361, "write_off_review", True),
    ],
)
def test_collections_ladder(cn: RuleSet, dpd: int, action: str, freeze: bool) -> None:
    assert out(cn, "collections", dpd=dpd) == {"action": action, "freeze_undrawn": freeze}


# --- early warning -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("inputs", "fired"),
    [
        ({"dpd": 0}, set()),
        (
            {
                "dpd": 0,
                "utilisation_me1": "0.9001",
                "utilisation_me2": "0.95",
                "utilisation_me3": "1.2",
            },
            {"y_utilisation_3_month_ends"},
        ),
        (
            {
                "dpd": 0,
                "utilisation_me1": "0.95",
                "utilisation_me2": "0.90",  # exactly 90% is not above
                "utilisation_me3": "0.95",
            },
            set(),
        ),
        ({"dpd": 0, "utilisation_me1": "0.99", "utilisation_me2": "0.99"}, set()),
        ({"dpd": 0, "rating_notches_down_12m": 1}, set()),
        ({"dpd": 0, "rating_notches_down_12m": 2}, {"y_rating_down_2_notches"}),
        ({"dpd": 0, "rating_notches_down_12m": -3}, set()),
        ({"dpd": 0, "covenant_breach": True}, {"y_covenant_breach"}),
        ({"dpd": 1}, {"y_dpd_1_30"}),
        ({"dpd": 30}, {"y_dpd_1_30"}),
        ({"dpd": 31}, {"r_dpd_over_30"}),
        ({"dpd": 0, "revenue_change_yoy": "-0.2999"}, set()),
        ({"dpd": 0, "revenue_change_yoy": "-0.30"}, {"y_revenue_down_30pct"}),
        ({"dpd": 0, "overdue_at_other_bank": True}, {"r_overdue_other_bank"}),
        (
            {"dpd": 0, "litigation_amount": "99999.99", "net_assets": "1000000"},
            set(),
        ),
        (
            {"dpd": 0, "litigation_amount": "100000.00", "net_assets": "1000000"},
            {"r_litigation_10pct_net_assets"},
        ),
        (
            {"dpd": 0, "litigation_amount": "1.00", "net_assets": "-5"},
            {"r_litigation_10pct_net_assets"},
        ),
        ({"dpd": 0, "litigation_amount": "0", "net_assets": "-5"}, set()),
        ({"dpd": 0, "key_person_changed": True}, {"r_key_person_change"}),
        ({"dpd": 0, "external_rating": "BBB"}, set()),
        ({"dpd": 0, "external_rating": "BB"}, {"r_external_below_investment_grade"}),
        ({"dpd": 0, "external_rating": "D"}, {"r_external_below_investment_grade"}),
        ({"dpd": 0, "external_rating": "unrated"}, set()),
    ],
)
def test_early_warning_triggers(cn: RuleSet, inputs: dict[str, Any], fired: set[str]) -> None:
    decision = cn.evaluate("early_warning", inputs)
    assert set(decision.matched) == fired
    assert {f["id"] for f in decision.outputs["fired"]} == fired
    assert decision.outputs["count"] == len(fired)
    severities = {f["severity"] for f in decision.outputs["fired"]}
    expected = "red" if "red" in severities else ("yellow" if severities else "none")
    assert decision.outputs["severity"] == expected


def test_every_trigger_has_id_severity_and_reason_code(cn: RuleSet) -> None:
    block = cn.blocks["early_warning"]
    assert isinstance(block, m.TriggerSet)
    by_severity: dict[str, int] = {}
    for trigger in block.triggers:
        assert trigger.severity in ("yellow", "red")
        assert trigger.reason.startswith("EW_") and trigger.reason.isupper()
        by_severity[trigger.severity] = by_severity.get(trigger.severity, 0) + 1
    assert by_severity == {"yellow": 5, "red": 5}
    assert len({t.reason for t in block.triggers}) == len(block.triggers)


def test_worst_severity_wins_and_red_freezes_and_reviews_in_5_days(cn: RuleSet) -> None:
    decision = cn.evaluate("early_warning", {"dpd": 12, "key_person_changed": True})
    assert decision.outputs["severity"] == "red"
    assert decision.outputs["count"] == 2
    response = out(cn, "early_warning_response", severity=decision.outputs["severity"])
    assert response == {
        "freeze_undrawn": True,
        "review_required": True,
        "review_within_business_days": 5,
    }
    assert out(cn, "early_warning_response", severity="yellow")["freeze_undrawn"] is False
    assert out(cn, "early_warning_response", severity="none")["review_required"] is False


# --- master scale, review frequency, approval authority ----------------------------------

GRADES = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"]


@pytest.mark.parametrize(
    ("pd", "grade"),
    [
        ("0", "AAA"),  # floored at 0.03%
        ("0.0003", "AAA"),
        ("0.000499", "AAA"),
        ("0.0005", "AA"),  # bands are half-open [from, to)
        ("0.000999", "AA"),
        ("0.0010", "A"),
        ("0.002499", "A"),
        ("0.0025", "BBB"),
        ("0.007499", "BBB"),
        ("0.0075", "BB"),
        ("0.024999", "BB"),
        ("0.025", "B"),
        ("0.049999", "B"),
        ("0.05", "CCC"),
        ("0.099999", "CCC"),
        ("0.10", "CC"),
        ("0.299999", "CC"),
        ("0.30", "C"),
        ("0.999999", "C"),
        ("1", "D"),
    ],
)
def test_master_scale_band_edges(cn: RuleSet, pd: str, grade: str) -> None:
    assert out(cn, "master_scale", pd=pd)["grade"] == grade


def test_master_scale_floors_pd_at_three_basis_points(cn: RuleSet) -> None:
    decision = cn.evaluate("master_scale", {"pd": "0.0001"}, trace=True)
    assert decision.trace is not None
    assert decision.trace.steps[0]["pd_used"] == D("0.0003")


def test_master_scale_grades_are_the_grade_input_values_in_order(cn: RuleSet) -> None:
    scale = cn.blocks["master_scale"]
    assert isinstance(scale, m.MasterScale)
    assert [g.grade for g in scale.grades] == GRADES == list(cn.document.inputs["grade"].values)
    assert sum(not g.is_default for g in scale.grades) >= 7
    assert [g.grade for g in scale.grades if g.is_default] == ["D"]


@pytest.mark.parametrize(
    ("grade", "months"),
    [("AAA", 12), ("BBB", 12), ("BB", 6), ("B", 6), ("CCC", 3), ("C", 3), ("D", 1)],
)
def test_review_frequency(cn: RuleSet, grade: str, months: int) -> None:
    assert out(cn, "review_frequency", grade=grade)["months"] == months


def test_review_is_never_less_frequent_for_a_worse_grade(cn: RuleSet) -> None:
    months = [out(cn, "review_frequency", grade=g)["months"] for g in GRADES]
    assert months == sorted(months, reverse=True)


LEVELS = ["branch", "regional", "head_office_committee", "board"]
AMOUNTS = [
    "0",
    "4999999.99",
    "5000000",
    "19999999.99",
    "20000000",
    "99999999.99",
    "100000000",
    "499999999.99",
    "500000000",
    "10000000000",
]


@pytest.mark.parametrize(
    ("amount", "grade", "level"),
    [
        ("4999999.99", "AAA", "branch"),
        ("5000000", "AAA", "regional"),
        ("4999999.99", "BB", "regional"),
        ("4999999.99", "D", "head_office_committee"),
        ("5000000", "D", "board"),
        ("20000000", "BBB", "head_office_committee"),
        ("99999999.99", "A", "regional"),
        ("100000000", "A", "head_office_committee"),
        ("500000000", "AAA", "board"),
    ],
)
def test_approval_authority_band_edges(cn: RuleSet, amount: str, grade: str, level: str) -> None:
    assert out(cn, "approval_authority", amount=amount, grade=grade)["level"] == level


def test_approval_level_never_falls_for_more_money_or_a_worse_grade(cn: RuleSet) -> None:
    grid = [
        [LEVELS.index(out(cn, "approval_authority", amount=a, grade=g)["level"]) for g in GRADES]
        for a in AMOUNTS
    ]
    for row in grid:
        assert row == sorted(row)
    for column in zip(*grid, strict=True):
        assert list(column) == sorted(column)
    assert {level for row in grid for level in row} == set(range(len(LEVELS)))


# --- limit -------------------------------------------------------------------------------

FIRM = {
    "revenue": "10000000.00",
    "ebitda": "2000000.00",
    "existing_debt": "3000000.00",
    "collateral_type": "real_estate",
    "collateral_value": "1000000.00",
}


def test_limit_worked_example(cn: RuleSet) -> None:
    # A: min(10m × 25%, 2m × 3.5 − 3m) = 2.5m unsecured; 1m × 70% secured
    assert out(cn, "limit", grade="A", **FIRM) == {
        "limit": D("3200000.00"),
        "unsecured": D("2500000.00"),
        "secured": D("700000.00"),
    }


def test_limit_is_bounded_by_debt_capacity(cn: RuleSet) -> None:
    # BB: min(10m × 15% = 1.5m, 2m × 2.5 − 3m = 2m) → 1.5m; B: min(1m, 2m × 2 − 3m = 1m)
    assert out(cn, "limit", grade="BB", **FIRM)["unsecured"] == D("1500000.00")
    heavy = {**FIRM, "existing_debt": "3500000.00"}
    assert out(cn, "limit", grade="B", **heavy)["unsecured"] == D("500000.00")


def test_weak_grades_and_losses_lend_against_collateral_only(cn: RuleSet) -> None:
    assert out(cn, "limit", grade="CCC", **FIRM)["limit"] == D("700000.00")
    loss_making = {**FIRM, "ebitda": "-500000", "collateral_type": "deposit"}
    assert out(cn, "limit", grade="AAA", **loss_making) == {
        "limit": D("900000.00"),
        "unsecured": D("0.00"),
        "secured": D("900000.00"),
    }
    assert out(cn, "limit", grade="D", **FIRM)["limit"] == 0


def test_limit_never_grows_for_a_worse_grade(cn: RuleSet) -> None:
    limits = [out(cn, "limit", grade=g, **FIRM)["limit"] for g in GRADES]
    assert limits == sorted(limits, reverse=True)


# --- packaging -----------------------------------------------------------------------------


def test_builtin_names_and_caching() -> None:
    names = builtin_names()
    assert {"basel-lex", "cn-2023"} <= set(names)
    assert list(names) == sorted(names)
    assert builtin_ruleset("cn-2023") is builtin_ruleset("cn-2023")
    for name in builtin_names():
        assert builtin_ruleset(name).id == name


def test_unknown_builtin_names_the_name_and_the_choices() -> None:
    with pytest.raises(UnknownRuleSetError, match=r"'cn-2024'.*basel-lex, cn-2023") as info:
        builtin_ruleset("cn-2024")
    assert isinstance(info.value, PolicyError)
    with pytest.raises(UnknownRuleSetError):
        builtin_ruleset("../cn-2023")


@pytest.mark.parametrize("name", ["cn-2023", "basel-lex"])
def test_builtin_rule_sets_are_approved_and_check_clean(name: str) -> None:
    rules = builtin_ruleset(name)
    assert rules.status == "approved"
    findings = rules.check()
    errors = [str(f) for f in findings if f.severity == "error"]
    assert errors == []


def test_builtins_load_from_a_zipped_package(tmp_path: Path) -> None:
    """As from a wheel: the files are package resources, not paths next to the module."""
    import creditmgmt

    package = Path(creditmgmt.__file__).parent
    archive = tmp_path / "creditmgmt.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in package.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                zf.write(file, Path("creditmgmt") / file.relative_to(package))
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import creditmgmt.policies.builtin as b;"
        "assert b.__file__.startswith(sys.argv[1]), b.__file__;"
        "r = b.builtin_ruleset('cn-2023');"
        "print(b.builtin_names(), r.evaluate('classification', {'dpd': 91})['category'])"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(archive)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "('basel-lex', 'cn-2023') substandard"


def test_the_docs_show_the_scorecard_bins_as_shipped() -> None:
    """docs/policies.md's calibration table is the block's bins, row for row."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text("utf-8")
    shown = re.findall(r"^\| `(\w+)` \| `([^`]+)` \| (-?\d+) \|$", text, re.M)
    block = builtin_ruleset("cn-2023").blocks["scorecard"]
    shipped = [
        (c.input, b.cell.text, str(b.points))
        for c in block.characteristics  # type: ignore[attr-defined]
        for b in c.bins
    ]
    assert shown == shipped
