"""PII masking: one function (domain.pii.mask) for messages, reprs and the desk's read models."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain import CustomerKind, InvalidIdentifierError
from creditmgmt.domain.collateral import Guarantee, GuaranteeType
from creditmgmt.domain.customer import normalise_national_id, normalise_uscc
from creditmgmt.domain.money import Money
from creditmgmt.domain.pii import mask, masked_repr
from creditmgmt.services import access
from creditmgmt.testing.builders import USCC_EXAMPLES, SequentialIds, a_customer

NATIONAL_ID = "11010519491231002X"


def test_the_desk_masks_with_the_domain_function() -> None:
    assert access.mask is mask  # one function, not two


@given(st.text(max_size=40))
def test_mask_keeps_only_the_last_four(text: str) -> None:
    masked = mask(text)
    assert len(masked) == len(text)
    if len(text) > 4:
        assert masked == "*" * (len(text) - 4) + text[-4:]
    else:
        assert masked == "*" * len(text)


def test_mask_of_none_and_non_text() -> None:
    assert mask(None) is None
    assert masked_repr(91310000) == "<int>"  # a non-str never shows its digits


def test_invalid_identifier_messages_mask_the_code() -> None:
    bad_uscc = "91310000MA1FL4T01B"
    with pytest.raises(InvalidIdentifierError) as e:
        normalise_uscc(bad_uscc, subject="ACME")
    assert bad_uscc not in str(e.value)
    assert "ACME" in str(e.value) and "T01B" in str(e.value)
    bad_id = "110105194912310021"
    with pytest.raises(InvalidIdentifierError) as e:
        a_customer(kind=CustomerKind.INDIVIDUAL, registration_id=bad_id)
    assert bad_id not in str(e.value)
    assert "0021" in str(e.value)
    with pytest.raises(InvalidIdentifierError) as e:
        normalise_national_id(bad_id[:-2])
    assert bad_id[:-2] not in str(e.value)


def test_reprs_mask_registration_ids() -> None:
    corporate = a_customer()
    assert corporate.registration_id == USCC_EXAMPLES[0]
    assert USCC_EXAMPLES[0] not in repr(corporate)
    assert repr(mask(USCC_EXAMPLES[0])) in repr(corporate)
    person = a_customer(kind=CustomerKind.INDIVIDUAL, registration_id=NATIONAL_ID)
    assert NATIONAL_ID not in repr(person)
    assert "002X" in repr(person)
    guarantee = Guarantee.register(
        SequentialIds(),
        type=GuaranteeType.GENERAL,
        guarantor_name="担保公司",
        guarantor_registration_id=USCC_EXAMPLES[1],
        amount=Money.of("100", "CNY"),
        valid_until=date(2027, 1, 1),
    )
    assert USCC_EXAMPLES[1] not in repr(guarantee)
    assert USCC_EXAMPLES[1][-4:] in repr(guarantee)
