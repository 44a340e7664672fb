"""The credit desk: use cases over the domain, the rules and the store ports.

    from creditmgmt.bootstrap import open_desk
    from creditmgmt.services import Principal, Role

See SERVICES.md / docs/tutorial.md. Every call is one unit of work, checked against the
role policy and audited in a hash chain.
"""

from creditmgmt.ports.audit import AuditVerification
from creditmgmt.services.access import (
    AUTHORITY_LEVELS,
    DEFAULT_ACCESS,
    SYSTEM,
    AccessPolicy,
    Principal,
    Role,
    mask,
)
from creditmgmt.services.context import Capital, Context, RuleBook
from creditmgmt.services.credit_files import CreditFileView
from creditmgmt.services.decisions import Replay, ReplayedDecision
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.errors import (
    AssessmentError,
    AuthorityError,
    ConcentrationCapError,
    DeskError,
    DuplicateCustomerError,
    GroupLimitError,
    IdempotencyKeyError,
    NotEligibleError,
    PermissionDeniedError,
)
from creditmgmt.services.facilities import CustomerExposureView, FacilityView
from creditmgmt.services.onboarding import CustomerView
from creditmgmt.services.relationship import TimelineItem
from creditmgmt.services.retry import (
    DEFAULT_RETRY,
    NO_RETRY,
    SHORT_RETRY,
    RetryPolicy,
    retry_on_conflict,
)

__all__ = [
    "AUTHORITY_LEVELS",
    "DEFAULT_ACCESS",
    "DEFAULT_RETRY",
    "NO_RETRY",
    "SHORT_RETRY",
    "SYSTEM",
    "AccessPolicy",
    "AssessmentError",
    "AuditVerification",
    "AuthorityError",
    "Capital",
    "ConcentrationCapError",
    "Context",
    "CreditDesk",
    "CreditFileView",
    "CustomerExposureView",
    "CustomerView",
    "DeskError",
    "DuplicateCustomerError",
    "FacilityView",
    "GroupLimitError",
    "IdempotencyKeyError",
    "NotEligibleError",
    "PermissionDeniedError",
    "Principal",
    "Replay",
    "ReplayedDecision",
    "RetryPolicy",
    "Role",
    "RuleBook",
    "TimelineItem",
    "mask",
    "retry_on_conflict",
]
