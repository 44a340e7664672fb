"""Text entering the domain: one check (`domain.text.check_text`) for every text field."""

from __future__ import annotations

from datetime import date

import pytest

from creditmgmt.adapters.clocks_and_ids import SequentialIds
from creditmgmt.domain import InvalidValueError
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.text import CODE_MAX, NAME_MAX, NOTE_MAX, REF_MAX, check_text
from creditmgmt.testing.builders import a_customer, a_facility_tree

BAD = [
    ("lone \ud800 surrogate", "lone surrogate"),
    ("\udfff", "lone surrogate"),
    ("nul \x00 inside", "NUL"),
]


@pytest.mark.parametrize(("value", "why"), BAD)
def test_check_text_refuses_what_no_store_keeps_naming_the_field(value: str, why: str) -> None:
    with pytest.raises(InvalidValueError, match=f"legal_name holds a {why}"):
        check_text(value, "legal_name")


def test_check_text_bounds_the_length_and_keeps_good_text() -> None:
    assert check_text("上海浦东发展银行 😀 'quoted'", "name", max_length=NAME_MAX)
    assert check_text("x" * NAME_MAX, "name", max_length=NAME_MAX)
    with pytest.raises(InvalidValueError, match=r"name is 201 characters long \(at most 200\)"):
        check_text("x" * (NAME_MAX + 1), "name", max_length=NAME_MAX)
    with pytest.raises(InvalidValueError, match="note must be text, got int"):
        check_text(3, "note")
    assert (CODE_MAX, NAME_MAX, REF_MAX, NOTE_MAX) == (64, 200, 255, 4000)


@pytest.mark.parametrize(("value", "why"), BAD)
def test_a_customer_name_or_registration_id_is_refused_at_the_door(value: str, why: str) -> None:
    ids = SequentialIds()
    with pytest.raises(InvalidValueError, match=f"Customer.legal_name holds a {why}"):
        a_customer(ids, legal_name=value)
    customer = a_customer(ids)
    with pytest.raises(InvalidValueError, match=r"Customer\.legal_name"):
        customer.legal_name = value  # assignment runs the same validator
    with pytest.raises(InvalidValueError, match=f"holds a {why}"):
        customer.watchlist(on=date(2026, 1, 5), reason=value)
    assert customer.legal_name != value


def test_a_ten_megabyte_name_is_refused_in_the_domain() -> None:
    ids = SequentialIds()
    with pytest.raises(InvalidValueError, match="name is 10000000 characters long"):
        CustomerGroup.form(ids, name="x" * 10_000_000)
    group = CustomerGroup.form(ids, name="g")
    with pytest.raises(InvalidValueError, match="connected_party_notes is 4001 characters"):
        group.connected_party_notes = "n" * (NOTE_MAX + 1)


def test_reasons_and_texts_of_facilities_are_checked() -> None:
    tree = a_facility_tree(SequentialIds())
    node = tree.products[0]
    with pytest.raises(InvalidValueError, match="reason holds a lone surrogate"):
        node.freeze(on=date(2026, 3, 2), reason="\ud800")
    assert node.pending_events == () or all("\ud800" not in str(e) for e in node.pending_events)
    with pytest.raises(InvalidValueError, match=r"Facility\.credit_insurance holds a NUL"):
        node.note_credit_insurance("a\x00b")
