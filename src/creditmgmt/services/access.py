"""Who may make which call: principals, roles, one role policy, and PII masking.

    admin = Principal("usr_admin", roles={Role.ADMIN}, branch="310000")
    approver = Principal("usr_li", roles={Role.APPROVER}, authority="regional")

The policy is one small table (`AccessPolicy`): call name → the roles allowed, role → the
credit-file confidentiality level it may read, and the roles that see personal data (PII:
registration ids, national ids, phone numbers) unmasked. `DEFAULT_ACCESS` is the table below;
a host passes its own with `open_desk(..., access=...)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import attrs

from creditmgmt.domain.credit_file import Confidentiality
from creditmgmt.domain.ids import UserId
from creditmgmt.domain.pii import mask as mask  # the one PII masking (re-exported)
from creditmgmt.ports.errors import ConfigurationError


class Role(StrEnum):
    RELATIONSHIP_MANAGER = "relationship_manager"
    CREDIT_ANALYST = "credit_analyst"
    APPROVER = "approver"
    RISK_OFFICER = "risk_officer"
    AUDITOR = "auditor"
    ADMIN = "admin"


#: Approval authority levels, lowest first (授权审批权限).
AUTHORITY_LEVELS: Final = ("branch", "regional", "head_office", "board")
#: Level names a rule set may use for the same rung (cn-2023 says "head_office_committee").
_LEVEL_ALIASES: Final = MappingProxyType({"head_office_committee": "head_office"})


def authority_rank(level: str) -> int:
    """0 for "branch" … 3 for "board".

    Raises:
        ConfigurationError: an unknown level (names it and the known ones).
    """
    name = _LEVEL_ALIASES.get(level, level)
    try:
        return AUTHORITY_LEVELS.index(name)
    except ValueError:
        raise ConfigurationError(
            f"unknown approval authority level {level!r}; known: {', '.join(AUTHORITY_LEVELS)}"
        ) from None


def _roles(value: Iterable[Role | str]) -> frozenset[Role]:
    try:
        return frozenset(Role(r) for r in value)
    except ValueError as e:
        raise ConfigurationError(f"Principal.roles: {e}") from None


def _user_id(value: UserId | str) -> UserId:
    return value if isinstance(value, UserId) else UserId(value)


def _check_authority(instance: object, attribute: object, value: str | None) -> None:
    if value is not None:
        authority_rank(value)


@attrs.frozen
class Principal:
    """The acting user: id, roles, home branch and (for approvers) authority level.

    Raises:
        InvalidIdentifierError: a malformed user id.
        ConfigurationError: an unknown role or authority level.
    """

    user_id: UserId = attrs.field(converter=_user_id)
    roles: frozenset[Role] = attrs.field(converter=_roles)
    branch: str | None = attrs.field(default=None, kw_only=True)
    authority: str | None = attrs.field(default=None, kw_only=True, validator=_check_authority)

    def has(self, role: Role) -> bool:
        return role in self.roles

    def __str__(self) -> str:
        return str(self.user_id)


#: The principal the daily run and other system jobs act as.
SYSTEM: Final = Principal("system", roles={Role.ADMIN})

_RM, _AN, _AP, _RO, _AU, _AD = (
    Role.RELATIONSHIP_MANAGER,
    Role.CREDIT_ANALYST,
    Role.APPROVER,
    Role.RISK_OFFICER,
    Role.AUDITOR,
    Role.ADMIN,
)
_EVERYONE = frozenset(Role)

DEFAULT_CALLS: Final[Mapping[str, frozenset[Role]]] = MappingProxyType(
    {
        # onboarding and customers
        "onboard_customer": frozenset({_RM, _AD}),
        "update_customer": frozenset({_RM, _AD}),
        "exit_customer": frozenset({_RM, _RO, _AD}),
        "form_group": frozenset({_RM, _AN, _AD}),
        "open_limit": frozenset({_AD}),
        # credit files
        "add_statement": frozenset({_RM, _AN, _AD}),
        "add_file_entry": frozenset({_RM, _AN, _AD}),
        "verify_entry": frozenset({_AN, _RO, _AD}),
        "pull_bureau_report": frozenset({_RM, _AN, _AD}),
        "credit_file": _EVERYONE,
        # applications and decisions
        "submit_application": frozenset({_RM, _AN, _AD}),
        "receive_document": frozenset({_RM, _AN, _AD}),
        "withdraw_application": frozenset({_RM, _AN, _AD}),
        "assess": frozenset({_AN, _RO, _AD}),
        "approve": frozenset({_AP}),
        "decline": frozenset({_AP}),
        "contract": frozenset({_RM, _AN, _AD}),
        "activate": frozenset({_RM, _AN, _AD}),
        "request_limit_change": frozenset({_RM, _AN, _AD}),
        "replay": _EVERYONE,
        # facility operations
        "draw": frozenset({_RM, _AD}),
        "repay": frozenset({_RM, _AD}),
        "reserve": frozenset({_RM, _AD}),
        "release": frozenset({_RM, _AD}),
        "freeze": frozenset({_RO, _AD}),
        "unfreeze": frozenset({_RO, _AD}),
        "suspend": frozenset({_RO, _AD}),
        "resume": frozenset({_RO, _AD}),
        "close": frozenset({_RO, _AD}),
        # risk events and relationship work
        "acknowledge": frozenset({_RM, _RO, _AD}),
        "resolve": frozenset({_RO, _AD}),
        "escalate": frozenset({_RM, _RO, _AD}),
        "watchlist": frozenset({_RO, _AD}),
        "log_interaction": frozenset({_RM, _AD}),
        "schedule_task": frozenset({_RM, _AD}),
        "complete_task": frozenset({_RM, _AD}),
        "resolve_complaint": frozenset({_RM, _AD}),
        "timeline": _EVERYONE,
        # read models, reports, jobs
        "facility": _EVERYONE,
        "tree": _EVERYONE,
        "customer_exposure": _EVERYONE,
        "customer": _EVERYONE,
        "report": _EVERYONE,
        "portfolio": _EVERYONE,
        "export_csv": frozenset({_RM, _AN, _RO, _AU, _AD}),
        "run_daily": frozenset({_RO, _AD}),
        "run_log": _EVERYONE,
        "verify_audit": frozenset({_AU, _AD}),
    }
)

DEFAULT_CLEARANCE: Final[Mapping[Role, Confidentiality]] = MappingProxyType(
    {
        _RM: Confidentiality.CONFIDENTIAL,
        _AN: Confidentiality.CONFIDENTIAL,
        _AP: Confidentiality.SECRET,
        _RO: Confidentiality.CONFIDENTIAL,
        _AU: Confidentiality.SECRET,
        _AD: Confidentiality.SECRET,
    }
)

DEFAULT_PII_READERS: Final = frozenset({_RM, _AN, _AP, _AD})


@attrs.frozen
class AccessPolicy:
    """The role table. `calls`: call → roles allowed; `clearance`: role → highest
    credit-file confidentiality it reads; `pii_readers`: roles that see PII unmasked.

    Raises:
        ConfigurationError: a call missing from the table is asked about (`allows`).
    """

    calls: Mapping[str, frozenset[Role]] = DEFAULT_CALLS
    clearance: Mapping[Role, Confidentiality] = DEFAULT_CLEARANCE
    pii_readers: frozenset[Role] = DEFAULT_PII_READERS

    def allows(self, principal: Principal, call: str) -> bool:
        try:
            allowed = self.calls[call]
        except KeyError:
            raise ConfigurationError(f"the access policy has no entry for call {call!r}") from None
        return not allowed.isdisjoint(principal.roles)

    def clearance_of(self, principal: Principal) -> Confidentiality:
        """The highest level any of the principal's roles reads (PUBLIC with none)."""
        return max(
            (self.clearance.get(r, Confidentiality.PUBLIC) for r in principal.roles),
            default=Confidentiality.PUBLIC,
        )

    def reads_pii(self, principal: Principal) -> bool:
        return not self.pii_readers.isdisjoint(principal.roles)

    def with_calls(self, **changes: Iterable[Role | str]) -> AccessPolicy:
        """A copy with some calls' roles replaced, e.g. `with_calls(draw={"admin"})`.

        Raises:
            ConfigurationError: an unknown call name or role.
        """
        unknown = sorted(set(changes) - set(self.calls))
        if unknown:
            raise ConfigurationError(f"unknown call(s) in access policy: {', '.join(unknown)}")
        calls = dict(self.calls)
        calls.update({name: _roles(roles) for name, roles in changes.items()})
        return attrs.evolve(self, calls=MappingProxyType(calls))


DEFAULT_ACCESS: Final = AccessPolicy()
