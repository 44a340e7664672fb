"""Ports: the interfaces the core needs from the outside world, and the persistence errors."""

from creditmgmt.domain.ids import IdSource
from creditmgmt.ports.audit import (
    GENESIS,
    AuditEntry,
    AuditLog,
    AuditVerification,
    ChainHead,
    entry_digest,
    verify_chain,
)
from creditmgmt.ports.calendar import BusinessCalendar, Roll, WeekendCalendar
from creditmgmt.ports.clock import Clock
from creditmgmt.ports.errors import (
    ChangedAfterCommitError,
    ConfigurationError,
    ConflictError,
    DataError,
    IntegrityError,
    NotFoundError,
    OutboxRangeError,
    PersistenceError,
    StoreUnavailableError,
)
from creditmgmt.ports.external import CreditBureau, ExchangeRates, ExternalServiceError
from creditmgmt.ports.repositories import (
    ApplicationRepository,
    ClassificationRepository,
    CollateralRepository,
    CreditFileRepository,
    CustomerRepository,
    DrawdownRepository,
    FacilityRepository,
    GroupRepository,
    GuaranteeRepository,
    InteractionRepository,
    Repository,
    RiskEventRepository,
    TaskRepository,
)
from creditmgmt.ports.slices import PortfolioSlice
from creditmgmt.ports.store import Store
from creditmgmt.ports.unit_of_work import UnitOfWork

__all__ = [
    "GENESIS",
    "ApplicationRepository",
    "AuditEntry",
    "AuditLog",
    "AuditVerification",
    "BusinessCalendar",
    "ChainHead",
    "ChangedAfterCommitError",
    "ClassificationRepository",
    "Clock",
    "CollateralRepository",
    "ConfigurationError",
    "ConflictError",
    "CreditBureau",
    "CreditFileRepository",
    "CustomerRepository",
    "DataError",
    "DrawdownRepository",
    "ExchangeRates",
    "ExternalServiceError",
    "FacilityRepository",
    "GroupRepository",
    "GuaranteeRepository",
    "IdSource",
    "IntegrityError",
    "InteractionRepository",
    "NotFoundError",
    "OutboxRangeError",
    "PersistenceError",
    "PortfolioSlice",
    "Repository",
    "RiskEventRepository",
    "Roll",
    "Store",
    "StoreUnavailableError",
    "TaskRepository",
    "UnitOfWork",
    "WeekendCalendar",
    "entry_digest",
    "verify_chain",
]
