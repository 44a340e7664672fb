"""Collateral (抵质押) and guarantees (担保) that secure facilities."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

import attrs

from creditmgmt.domain.customer import normalise_uscc
from creditmgmt.domain.errors import InvalidValueError
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.ids import CollateralId, CustomerId, GuaranteeId, IdSource
from creditmgmt.domain.money import Money, Rate, check_positive
from creditmgmt.domain.pii import mask
from creditmgmt.domain.text import NAME_MAX, NOTE_MAX, REF_MAX, text


class CollateralType(StrEnum):
    REAL_ESTATE = "real_estate"
    EQUIPMENT = "equipment"
    RECEIVABLES = "receivables"
    DEPOSIT = "deposit"
    SECURITIES = "securities"
    INVENTORY = "inventory"
    OTHER = "other"


class GuaranteeType(StrEnum):
    JOINT_AND_SEVERAL = "joint_and_several"  # 连带责任保证
    GENERAL = "general"  # 一般保证
    STANDBY_LC = "standby_lc"


@attrs.frozen
class Valuation:
    value: Money
    valued_on: date
    valuer: str = attrs.field(validator=text(NAME_MAX))


def _haircut(_i: object, _a: object, value: Rate) -> None:
    if not Decimal(0) <= value.value < Decimal(1):
        raise InvalidValueError(f"haircut must be in [0, 1), got {value}")


@attrs.define(kw_only=True)
class Collateral(Aggregate):
    """An asset pledged or mortgaged; its lendable value is valuation × (1 − haircut)."""

    id: CollateralId
    type: CollateralType
    owner_id: CustomerId | None
    owner_name: str = attrs.field(validator=text(NAME_MAX))
    description: str = attrs.field(default="", validator=text(NOTE_MAX))
    valuation: Valuation
    haircut: Rate = attrs.field(validator=_haircut)
    revaluation_due: date | None = None

    @classmethod
    def register(
        cls,
        ids: IdSource,
        *,
        type: CollateralType,
        owner_name: str,
        valuation: Valuation,
        haircut: Rate,
        owner_id: CustomerId | None = None,
        description: str = "",
        revaluation_due: date | None = None,
    ) -> Collateral:
        """Raises `InvalidValueError` for an empty owner name, a non-positive valuation or a
        haircut outside [0, 1)."""
        if not owner_name.strip():
            raise InvalidValueError("collateral needs the name of its owner")
        check_positive("valuation", valuation.value)
        return cls(
            id=CollateralId.new(ids),
            type=type,
            owner_id=owner_id,
            owner_name=owner_name,
            description=description,
            valuation=valuation,
            haircut=haircut,
            revaluation_due=revaluation_due,
        )

    @property
    def lendable_value(self) -> Money:
        return self.valuation.value * (Decimal(1) - self.haircut.value)

    def ltv(self, exposure: Money) -> Decimal:
        """Loan-to-value: exposure ÷ valuation, unrounded.

        Raises:
            CurrencyMismatchError: the exposure is in another currency (convert it first).
        """
        return exposure.ratio_to(self.valuation.value)

    def revalue(self, valuation: Valuation, *, next_due: date | None = None) -> None:
        """Replace the valuation (重估). Raises `InvalidValueError` for a non-positive value or
        another currency; nothing changes then."""
        same_currency = valuation.value.currency == self.valuation.value.currency
        if not valuation.value.is_positive or not same_currency:
            raise InvalidValueError(
                f"collateral {self.id}: revaluation {valuation.value} must be positive and in "
                f"{self.valuation.value.currency}"
            )
        self.valuation = valuation
        self.revaluation_due = next_due

    def is_revaluation_due(self, as_of: date) -> bool:
        return self.revaluation_due is not None and self.revaluation_due <= as_of


@attrs.define(kw_only=True)
class Guarantee(Aggregate):
    """A guarantee by a customer of ours or an external guarantor (named, with USCC)."""

    id: GuaranteeId
    type: GuaranteeType
    guarantor_id: CustomerId | None
    guarantor_name: str = attrs.field(validator=text(NAME_MAX))
    guarantor_registration_id: str | None = attrs.field(
        validator=text(REF_MAX, optional=True),
        repr=lambda v: repr(mask(v)),  # PII: masked
    )
    amount: Money
    valid_until: date

    @classmethod
    def register(
        cls,
        ids: IdSource,
        *,
        type: GuaranteeType,
        guarantor_name: str,
        amount: Money,
        valid_until: date,
        guarantor_id: CustomerId | None = None,
        guarantor_registration_id: str | None = None,
    ) -> Guarantee:
        """Raises `InvalidValueError` (empty name, non-positive amount) or
        `InvalidIdentifierError` (an invalid USCC, naming the guarantor)."""
        if not guarantor_name.strip():
            raise InvalidValueError("a guarantee needs the guarantor's name")
        check_positive("guarantee amount", amount)
        reg = (
            normalise_uscc(guarantor_registration_id, subject=guarantor_name)
            if guarantor_registration_id
            else None
        )
        return cls(
            id=GuaranteeId.new(ids),
            type=type,
            guarantor_id=guarantor_id,
            guarantor_name=guarantor_name,
            guarantor_registration_id=reg,
            amount=amount,
            valid_until=valid_until,
        )

    def is_valid_on(self, on: date) -> bool:
        return on <= self.valid_until
