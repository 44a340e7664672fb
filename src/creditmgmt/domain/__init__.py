"""The pure domain model: values, entities, aggregates, domain events and errors.

Only the standard library, attrs, python-dateutil and python-stdnum are imported here: no
I/O, no clock reads, no serialization.
"""

from creditmgmt.domain.application import (
    ApplicationStatus,
    Assessment,
    CreditApplication,
    Decision,
    MissingDocumentsError,
    SelfApprovalError,
)
from creditmgmt.domain.classification import Category, ClassificationEntry, Stage
from creditmgmt.domain.collateral import (
    Collateral,
    CollateralType,
    Guarantee,
    GuaranteeType,
    Valuation,
)
from creditmgmt.domain.credit_file import (
    BureauReport,
    Confidentiality,
    CreditFile,
    FileEntry,
    FinancialStatement,
    RefreshCycle,
    Section,
)
from creditmgmt.domain.customer import Customer, CustomerKind, CustomerStatus, Segment
from creditmgmt.domain.errors import (
    CreditMgmtError,
    CurrencyMismatchError,
    DomainError,
    InvalidIdentifierError,
    InvalidMoneyError,
    InvalidTransitionError,
    InvalidValueError,
    NegativeAmountError,
)
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.domain.facility import (
    Facility,
    FacilityLevel,
    FacilityNotActiveError,
    FacilityStatus,
    LimitExceededError,
    LimitTree,
    SubLimitExceedsParentError,
)
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import (
    ApplicationId,
    ClassificationId,
    CollateralId,
    CreditFileId,
    CustomerId,
    DrawdownId,
    EntityId,
    FacilityId,
    GroupId,
    GuaranteeId,
    IdSource,
    InteractionId,
    MovementId,
    RiskEventId,
    TaskId,
    UserId,
)
from creditmgmt.domain.interaction import FollowUpTask, Interaction, InteractionKind
from creditmgmt.domain.labels import label
from creditmgmt.domain.loan import Allocation, Drawdown, LoanStatus, OverpaymentError, Repayment
from creditmgmt.domain.money import D, Money, Percentage, Rate
from creditmgmt.domain.products import ProductType
from creditmgmt.domain.risk import RiskEvent, RiskEventStatus, Severity
from creditmgmt.domain.schedule import (
    Amortisation,
    DayCount,
    Frequency,
    Installment,
    RepaymentSchedule,
)

#: The classification history entry, under the name ARCHITECTURE.md uses.
Classification = ClassificationEntry

__all__ = [
    "Aggregate",
    "Allocation",
    "Amortisation",
    "ApplicationId",
    "ApplicationStatus",
    "Assessment",
    "BureauReport",
    "Category",
    "Classification",
    "ClassificationEntry",
    "ClassificationId",
    "Collateral",
    "CollateralId",
    "CollateralType",
    "Confidentiality",
    "CreditApplication",
    "CreditFile",
    "CreditFileId",
    "CreditMgmtError",
    "CurrencyMismatchError",
    "Customer",
    "CustomerGroup",
    "CustomerId",
    "CustomerKind",
    "CustomerStatus",
    "D",
    "DayCount",
    "Decision",
    "DomainError",
    "DomainEvent",
    "Drawdown",
    "DrawdownId",
    "EntityId",
    "Facility",
    "FacilityId",
    "FacilityLevel",
    "FacilityNotActiveError",
    "FacilityStatus",
    "FileEntry",
    "FinancialStatement",
    "FollowUpTask",
    "Frequency",
    "GroupId",
    "Guarantee",
    "GuaranteeId",
    "GuaranteeType",
    "IdSource",
    "Installment",
    "Interaction",
    "InteractionId",
    "InteractionKind",
    "InvalidIdentifierError",
    "InvalidMoneyError",
    "InvalidTransitionError",
    "InvalidValueError",
    "LimitExceededError",
    "LimitTree",
    "LoanStatus",
    "MissingDocumentsError",
    "Money",
    "MovementId",
    "NegativeAmountError",
    "OverpaymentError",
    "Percentage",
    "ProductType",
    "Rate",
    "RefreshCycle",
    "Repayment",
    "RepaymentSchedule",
    "RiskEvent",
    "RiskEventId",
    "RiskEventStatus",
    "Section",
    "Segment",
    "SelfApprovalError",
    "Severity",
    "Stage",
    "SubLimitExceedsParentError",
    "TaskId",
    "UserId",
    "Valuation",
    "label",
]
