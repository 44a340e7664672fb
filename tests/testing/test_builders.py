"""The readable builders testers start from."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from creditmgmt.domain import FacilityLevel, FacilityStatus, InvalidMoneyError, LimitTree
from creditmgmt.domain.schedule import Amortisation, DayCount, Frequency
from creditmgmt.testing.builders import (
    EXAMPLE_CUSTOMER,
    M,
    SequentialIds,
    a_customer,
    a_facility,
    a_schedule,
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


def test_a_schedule_defaults_and_passes_build_terms_through() -> None:
    plain = a_schedule()
    assert plain.principal == M("120000.00 CNY") and plain.start == date(2026, 1, 5)
    assert len(plain.installments) == 12 and plain.amortisation is Amortisation.EQUAL_PRINCIPAL
    assert (plain.frequency, plain.day_count) == (Frequency.MONTHLY, DayCount.ACT_360)
    month_ends = a_schedule(start=date(2026, 1, 31), term_months=3, end_of_month=True)
    assert [i.due_date for i in month_ends.installments] == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
    ]
    with pytest.raises(TypeError, match="tenor"):
        a_schedule(tenor=12)
