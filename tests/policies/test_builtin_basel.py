"""The built-in rule set basel-lex: Basel large exposures as an alternative `concentration`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from creditmgmt.policies import PolicyInputError, RuleSet, builtin_ruleset

D = Decimal
TIER1 = "800000.00"


@pytest.fixture(scope="module")
def basel() -> RuleSet:
    return builtin_ruleset("basel-lex")


def lex(
    rules: RuleSet, exposure: str, *, lender_gsib: bool = False, counterparty_gsib: bool = False
) -> dict[str, Any]:
    inputs = {
        "exposure": exposure,
        "tier1_net": TIER1,
        "lender_gsib": lender_gsib,
        "counterparty_gsib": counterparty_gsib,
    }
    return dict(rules.evaluate("concentration", inputs).outputs)


def test_header_is_approved_and_cites_the_framework(basel: RuleSet) -> None:
    doc = basel.document
    assert (doc.id, doc.status) == ("basel-lex", "approved")
    assert doc.approved_by
    assert "LEX" in doc.change_note
    assert list(basel.blocks) == ["concentration"]
    assert basel.blocks["concentration"].description.strip()


def test_outputs_are_those_cn2023_concentration_also_gives(basel: RuleSet) -> None:
    cn = builtin_ruleset("cn-2023")
    basel_out = {o.name for o in basel.blocks["concentration"].outputs}
    cn_out = {o.name for o in cn.blocks["concentration"].outputs}
    assert basel_out == {"is_large_exposure", "limit", "le_breach", "breach", "headroom"}
    assert basel_out <= cn_out
    shared_inputs = {"exposure", "tier1_net"}
    assert shared_inputs <= set(basel.blocks["concentration"].inputs)
    assert shared_inputs <= set(cn.blocks["concentration"].inputs)


@pytest.mark.parametrize(
    ("exposure", "large"),
    [
        ("0", False),
        ("79999.99", False),
        ("80000.00", True),  # "equal to or above 10% of Tier 1"
        ("80000.01", True),
    ],
)
def test_large_exposure_is_ten_percent_or_more(basel: RuleSet, exposure: str, large: bool) -> None:
    assert lex(basel, exposure)["is_large_exposure"] is large


def test_2_5_percent_is_not_a_basel_large_exposure(basel: RuleSet) -> None:
    # the same figure is a large exposure under cn-2023 (more than 2.5% of tier-1 net)
    assert lex(basel, "20000.01")["is_large_exposure"] is False


@pytest.mark.parametrize(
    ("lender_gsib", "counterparty_gsib", "cap"),
    [
        (False, False, "200000.00"),  # 25%
        (True, False, "200000.00"),
        (False, True, "200000.00"),
        (True, True, "120000.00"),  # G-SIB to G-SIB 15%
    ],
)
def test_limit_25_percent_and_15_between_gsibs(
    basel: RuleSet, lender_gsib: bool, counterparty_gsib: bool, cap: str
) -> None:
    flags = {"lender_gsib": lender_gsib, "counterparty_gsib": counterparty_gsib}
    at_cap = lex(basel, cap, **flags)
    assert at_cap["limit"] == D(cap)
    assert (at_cap["le_breach"], at_cap["breach"], at_cap["headroom"]) == (False, False, D("0.00"))
    over = lex(basel, str(D(cap) + D("0.01")), **flags)
    assert (over["le_breach"], over["breach"], over["headroom"]) == (True, True, D("-0.01"))


def test_headroom_to_the_cent(basel: RuleSet) -> None:
    assert lex(basel, "123456.78")["headroom"] == D("76543.22")


def test_gsib_flags_are_required(basel: RuleSet) -> None:
    with pytest.raises(PolicyInputError, match="lender_gsib"):
        basel.evaluate("concentration", {"exposure": "1", "tier1_net": TIER1})


def test_basel_lex_checks_clean(basel: RuleSet) -> None:
    errors = [str(f) for f in basel.check() if f.severity == "error"]
    assert errors == []
