"""Hypothesis strategies for the public domain types. Every generated object is valid.

    from creditmgmt.testing import strategies as cs

    @given(cs.customers(status=CustomerStatus.ACTIVE, remote=True))
    def test_remote_customers(customer): ...

With the `testing` extra installed, `st.from_type(T)` already uses these strategies for every
public domain type (Hypothesis's entry point runs `register_type_strategies()`), so
`@given(st.from_type(Facility))` works in a host's suite with nothing imported from here.

- one strategy per public type, with keyword-only bounds: values (`money(currency=...,
  min_value=..., max_value=...)`, `rates()`, `valuations()`, ...) in `values`; parties
  (`customers(kind=, status=, remote=, in_group=)`, `groups()`, `credit_files()`, ...) in
  `parties`; lending (`limit_trees(min_depth=, max_width=, ...)`, `facilities()`, `loans()`,
  `applications(status=)`, ...) in `lending`; risk (`classification_entries(min_dpd=,
  max_dpd=)`, `risk_events()`) in `risk`;
- `books(customers=, with_groups=, with_arrears=)`: a whole, consistent, store-ready world;
- aggregates are driven through their own operations (activated, frozen, partly repaid,
  decided, escalated, archived ...) so every field and state is exercised, not just defaults;
- `aggregates()` draws any stored aggregate kind; `domain_events()` the events they record;
  `for_type(T)` finds the strategy of a type.

Text strategies include Chinese, quotes, SQL-looking text, emoji and control characters on
purpose; never NUL or a lone surrogate, which the domain refuses (`domain.text.check_text`).
"""

from creditmgmt.testing.strategies.books import Book, books
from creditmgmt.testing.strategies.desk import principals
from creditmgmt.testing.strategies.lending import (
    allocations,
    applications,
    collaterals,
    decisions,
    facilities,
    facility_trees,
    guarantees,
    installments,
    limit_trees,
    loans,
    schedules,
)
from creditmgmt.testing.strategies.lookup import (
    aggregates,
    domain_events,
    errors,
    for_type,
    register_type_strategies,
)
from creditmgmt.testing.strategies.parties import (
    credit_files,
    customers,
    file_entries,
    groups,
    interactions,
    key_person_changes,
    tasks,
)
from creditmgmt.testing.strategies.risk import classification_entries, risk_events
from creditmgmt.testing.strategies.values import (
    HOSTILE,
    MAX_AMOUNT,
    REGIONS,
    RULESET_REF,
    DrawnIds,
    amounts,
    assessments,
    bureau_reports,
    business_dates,
    covenants,
    currencies,
    document_refs,
    financial_statements,
    id_sources,
    identifiers,
    litigation_cases,
    money,
    monitoring_marks,
    names,
    percentages,
    rates,
    regions,
    repayments,
    texts,
    timestamps,
    uscc_codes,
    users,
    valuations,
)

__all__ = [
    "HOSTILE",
    "MAX_AMOUNT",
    "REGIONS",
    "RULESET_REF",
    "Book",
    "DrawnIds",
    "aggregates",
    "allocations",
    "amounts",
    "applications",
    "assessments",
    "books",
    "bureau_reports",
    "business_dates",
    "classification_entries",
    "collaterals",
    "covenants",
    "credit_files",
    "currencies",
    "customers",
    "decisions",
    "document_refs",
    "domain_events",
    "errors",
    "facilities",
    "facility_trees",
    "file_entries",
    "financial_statements",
    "for_type",
    "groups",
    "guarantees",
    "id_sources",
    "identifiers",
    "installments",
    "interactions",
    "key_person_changes",
    "limit_trees",
    "litigation_cases",
    "loans",
    "money",
    "monitoring_marks",
    "names",
    "percentages",
    "principals",
    "rates",
    "regions",
    "register_type_strategies",
    "repayments",
    "risk_events",
    "schedules",
    "tasks",
    "texts",
    "timestamps",
    "uscc_codes",
    "users",
    "valuations",
]
