"""Builders for tests against the credit desk: a desk on any store, the usual principals,
and a customer walked through the whole credit process in one call.

    desk = a_desk()                                   # memory store, cn-2023, fixed clock
    customer, facility = a_funded_customer(desk)      # onboarded, assessed, approved, active
    desk.draw(RM, facility, M("1000.00 CNY"), key="k1")
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final

from creditmgmt.adapters.bureau import FakeBureau
from creditmgmt.adapters.clocks_and_ids import FixedClock, SequentialIds
from creditmgmt.bootstrap import open_desk
from creditmgmt.domain.covenant import Covenant
from creditmgmt.domain.credit_file import LitigationCase, Section
from creditmgmt.domain.ids import CustomerId, FacilityId
from creditmgmt.domain.money import Money
from creditmgmt.policies.registry import RuleSetRegistry
from creditmgmt.policies.ruleset import RuleSet
from creditmgmt.ports.calendar import BusinessCalendar
from creditmgmt.services.access import Principal, Role
from creditmgmt.services.context import Capital
from creditmgmt.services.desk import CreditDesk
from creditmgmt.services.retry import RetryPolicy
from creditmgmt.testing.builders import a_statement, make_uscc

#: The desk's business day in examples: Monday 2 March 2026, 09:00 UTC.
DESK_AT: Final = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

RM: Final = Principal("usr_rm", roles={Role.RELATIONSHIP_MANAGER}, branch="310000")
ANALYST: Final = Principal("usr_analyst", roles={Role.CREDIT_ANALYST})
APPROVER: Final = Principal("usr_approver", roles={Role.APPROVER}, authority="regional")
BOARD: Final = Principal("usr_board", roles={Role.APPROVER}, authority="board")
RISK: Final = Principal("usr_risk", roles={Role.RISK_OFFICER})
AUDITOR: Final = Principal("usr_auditor", roles={Role.AUDITOR})
ADMIN: Final = Principal("usr_admin", roles={Role.ADMIN})

#: The source `a_filed_record` names for what it files.
FIXTURE_SOURCE: Final = "test fixture"

#: Capital of a mid-sized bank: caps of CNY 1 bn (customer loans) and 1.2 bn (customer LE).
DEFAULT_CAPITAL: Final = Capital(
    net_capital=Money.of("10000000000.00", "CNY"), tier1_net=Money.of("8000000000.00", "CNY")
)


def a_desk(
    store: str | Mapping[str, Any] = "memory://",
    *,
    rules: str | RuleSet | RuleSetRegistry = "cn-2023",
    clock: FixedClock | None = None,
    ids: SequentialIds | None = None,
    capital: Capital | None = DEFAULT_CAPITAL,
    bureau: FakeBureau | None = None,
    retry: RetryPolicy | None = None,
    calendar: BusinessCalendar | None = None,
) -> CreditDesk:
    """A desk for tests: memory store, cn-2023, a fixed clock at `DESK_AT`, sequential ids,
    the default capital and a fake bureau. Raises what `open_desk` raises."""
    return open_desk(
        store,
        rules=rules,
        clock=clock or FixedClock(DESK_AT),
        institution_region="310000",
        ids=ids or SequentialIds(),
        bureau=bureau or FakeBureau(),
        capital=capital,
        retry=retry,
        calendar=calendar,
    )


def an_onboarded_customer(
    desk: CreditDesk,
    *,
    serial: int = 1,
    home_region: str = "310000",
    legal_name: str = "上海示例贸易有限公司",
    statements: bool = True,
) -> CustomerId:
    """A Shanghai SME with two years of statements on file (2024, 2025)."""
    customer = desk.onboard_customer(
        RM,
        kind="sme",
        legal_name=legal_name,
        registration_id=make_uscc(serial, region=home_region),
        home_region=home_region,
        industry_code="F5191",
    )
    if statements:
        desk.add_statement(
            ANALYST, customer, a_statement(period_end=date(2024, 12, 31), revenue="45000000")
        )
        desk.add_statement(ANALYST, customer, a_statement(period_end=date(2025, 12, 31)))
    return customer


def a_filed_record(
    desk: CreditDesk,
    customer: CustomerId,
    record: Covenant | LitigationCase | Mapping[str, str],
    *,
    key: str,
    as_of: date,
) -> str:
    """File `record` in its section of the customer's credit file as the analyst, sourced
    to `FIXTURE_SOURCE` (a covenant under covenants, a litigation case under litigation,
    facts — a mapping — under basic information), replacing the live entry with the same
    `key`; returns the key.

    Raises:
        What `CreditDesk.add_file_entry` raises.
    """
    field: dict[str, Any]
    if isinstance(record, Covenant):
        section, field = Section.COVENANTS, {"covenant": record}
    elif isinstance(record, LitigationCase):
        section, field = Section.LITIGATION, {"litigation": record}
    else:
        section, field = Section.BASIC_INFO, {"facts": dict(record)}
    return desk.add_file_entry(
        ANALYST, customer, key=key, section=section, source=FIXTURE_SOURCE, as_of=as_of, **field
    )


def a_funded_customer(
    desk: CreditDesk,
    *,
    serial: int = 1,
    limit: str = "3000000.00",
    pd: str = "0.004",
    approver: Principal = APPROVER,
    term_months: int = 12,
) -> tuple[CustomerId, FacilityId]:
    """Onboard, apply, assess (with a stated PD), approve and activate: the customer and
    its new product facility (CNY `limit`, active)."""
    customer = an_onboarded_customer(desk, serial=serial)
    app = desk.submit_application(
        RM,
        customer_id=customer,
        product_type="working_capital",
        requested=Money.of(limit, "CNY"),
        term_months=term_months,
        purpose="working capital",
        documents_required=(),
    )
    desk.assess(ANALYST, app, pd=pd)
    desk.approve(approver, app)
    return customer, desk.activate(RM, app)


__all__ = [
    "ADMIN",
    "ANALYST",
    "APPROVER",
    "AUDITOR",
    "BOARD",
    "DEFAULT_CAPITAL",
    "DESK_AT",
    "FIXTURE_SOURCE",
    "RISK",
    "RM",
    "a_desk",
    "a_filed_record",
    "a_funded_customer",
    "an_onboarded_customer",
]
