"""What every use case needs besides its unit of work: clock, ids, rules and capital."""

from __future__ import annotations

from datetime import date

import attrs

from creditmgmt.domain.credit_file import Confidentiality
from creditmgmt.domain.errors import CurrencyMismatchError
from creditmgmt.domain.ids import IdSource
from creditmgmt.domain.money import Money, Rate
from creditmgmt.policies.registry import RuleSetNotFoundError, RuleSetRegistry
from creditmgmt.policies.ruleset import RuleSet
from creditmgmt.ports.calendar import BusinessCalendar, WeekendCalendar
from creditmgmt.ports.clock import Clock
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.ports.external import CreditBureau, ExchangeRates
from creditmgmt.services.access import DEFAULT_ACCESS, AccessPolicy
from creditmgmt.services.retry import DEFAULT_RETRY, RetryPolicy


class RuleBook:
    """The rule set in force on a business date: one `RuleSet` (always in force), or a
    `RuleSetRegistry` (the approved version effective on that date decides).

    Raises:
        ConfigurationError: neither a RuleSet nor a RuleSetRegistry.
    """

    def __init__(self, rules: RuleSet | RuleSetRegistry) -> None:
        if not isinstance(rules, RuleSet | RuleSetRegistry):
            raise ConfigurationError(
                f"rules must be a RuleSet or a RuleSetRegistry, got {type(rules).__name__}"
            )
        self._rules = rules

    def as_of(self, day: date) -> RuleSet:
        """The rule set deciding on `day`.

        Raises:
            RuleSetNotFoundError: the registry has no version in force on that date.
        """
        if isinstance(self._rules, RuleSet):
            return self._rules
        return self._rules.as_of(day)

    def get(self, ref: str) -> RuleSet:
        """The rule set a stored decision names (`id@version#sha`), for replay.

        Raises:
            RuleSetNotFoundError: no held rule set has that reference.
        """
        if isinstance(self._rules, RuleSet):
            if self._rules.ref != ref:
                raise RuleSetNotFoundError(
                    f"decision was made under {ref}; the desk holds only {self._rules.ref} "
                    "(open the desk with a RuleSetRegistry holding both to replay it)"
                )
            return self._rules
        return self._rules.get(ref)


@attrs.frozen(kw_only=True)
class Capital:
    """The institution's capital figures the concentration caps are shares of.

    Raises:
        CurrencyMismatchError: the two figures are in different currencies.
    """

    net_capital: Money
    tier1_net: Money

    def __attrs_post_init__(self) -> None:
        if self.net_capital.currency != self.tier1_net.currency:
            raise CurrencyMismatchError(
                f"net capital {self.net_capital} and tier-1 net {self.tier1_net} differ in currency"
            )


@attrs.frozen(kw_only=True)
class Context:
    """The collaborators of every use case (immutable; one per desk)."""

    clock: Clock
    ids: IdSource
    rules: RuleBook
    institution_region: str
    capital: Capital | None = None
    bureau: CreditBureau | None = None
    fx: ExchangeRates | None = None
    access: AccessPolicy = DEFAULT_ACCESS
    #: working days for review deadlines, due-date rolling and reminders
    calendar: BusinessCalendar = attrs.field(factory=WeekendCalendar)
    retry: RetryPolicy = DEFAULT_RETRY
    #: documents every application must carry before assessment (资料清单)
    required_documents: tuple[str, ...] = ("business_licence", "financial_statements")
    #: annual rate of the bullet schedule a drawdown gets when the caller gives none
    default_annual_rate: Rate = attrs.field(factory=lambda: Rate.of("0.0435"))
    #: clearance a new file entry gets when the caller names none
    default_confidentiality: Confidentiality = Confidentiality.INTERNAL
