"""The composition root: build a `CreditDesk` from a store URL (or mapping) and rules.

    from creditmgmt.bootstrap import open_desk
    with open_desk("sqlite:///book.db", rules="cn-2023", clock=clock,
                   institution_region="310000") as desk:
        ...

Nothing connects, loads or creates files at import time; `open_desk` does it all when
called, and `desk.close()` (or leaving the `with` block) releases the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from creditmgmt.adapters.clocks_and_ids import UuidIdSource
from creditmgmt.adapters.stores import open_store
from creditmgmt.domain.customer import check_region
from creditmgmt.domain.ids import IdSource
from creditmgmt.policies.builtin import builtin_names, builtin_ruleset
from creditmgmt.policies.registry import RuleSetRegistry
from creditmgmt.policies.ruleset import RuleSet, load_ruleset
from creditmgmt.ports.calendar import BusinessCalendar, WeekendCalendar
from creditmgmt.ports.clock import Clock
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.ports.external import CreditBureau, ExchangeRates
from creditmgmt.services.access import DEFAULT_ACCESS, AccessPolicy
from creditmgmt.services.context import Capital, Context, RuleBook
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.retry import DEFAULT_RETRY, RetryPolicy


def resolve_rules(rules: str | Path | RuleSet | RuleSetRegistry) -> RuleBook:
    """A built-in name ("cn-2023"), a path to a rule-set file, a `RuleSet` or a
    `RuleSetRegistry`, as the desk's `RuleBook`.

    Raises:
        ConfigurationError: anything else, or a string that is neither a built-in name nor
            an existing file (names both).
        PolicyLoadError, PolicyCheckError: the file does not load or an approved one fails
            its checks.
    """
    if isinstance(rules, RuleSet | RuleSetRegistry):
        return RuleBook(rules)
    if isinstance(rules, str) and rules in builtin_names():
        return RuleBook(builtin_ruleset(rules))
    if isinstance(rules, str | Path):
        path = Path(rules)
        if not path.is_file():
            raise ConfigurationError(
                f"rules={str(rules)!r} is neither a built-in rule set "
                f"({', '.join(builtin_names())}) nor a rule-set file"
            )
        return RuleBook(load_ruleset(path))
    raise ConfigurationError(
        "rules must be a built-in name, a path, a RuleSet or a RuleSetRegistry, "
        f"got {type(rules).__name__}"
    )


def open_desk(
    url_or_mapping: str | Mapping[str, Any],
    *,
    rules: str | Path | RuleSet | RuleSetRegistry,
    clock: Clock,
    institution_region: str,
    ids: IdSource | None = None,
    bureau: CreditBureau | None = None,
    fx: ExchangeRates | None = None,
    access: AccessPolicy | None = None,
    capital: Capital | None = None,
    retry: RetryPolicy | None = None,
    calendar: BusinessCalendar | None = None,
) -> CreditDesk:
    """Open the store and compose the desk.

    `capital` (net capital and tier-1 net) turns on the concentration caps of the rule set
    for drawdowns and assessments; `retry` bounds the re-runs of a unit of work that lost
    an optimistic race (default `DEFAULT_RETRY`: 20 runs with jittered backoff from 10 ms
    capped at 250 ms); `calendar` counts working days (default Monday–Friday;
    `adapters.calendars.ChineseWorkingDays` for PRC holidays).

    Raises:
        ConfigurationError: bad rules, region, store URL or option (nothing was opened).
        InvalidValueError: a malformed institution region code.
        PolicyLoadError, PolicyCheckError: the rule-set file does not load.
        StoreUnavailableError, DataError: the store cannot be opened or is damaged.
    """
    check_region(institution_region, "institution_region")
    book = resolve_rules(rules)
    if not isinstance(clock, Clock):
        raise ConfigurationError(f"clock must have now() and today(), got {type(clock).__name__}")
    store = open_store(url_or_mapping, clock=clock)
    context = Context(
        clock=clock,
        ids=ids or UuidIdSource(),
        rules=book,
        institution_region=institution_region,
        capital=capital,
        bureau=bureau,
        fx=fx,
        access=access or DEFAULT_ACCESS,
        retry=retry or DEFAULT_RETRY,
        calendar=calendar or WeekendCalendar(),
    )
    return CreditDesk(store, context)
