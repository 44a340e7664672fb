"""The readable builders testers start from."""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditmgmt.domain import FacilityLevel, FacilityStatus, InvalidMoneyError, LimitTree
from creditmgmt.testing.builders import (
    EXAMPLE_CUSTOMER,
    M,
    SequentialIds,
    a_customer,
    a_facility,
)


def test_m_reads_amount_and_currency() -> None:
    assert M("1,000.50 CNY").amount == Decimal("1000.50")
    assert M("1000 JPY").currency == "JPY"
    with pytest.raises(InvalidMoneyError, match="1000"):
        M("1000")


def test_a_facility_is_an_active_customer_master_limit_that_lends() -> None:
    ids = SequentialIds()
    facility = a_facility(ids, limit="2,000,000.00 CNY")
    assert facility.level is FacilityLevel.CUSTOMER and facility.parent_id is None
    assert facility.status is FacilityStatus.ACTIVE
    assert facility.customer_id == EXAMPLE_CUSTOMER
    LimitTree([facility]).draw(facility.id, M("500000.00 CNY"), on=facility.start_date)
    assert facility.available == M("1500000.00 CNY")
    assert a_facility(ids, activate=False).status is FacilityStatus.APPROVED


def test_a_customer_takes_overrides() -> None:
    customer = a_customer(legal_name="杭州示例", home_region="330100")
    assert customer.legal_name == "杭州示例" and customer.is_remote
