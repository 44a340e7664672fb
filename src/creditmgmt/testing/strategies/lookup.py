"""Finding a strategy by type, and registering them all with Hypothesis's `st.from_type`."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar, cast

from hypothesis import strategies as st

from creditmgmt.domain.application import Assessment, CreditApplication, Decision
from creditmgmt.domain.classification import ClassificationEntry
from creditmgmt.domain.collateral import Collateral, Guarantee, Valuation
from creditmgmt.domain.covenant import Covenant
from creditmgmt.domain.credit_file import (
    BureauReport,
    CreditFile,
    DocumentRef,
    FileEntry,
    FinancialStatement,
    KeyPersonChange,
    LitigationCase,
)
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.domain.facility import Facility, LimitTree
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import EntityId, IdSource
from creditmgmt.domain.interaction import FollowUpTask, Interaction
from creditmgmt.domain.loan import Allocation, Drawdown, Repayment
from creditmgmt.domain.loan_risk import MonitoringMark
from creditmgmt.domain.money import Money, Percentage, Rate
from creditmgmt.domain.risk import RiskEvent
from creditmgmt.domain.schedule import Installment, RepaymentSchedule
from creditmgmt.services.access import Principal
from creditmgmt.testing.strategies.desk import principals
from creditmgmt.testing.strategies.lending import (
    allocations,
    applications,
    collaterals,
    decisions,
    facilities,
    guarantees,
    installments,
    limit_trees,
    loans,
    schedules,
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
    assessments,
    bureau_reports,
    covenants,
    document_refs,
    financial_statements,
    id_sources,
    identifiers,
    litigation_cases,
    money,
    monitoring_marks,
    percentages,
    rates,
    repayments,
    texts,
    valuations,
)

T = TypeVar("T")


def aggregates() -> st.SearchStrategy[Aggregate]:
    """Any stored aggregate kind."""
    return st.one_of(
        customers(),
        groups(),
        facilities(),
        loans(),
        applications(),
        risk_events(),
        interactions(),
        tasks(),
        credit_files(),
        classification_entries(),
        collaterals(),
        guarantees(),
    )


def domain_events() -> st.SearchStrategy[DomainEvent]:
    """Events recorded by generated aggregates (every aggregate records at least one)."""
    return (
        aggregates()
        .filter(lambda a: bool(a.pending_events))
        .flatmap(lambda a: st.sampled_from(a.pending_events))
    )


def _strategy_table() -> dict[type[Any], Callable[[], st.SearchStrategy[Any]]]:
    """Every public domain type that Hypothesis cannot build correctly on its own.

    Enums need no entry (Hypothesis samples their members). The desk's calls take plain
    arguments (no command objects); its `Principal` is here.
    """
    return {
        Principal: principals,
        Money: lambda: money(None),
        Rate: rates,
        Percentage: percentages,
        Valuation: valuations,
        Assessment: assessments,
        Decision: decisions,
        FinancialStatement: financial_statements,
        BureauReport: bureau_reports,
        LitigationCase: litigation_cases,
        DocumentRef: document_refs,
        Covenant: covenants,
        FileEntry: file_entries,
        KeyPersonChange: key_person_changes,
        MonitoringMark: monitoring_marks,
        Repayment: repayments,
        Installment: installments,
        Allocation: allocations,
        RepaymentSchedule: schedules,
        Customer: customers,
        CustomerGroup: groups,
        Facility: facilities,
        LimitTree: limit_trees,
        Drawdown: loans,
        CreditApplication: applications,
        RiskEvent: risk_events,
        Interaction: interactions,
        FollowUpTask: tasks,
        CreditFile: credit_files,
        ClassificationEntry: classification_entries,
        Collateral: collaterals,
        Guarantee: guarantees,
        Aggregate: aggregates,
        DomainEvent: domain_events,
        EntityId: lambda: st.sampled_from(_identifier_kinds()).flatmap(identifiers),
        IdSource: id_sources,
    }


def for_type(cls: type[T]) -> st.SearchStrategy[T]:
    """The strategy for a public domain type (identifier kinds and errors included).

    Raises:
        KeyError: no strategy is known for `cls`.
    """
    if isinstance(cls, type) and issubclass(cls, EntityId) and cls is not EntityId:
        return identifiers(cls)
    if isinstance(cls, type) and cls in _error_kinds():
        return errors(cast("type[CreditMgmtError]", cls))  # type: ignore[return-value]
    try:
        return _strategy_table()[cls]()
    except KeyError:
        raise KeyError(f"no creditmgmt strategy for {cls.__name__}") from None


E = TypeVar("E", bound=CreditMgmtError)


def errors(kind: type[E]) -> st.SearchStrategy[E]:
    """Errors of `kind`, with its default message or a drawn one (for tests of handlers)."""
    return st.one_of(st.just(kind()), texts().map(kind))


def register_type_strategies() -> None:
    """Make `st.from_type(T)` / `st.builds(...)` use these strategies for every public domain
    type: values, aggregates, identifier kinds, errors, `Aggregate` and `DomainEvent`.

    Installing the package does this through Hypothesis's entry point (see
    `creditmgmt.testing._hypothesis_setup`); call it yourself only where entry points are
    off (`HYPOTHESIS_NO_PLUGINS`). Strategies are built lazily, on first use.
    """
    for cls, make in _strategy_table().items():
        st.register_type_strategy(cls, _lazy(make))
    for kind in _identifier_kinds():
        st.register_type_strategy(kind, _lazy(partial(identifiers, kind)))
    for error in _error_kinds():
        st.register_type_strategy(error, _lazy(partial(errors, error)))


def _lazy(make: Callable[[], st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """`make()` on first use: registering costs nothing until a test draws the type."""
    return st.deferred(lambda: make())


def _subclasses(base: type[T]) -> list[type[T]]:
    found: list[type[T]] = []
    stack = list(base.__subclasses__())
    while stack:
        kind = stack.pop()
        stack.extend(kind.__subclasses__())
        if kind not in found:
            found.append(kind)
    return found


def _identifier_kinds() -> list[type[EntityId]]:
    return _subclasses(EntityId)


def _error_kinds() -> list[type[CreditMgmtError]]:
    """The domain's errors (other layers' errors take more than a message)."""
    kinds: list[type[CreditMgmtError]] = [CreditMgmtError, *_subclasses(CreditMgmtError)]
    return [e for e in kinds if e.__module__.startswith("creditmgmt.domain")]


__all__ = ["aggregates", "domain_events", "errors", "for_type", "register_type_strategies"]
