"""Which aggregates are stored, under which kind name, with which queryable columns.

Columns are what repositories filter and order on and what the SQL adapter indexes; the
document holds everything. Adding a column is a schema change (a migration in the SQL
adapter); the column values are always derived from the aggregate, never written alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from creditmgmt.adapters.records.contract import ColumnSpec, ColumnValue, KindSpec
from creditmgmt.domain.application import CreditApplication
from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.collateral import Collateral, Guarantee
from creditmgmt.domain.credit_file import CreditFile
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.facility import Facility
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.interaction import FollowUpTask, Interaction
from creditmgmt.domain.loan import Drawdown
from creditmgmt.domain.risk import RiskEvent


def _s(value: object) -> str | None:
    return None if value is None else str(value)


@attrs.frozen
class KindBinding:
    """An aggregate class, its kind name, its columns and how to extract them."""

    spec: KindSpec
    cls: type[Aggregate]
    extract: Callable[[Any], Mapping[str, ColumnValue]]

    @property
    def kind(self) -> str:
        return self.spec.kind


#: Columns that hold one of a few values in every kind (statuses, codes, currencies, flags).
_FEW_VALUES: Final = frozenset(
    {
        "status",
        "kind_code",
        "level",
        "currency",
        "severity",
        "type",
        "product_type",
        "segment",
        "is_remote",
        "complaint_status",
        "category",
        "action",
    }
)


def _c(name: str, type_: str, *, unique: bool = False) -> ColumnSpec:
    return ColumnSpec(name, type_, unique=unique, few_values=name in _FEW_VALUES)  # type: ignore[arg-type]


def _customer(c: Customer) -> dict[str, ColumnValue]:
    group, manager = c.group_id, c.relationship_manager
    return {
        "status": c.status._value_,
        "kind_code": c.kind._value_,
        "home_region": c.home_region,
        "industry_code": c.industry_code,
        "segment": c.segment._value_,
        "group_id": None if group is None else group.value,
        "registration_id": c.registration_id,
        "relationship_manager": None if manager is None else manager.value,
        "is_remote": c.is_remote,
    }


def _facility(f: Facility) -> dict[str, ColumnValue]:
    # on the drawdown hot path: `_value_` is the enum member's plain value attribute
    parent, customer, group, product = f.parent_id, f.customer_id, f.group_id, f.product_type
    return {
        "level": f.level._value_,
        "status": f.status._value_,
        "parent_id": None if parent is None else parent.value,
        "customer_id": None if customer is None else customer.value,
        "group_id": None if group is None else group.value,
        "product_type": None if product is None else product._value_,
        "currency": f.limit.currency,
        "limit_amount": f.limit.amount,
        "drawn_amount": f.drawn.amount,
        "maturity_date": f.maturity_date,
    }


def _drawdown(d: Drawdown) -> dict[str, ColumnValue]:
    return {
        "facility_id": str(d.facility_id),
        "customer_id": str(d.customer_id),
        "status": d.status.value,
        "currency": d.currency,
        "outstanding_principal": d.outstanding_principal.amount,
        "oldest_unpaid_due": d.oldest_unpaid_due_date(),
    }


BINDINGS: Final[tuple[KindBinding, ...]] = (
    KindBinding(
        KindSpec(
            "customer",
            (
                _c("status", "str"),
                _c("kind_code", "str"),
                _c("home_region", "str"),
                _c("industry_code", "str"),
                _c("segment", "str"),
                _c("group_id", "str"),
                _c("registration_id", "str", unique=True),
                _c("relationship_manager", "str"),
                _c("is_remote", "bool"),
            ),
        ),
        Customer,
        _customer,
    ),
    KindBinding(
        KindSpec("group", (_c("limit_facility_id", "str"),)),
        CustomerGroup,
        lambda g: {"limit_facility_id": _s(g.limit_facility_id)},
    ),
    KindBinding(
        KindSpec("credit_file", (_c("customer_id", "str", unique=True),)),
        CreditFile,
        lambda f: {"customer_id": str(f.customer_id)},
    ),
    KindBinding(
        KindSpec(
            "facility",
            (
                _c("level", "str"),
                _c("status", "str"),
                _c("parent_id", "str"),
                _c("customer_id", "str"),
                _c("group_id", "str"),
                _c("product_type", "str"),
                _c("currency", "str"),
                _c("limit_amount", "decimal"),
                _c("drawn_amount", "decimal"),
                _c("maturity_date", "date"),
            ),
        ),
        Facility,
        _facility,
    ),
    KindBinding(
        KindSpec(
            "drawdown",
            (
                _c("facility_id", "str"),
                _c("customer_id", "str"),
                _c("status", "str"),
                _c("currency", "str"),
                _c("outstanding_principal", "decimal"),
                _c("oldest_unpaid_due", "date"),
            ),
        ),
        Drawdown,
        _drawdown,
    ),
    KindBinding(
        KindSpec(
            "application",
            (_c("customer_id", "str"), _c("status", "str"), _c("maker", "str")),
        ),
        CreditApplication,
        lambda a: {
            "customer_id": str(a.customer_id),
            "status": a.status.value,
            "maker": str(a.maker),
        },
    ),
    KindBinding(
        KindSpec(
            "risk_event",
            (
                _c("customer_id", "str"),
                _c("facility_id", "str"),
                _c("status", "str"),
                _c("severity", "str"),
                _c("type", "str"),
                _c("business_date", "date"),
                _c("review_due", "date"),
            ),
        ),
        RiskEvent,
        lambda e: {
            "customer_id": str(e.customer_id),
            "facility_id": _s(e.facility_id),
            "status": e.status.value,
            "severity": e.severity.value,
            "type": e.type,
            "business_date": e.business_date,
            "review_due": e.review_due,
        },
    ),
    KindBinding(
        KindSpec(
            "interaction",
            (_c("customer_id", "str"), _c("kind_code", "str"), _c("complaint_status", "str")),
        ),
        Interaction,
        lambda i: {
            "customer_id": str(i.customer_id),
            "kind_code": i.kind.value,
            "complaint_status": None if i.complaint_status is None else i.complaint_status.value,
        },
    ),
    KindBinding(
        KindSpec(
            "task",
            (
                _c("customer_id", "str"),
                _c("assignee", "str"),
                _c("status", "str"),
                _c("due", "date"),
            ),
        ),
        FollowUpTask,
        lambda t: {
            "customer_id": str(t.customer_id),
            "assignee": str(t.assignee),
            "status": t.status.value,
            "due": t.due,
        },
    ),
    KindBinding(
        KindSpec(
            "classification",
            (
                _c("customer_id", "str"),
                _c("facility_id", "str"),
                _c("drawdown_id", "str"),
                _c("as_of", "date"),
                _c("category", "str"),
            ),
        ),
        ClassificationEntry,
        lambda c: {
            "customer_id": str(c.customer_id),
            "facility_id": str(c.facility_id),
            "drawdown_id": _s(c.drawdown_id),
            "as_of": c.as_of,
            "category": c.category.value,
        },
    ),
    KindBinding(
        KindSpec("collateral", (_c("owner_id", "str"), _c("revaluation_due", "date"))),
        Collateral,
        lambda c: {"owner_id": _s(c.owner_id), "revaluation_due": c.revaluation_due},
    ),
    KindBinding(
        KindSpec("guarantee", (_c("guarantor_id", "str"), _c("valid_until", "date"))),
        Guarantee,
        lambda g: {"guarantor_id": _s(g.guarantor_id), "valid_until": g.valid_until},
    ),
)

#: Audit entries are stored as records too (insert only).
AUDIT_SPEC: Final = KindSpec(
    "audit", (_c("subject", "str"), _c("actor", "str"), _c("action", "str"))
)

BY_KIND: Final[dict[str, KindBinding]] = {b.kind: b for b in BINDINGS}
BY_CLASS: Final[dict[type[Aggregate], KindBinding]] = {b.cls: b for b in BINDINGS}
ALL_SPECS: Final[dict[str, KindSpec]] = {
    **{b.kind: b.spec for b in BINDINGS},
    AUDIT_SPEC.kind: AUDIT_SPEC,
}


def binding_for(aggregate: Aggregate) -> KindBinding:
    """Raises `TypeError` for a class that is not a stored aggregate."""
    try:
        return BY_CLASS[type(aggregate)]
    except KeyError:
        raise TypeError(f"{type(aggregate).__name__} is not a stored aggregate kind") from None
