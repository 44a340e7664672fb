from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain import (
    ApplicationId,
    CustomerId,
    EntityId,
    FacilityId,
    GroupId,
    IdSource,
    InvalidIdentifierError,
    RiskEventId,
)
from creditmgmt.domain import ids as ids_module
from creditmgmt.testing.builders import SequentialIds


class Fixed:
    """An id source that hands out the tokens it was given, in order."""

    def __init__(self, *tokens: str) -> None:
        self.tokens = list(tokens)

    def next_id(self) -> str:
        return self.tokens.pop(0)


def test_new_ids_come_from_the_id_source_with_a_kind_prefix() -> None:
    source = Fixed("a1", "b2", "c3", "d4", "e5")
    assert isinstance(source, IdSource)
    assert CustomerId.new(source) == CustomerId("cus_a1")
    assert GroupId.new(source).value == "grp_b2"
    assert FacilityId.new(source).value == "fac_c3"
    assert ApplicationId.new(source).value == "app_d4"
    assert RiskEventId.new(source).value == "rsk_e5"


def test_every_identifier_kind_has_its_own_prefix() -> None:
    kinds = [
        cls
        for cls in vars(ids_module).values()
        if isinstance(cls, type) and issubclass(cls, EntityId) and cls is not EntityId
    ]
    prefixes = [k.prefix for k in kinds]
    assert len(kinds) >= 14
    assert len(set(prefixes)) == len(prefixes)


@pytest.mark.parametrize(
    "bad", ["", " cus_1", "cus 1", "-cus", "cus/1", "x" * 65, "客户1", "cus_1\n", "a;b"]
)
def test_malformed_identifiers_are_refused_naming_kind_and_value(bad: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=r"CustomerId") as err:
        CustomerId(bad)
    assert repr(bad) in str(err.value)


def test_non_strings_are_refused() -> None:
    with pytest.raises(InvalidIdentifierError):
        CustomerId(12)  # type: ignore[arg-type]


def test_ids_of_different_kinds_are_different_values() -> None:
    customer: object = CustomerId("x1")  # as object: the comparison is across kinds on purpose
    assert customer != GroupId("x1")
    assert sorted([CustomerId("b"), CustomerId("a")]) == [CustomerId("a"), CustomerId("b")]
    assert str(CustomerId("cus_1")) == "cus_1"
    assert repr(CustomerId("cus_1")) == "CustomerId('cus_1')"


@given(st.integers(1, 10**7))
def test_sequential_ids_are_unique_and_valid(start: int) -> None:
    source = SequentialIds(start)
    made = [CustomerId.new(source) for _ in range(20)]
    assert len(set(made)) == 20
