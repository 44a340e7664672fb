"""Credit facilities (授信额度) and the limit tree.

`node`: a `Facility` — one node of a limit tree — with its levels, statuses, transitions and
events. `limit_tree`: `LimitTree`, the operations that move money and change limits over loaded
nodes while keeping the tree's invariants, and the errors they raise. Every name is importable
from here, as before the two were split.
"""

from creditmgmt.domain.facility.limit_tree import (
    FacilityOutsideTermError,
    LimitBelowUtilisationError,
    LimitExceededError,
    LimitTree,
    RepaymentExceedsDrawnError,
    SubLimitExceedsParentError,
)
from creditmgmt.domain.facility.node import (
    AmountReleased,
    AmountReserved,
    DrawdownMade,
    Facility,
    FacilityActivated,
    FacilityLevel,
    FacilityNotActiveError,
    FacilityOpened,
    FacilityRenewed,
    FacilityStatus,
    FacilityStatusChanged,
    LimitChanged,
    PrincipalRepaid,
    TreeStructureError,
)

__all__ = [
    "AmountReleased",
    "AmountReserved",
    "DrawdownMade",
    "Facility",
    "FacilityActivated",
    "FacilityLevel",
    "FacilityNotActiveError",
    "FacilityOpened",
    "FacilityOutsideTermError",
    "FacilityRenewed",
    "FacilityStatus",
    "FacilityStatusChanged",
    "LimitBelowUtilisationError",
    "LimitChanged",
    "LimitExceededError",
    "LimitTree",
    "PrincipalRepaid",
    "RepaymentExceedsDrawnError",
    "SubLimitExceedsParentError",
    "TreeStructureError",
]
