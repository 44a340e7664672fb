"""Financial covenants (财务约束条款) of a loan agreement.

A covenant binds one ratio of the borrower's financial statements — current ratio, debt to
assets, interest coverage or DSCR, as `FinancialStatement` computes them — to a threshold:
at least (the ratio must not fall below it) or at most (it must not rise above it). A ratio
exactly at the threshold keeps the covenant. A statement that cannot give the ratio (its
denominator is zero) neither keeps nor breaks it: `breached_by` says `None`.

Covenants are filed in a credit file's `covenants` section (`FileEntry.covenant`); the daily
run tests the live ones against the latest statement (`covenant_breach` of `early_warning`).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol

import attrs

from creditmgmt.domain.choices import member
from creditmgmt.domain.errors import InvalidValueError


class CovenantMetric(StrEnum):
    """The ratio a covenant binds: the `FinancialStatement` property of the same name."""

    CURRENT_RATIO = "current_ratio"  # 流动比率
    DEBT_TO_ASSETS = "debt_to_assets"  # 资产负债率
    INTEREST_COVERAGE = "interest_coverage"  # 利息保障倍数
    DSCR = "dscr"  # 偿债覆盖率


class CovenantBound(StrEnum):
    """Which side of the threshold the ratio must stay on (the threshold itself keeps it)."""

    AT_LEAST = "at_least"
    AT_MOST = "at_most"


class Ratios(Protocol):
    """What a covenant reads: the ratios of a `FinancialStatement` (None: not meaningful)."""

    @property
    def current_ratio(self) -> Decimal | None: ...

    @property
    def debt_to_assets(self) -> Decimal | None: ...

    @property
    def interest_coverage(self) -> Decimal | None: ...

    @property
    def dscr(self) -> Decimal | None: ...


def _metric(value: object) -> CovenantMetric:
    return member(CovenantMetric, value, "covenant metric")


def _bound(value: object) -> CovenantBound:
    return member(CovenantBound, value, "covenant bound")


def _threshold(_: object, field: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal):
        raise InvalidValueError(
            f"covenant {field.name} must be a Decimal, got {type(value).__name__} {value!r}"
        )
    if not value.is_finite():
        raise InvalidValueError(f"covenant {field.name} must be finite, got {value}")
    if value < 0:
        raise InvalidValueError(f"covenant {field.name} must not be negative, got {value}")


@attrs.frozen(kw_only=True)
class Covenant:
    """A financial covenant: `metric` of the borrower's statements `bound` `threshold`,
    e.g. `Covenant(metric=CovenantMetric.DSCR, bound=CovenantBound.AT_LEAST,
    threshold=Decimal("1.2"))` — DSCR at least 1.2; the metric and the bound may be given as
    their values (`metric="dscr", bound="at_least"`).

    Raises:
        InvalidValueError: a metric or bound that names no member of its enum, or a threshold
            that is not a finite, non-negative `Decimal` (the message names the field).
    """

    metric: CovenantMetric = attrs.field(converter=_metric)
    bound: CovenantBound = attrs.field(converter=_bound)
    threshold: Decimal = attrs.field(validator=_threshold)

    def ratio_of(self, statement: Ratios) -> Decimal | None:
        """The covenant's ratio on `statement` (None: its denominator is zero)."""
        ratio: Decimal | None = getattr(statement, self.metric.value)
        return ratio

    def breached_by(self, statement: Ratios) -> bool | None:
        """Whether `statement` breaks the covenant: its ratio below the threshold of an
        at-least covenant, or above that of an at-most one (at the threshold: kept). None
        when the statement cannot give the ratio (a zero denominator). Raises nothing."""
        ratio = self.ratio_of(statement)
        if ratio is None:
            return None
        if self.bound is CovenantBound.AT_LEAST:
            return ratio < self.threshold
        return ratio > self.threshold

    def __str__(self) -> str:
        sign = "≥" if self.bound is CovenantBound.AT_LEAST else "≤"
        return f"{self.metric.value} {sign} {self.threshold}"
