"""Ports: the interfaces the core needs from the outside world, and the persistence errors."""

from creditmgmt.domain.ids import IdSource
from creditmgmt.ports.audit import AuditEntry, AuditLog
from creditmgmt.ports.clock import Clock
from creditmgmt.ports.errors import (
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
from creditmgmt.ports.unit_of_work import UnitOfWork

__all__ = [
    "ApplicationRepository",
    "AuditEntry",
    "AuditLog",
    "ClassificationRepository",
    "Clock",
    "CollateralRepository",
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
    "Repository",
    "RiskEventRepository",
    "StoreUnavailableError",
    "TaskRepository",
    "UnitOfWork",
]
