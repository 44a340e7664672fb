"""Codes given as text that name no member — a kind, a segment, a section, a product, a
channel, a confidentiality level — and records of the wrong type are refused with our
`InvalidValueError` naming the field, and nothing is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any

import pytest
from tests.services.desk_state import stored_state

from creditmgmt.domain.choices import member
from creditmgmt.domain.credit_file import Confidentiality, Section
from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.money import Money
from creditmgmt.services.desk import CreditDesk
from creditmgmt.testing.desk import ANALYST, RM, a_desk, an_onboarded_customer

AS_OF = date(2026, 3, 1)
AT = datetime(2026, 3, 2, 10, tzinfo=UTC)

Call = Callable[[CreditDesk, CustomerId], object]


def _entry(desk: CreditDesk, customer: CustomerId, **fields: Any) -> str:
    """An entry as host code might file it, fields unchecked by the type checker."""
    return desk.add_file_entry(ANALYST, customer, key="k", source="s", as_of=AS_OF, **fields)


CALLS: list[tuple[str, Call, str]] = [
    (
        "kind",
        lambda d, c: d.onboard_customer(
            RM,
            kind="bank",
            legal_name="x",
            registration_id=None,
            home_region="310000",
            industry_code="F5191",
        ),
        "kind must be one of corporate, sme, individual; got 'bank'",
    ),
    ("segment", lambda d, c: d.update_customer(RM, c, segment="gold"), "segment must be one of"),
    (
        "section",
        lambda d, c: _entry(d, c, section="misc", facts={"a": "b"}),
        "section must be one of basic_info, .*covenants; got 'misc'",
    ),
    (
        "confidentiality",
        lambda d, c: _entry(d, c, section="basic_info", confidentiality=9),
        r"confidentiality must be one of 0 \(public\), .*3 \(secret\); got 9",
    ),
    (
        "a record of the wrong type",
        lambda d, c: _entry(d, c, section="covenants", covenant="dscr>1"),
        "add_file_entry: covenant must be a Covenant or None, got str",
    ),
    (
        "product_type",
        lambda d, c: d.submit_application(
            RM,
            customer_id=c,
            product_type="mortgage",
            requested=Money.of("1000.00", "CNY"),
            term_months=12,
            purpose="x",
        ),
        "product_type must be one of working_capital, ",
    ),
    (
        "interaction kind",
        lambda d, c: d.log_interaction(RM, c, kind="lunch", at=AT, summary="x"),
        "kind must be one of contact, visit, ",
    ),
    (
        "channel",
        lambda d, c: d.log_interaction(RM, c, kind="visit", channel="fax", at=AT, summary="x"),
        "channel must be one of phone, ",
    ),
]


@pytest.mark.parametrize(("field", "call", "message"), CALLS, ids=[c[0] for c in CALLS])
def test_a_code_that_names_no_member_is_refused_naming_the_field(
    field: str, call: Call, message: str
) -> None:
    with a_desk() as desk:
        customer = an_onboarded_customer(desk)
        before = stored_state(desk)
        with pytest.raises(InvalidValueError, match=message):
            call(desk, customer)
        assert stored_state(desk) == before


class _Colour(Enum):
    RED = "red"


def test_member_takes_a_member_or_its_value() -> None:
    assert member(Section, Section.COVENANTS, "section") is Section.COVENANTS
    assert member(Section, "covenants", "section") is Section.COVENANTS
    assert member(Confidentiality, 2, "level") is Confidentiality.CONFIDENTIAL
    for value in ("blue", None, ["red"], 1.0):
        with pytest.raises(InvalidValueError, match=r"colour must be one of red; got "):
            member(_Colour, value, "colour")
