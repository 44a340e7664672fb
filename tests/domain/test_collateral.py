from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from creditmgmt.domain import (
    Collateral,
    CollateralType,
    CurrencyMismatchError,
    Guarantee,
    GuaranteeType,
    InvalidIdentifierError,
    InvalidValueError,
    Rate,
    Valuation,
)
from creditmgmt.testing.builders import USCC_EXAMPLES, M, SequentialIds

VALUED = date(2026, 1, 10)


def a_property(haircut: str = "0.30", value: str = "10000000.00 CNY") -> Collateral:
    return Collateral.register(
        SequentialIds(),
        type=CollateralType.REAL_ESTATE,
        owner_name="上海示例贸易有限公司",
        valuation=Valuation(M(value), VALUED, "上海某评估公司"),
        haircut=Rate.of(haircut),
        revaluation_due=date(2027, 1, 10),
    )


def test_lendable_value_applies_the_haircut_and_ltv_uses_the_valuation() -> None:
    c = a_property()
    assert c.lendable_value == M("7000000.00 CNY")
    assert c.ltv(M("6000000.00 CNY")) == Decimal("0.6")
    assert c.valuation.valued_on == VALUED
    with pytest.raises(CurrencyMismatchError):
        c.ltv(M("1.00 USD"))


@pytest.mark.parametrize("haircut", ["-0.01", "1", "1.5"])
def test_haircut_must_be_in_zero_to_one(haircut: str) -> None:
    with pytest.raises(InvalidValueError, match="haircut"):
        a_property(haircut=haircut)


def test_valuation_must_be_positive_and_revaluation_keeps_the_currency() -> None:
    with pytest.raises(InvalidValueError, match="valuation must be positive"):
        a_property(value="0.00 CNY")
    c = a_property()
    assert not c.is_revaluation_due(date(2027, 1, 9))
    assert c.is_revaluation_due(date(2027, 1, 10))
    with pytest.raises(InvalidValueError, match="in CNY"):
        c.revalue(Valuation(M("1.00 USD"), date(2027, 1, 10), "x"))
    assert c.valuation.value == M("10000000.00 CNY")  # refused: unchanged
    c.revalue(Valuation(M("8000000.00 CNY"), date(2027, 1, 10), "x"), next_due=date(2028, 1, 10))
    assert c.ltv(M("6000000.00 CNY")) == Decimal("0.75")
    assert not c.is_revaluation_due(date(2027, 6, 1))


def test_guarantee_names_the_guarantor_and_validates_its_uscc() -> None:
    g = Guarantee.register(
        SequentialIds(),
        type=GuaranteeType.JOINT_AND_SEVERAL,
        guarantor_name="示例融资担保有限公司",
        amount=M("3000000.00 CNY"),
        valid_until=date(2027, 12, 31),
        guarantor_registration_id=USCC_EXAMPLES[1].lower(),
    )
    assert g.guarantor_registration_id == USCC_EXAMPLES[1]
    assert g.is_valid_on(date(2027, 12, 31))
    assert not g.is_valid_on(date(2028, 1, 1))


@pytest.mark.parametrize(
    ("fields", "refusal", "message"),
    [
        (
            {
                "guarantor_name": "示例融资担保有限公司",
                "guarantor_registration_id": "91110000100003962X",
            },
            InvalidIdentifierError,
            "示例融资担保有限公司",  # a bad USCC names whose it is
        ),
        ({"amount": M("0.00 CNY")}, InvalidValueError, "positive"),
        ({"guarantor_name": ""}, InvalidValueError, "guarantor"),
    ],
    ids=["bad-uscc", "zero-amount", "no-name"],
)
def test_a_guarantee_is_refused_naming_the_field(
    fields: dict[str, Any], refusal: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = {
        "type": GuaranteeType.GENERAL,
        "guarantor_name": "x",
        "amount": M("1.00 CNY"),
        "valid_until": date(2027, 12, 31),
    }
    with pytest.raises(refusal, match=message):
        Guarantee.register(SequentialIds(), **(arguments | fields))


def test_an_owner_name_is_required() -> None:
    with pytest.raises(InvalidValueError, match="owner"):
        Collateral.register(
            SequentialIds(),
            type=CollateralType.DEPOSIT,
            owner_name=" ",
            valuation=Valuation(M("1.00 CNY"), VALUED, "bank"),
            haircut=Rate.of("0"),
        )
