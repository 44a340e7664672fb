"""Customer credit files (客户资信档案): sourced, dated, verified, refreshed, access-controlled.

A credit file has sections (basic info, business status, financial statements, credit
records, litigation, documents, covenants). Every entry records its source, as-of date, who
verified it and when, its refresh-due date and its confidentiality level;
`readable_by(clearance)` gives the entries a reader with that clearance may see (查阅权限).
Financial statements carry the figures the ratios are derived from; a ratio whose denominator
is zero is `None`, never an exception and never a float. Financial covenants of the loan
agreement (`Covenant`) are filed in the covenants section and tested against the latest
statement (`covenant_breaches`).

Key persons (关键人员) are facts of the basic information (`KEY_PERSON_FACTS`: the actual
controller, the chairman, the CFO). Replacing a basic-information entry by one that names
another person for such a fact, or no longer names one, is a key-person change dated by the
new entry's as-of date (`CreditFile.key_person_changes`); naming a person for the first time
is not. The change of controller, chairman or CFO is a red early-warning trigger.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import Final

import attrs
from dateutil.relativedelta import relativedelta

from creditmgmt.domain.covenant import Covenant
from creditmgmt.domain.errors import (
    CurrencyMismatchError,
    DomainError,
    InvalidTransitionError,
    InvalidValueError,
    NegativeAmountError,
)
from creditmgmt.domain.events import Aggregate, DomainEvent, domain_event
from creditmgmt.domain.ids import CreditFileId, CustomerId, IdSource, UserId
from creditmgmt.domain.money import MONEY_CONTEXT, Money
from creditmgmt.domain.text import CODE_MAX, NAME_MAX, NOTE_MAX, REF_MAX, text


class EntryNotFoundError(DomainError):
    """No entry with that key in the credit file."""

    default_message = "credit file entry not found"


class Section(StrEnum):
    BASIC_INFO = "basic_info"
    BUSINESS_STATUS = "business_status"
    FINANCIAL_STATEMENTS = "financial_statements"
    CREDIT_RECORDS = "credit_records"
    LITIGATION = "litigation"
    DOCUMENTS = "documents"
    COVENANTS = "covenants"


class Confidentiality(IntEnum):
    """保密级别, ordered: a reader sees entries at or below their clearance."""

    PUBLIC = 0
    INTERNAL = 1
    CONFIDENTIAL = 2
    SECRET = 3


class RefreshCycle(StrEnum):
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"

    @property
    def months(self) -> int:
        return {"quarterly": 3, "half_yearly": 6, "yearly": 12}[self.value]

    def next_due(self, as_of: date) -> date:
        """as_of + the cycle (month-end safe: Aug 31 + 6 months = Feb 28/29)."""
        return as_of + relativedelta(months=self.months)


# Section contents --------------------------------------------------------------------------
def _ratio(numerator: Money, denominator: Money) -> Decimal | None:
    if denominator.is_zero:
        return None
    return numerator.ratio_to(denominator)


#: Stocks and flows that cannot be negative (equity, profits and cash flows can).
_NEVER_NEGATIVE = frozenset(
    {
        "current_assets",
        "total_assets",
        "current_liabilities",
        "total_liabilities",
        "revenue",
        "interest_expense",
        "debt_service",
    }
)


@attrs.frozen(kw_only=True)
class FinancialStatement:
    """One period's balance sheet, income statement and cash flow (same currency).

    Ratios are exact Decimals; a ratio whose denominator is zero is `None` ("not meaningful"),
    e.g. interest coverage of a company without interest expense.

    Raises:
        CurrencyMismatchError: a figure in another currency than the statement.
        NegativeAmountError: a negative asset, liability, revenue, interest or debt service.
        InvalidValueError: current assets (liabilities) above total assets (liabilities).
    """

    period_end: date
    currency: str = attrs.field(validator=text(CODE_MAX))
    current_assets: Money
    total_assets: Money
    current_liabilities: Money
    total_liabilities: Money
    equity: Money
    revenue: Money
    ebitda: Money
    ebit: Money
    interest_expense: Money
    net_profit: Money
    operating_cash_flow: Money
    debt_service: Money  # principal + interest due in the period
    audited: bool = False

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, Money) and value.currency != self.currency:
                raise CurrencyMismatchError(
                    f"statement {self.period_end}: {field.name} is in {value.currency}, "
                    f"the statement in {self.currency}"
                )
            if field.name in _NEVER_NEGATIVE and value.is_negative:
                raise NegativeAmountError(
                    f"statement {self.period_end}: {field.name} {value} must not be negative"
                )
        if self.current_assets > self.total_assets:
            raise InvalidValueError(
                f"statement {self.period_end}: current assets {self.current_assets} exceed "
                f"total assets {self.total_assets}"
            )
        if self.current_liabilities > self.total_liabilities:
            raise InvalidValueError(
                f"statement {self.period_end}: current liabilities {self.current_liabilities} "
                f"exceed total liabilities {self.total_liabilities}"
            )

    @property
    def current_ratio(self) -> Decimal | None:
        """流动比率 current assets ÷ current liabilities."""
        return _ratio(self.current_assets, self.current_liabilities)

    @property
    def debt_to_assets(self) -> Decimal | None:
        """资产负债率 total liabilities ÷ total assets."""
        return _ratio(self.total_liabilities, self.total_assets)

    @property
    def interest_coverage(self) -> Decimal | None:
        """利息保障倍数 EBIT ÷ interest expense."""
        return _ratio(self.ebit, self.interest_expense)

    @property
    def dscr(self) -> Decimal | None:
        """偿债覆盖率 operating cash flow ÷ debt service."""
        return _ratio(self.operating_cash_flow, self.debt_service)

    def revenue_growth(self, previous: FinancialStatement) -> Decimal | None:
        """Revenue change against an earlier period: (this − previous) ÷ previous."""
        if previous.revenue.is_zero:
            return None
        return MONEY_CONTEXT.divide(
            (self.revenue - previous.revenue).amount, previous.revenue.amount
        )


@attrs.frozen(kw_only=True)
class BureauReport:
    """A credit bureau report (征信报告) on the customer."""

    bureau: str = attrs.field(validator=text(NAME_MAX))
    report_date: date
    overdue_at_other_banks: bool
    npl_share_all_banks: Decimal  # share of the debtor's debt at all banks > 90 DPD
    total_debt: Money
    external_rating: str | None = attrs.field(default=None, validator=text(CODE_MAX, optional=True))

    def __attrs_post_init__(self) -> None:
        if self.total_debt.is_negative:
            raise NegativeAmountError(
                f"bureau report {self.report_date}: total_debt {self.total_debt} is negative"
            )
        if not Decimal(0) <= self.npl_share_all_banks <= Decimal(1):
            raise InvalidValueError(
                f"npl_share_all_banks must be within [0, 1], got {self.npl_share_all_banks}"
            )


class LitigationRole(StrEnum):
    PLAINTIFF = "plaintiff"
    DEFENDANT = "defendant"
    THIRD_PARTY = "third_party"


@attrs.frozen(kw_only=True)
class LitigationCase:
    case_id: str = attrs.field(validator=text(REF_MAX))
    claim: Money
    role: LitigationRole
    # as the court registry reports it (pending, judged, enforced, closed ...)
    status: str = attrs.field(validator=text(REF_MAX))

    def __attrs_post_init__(self) -> None:
        if self.claim.is_negative:
            raise NegativeAmountError(f"litigation {self.case_id}: claim {self.claim} is negative")


@attrs.frozen(kw_only=True)
class DocumentRef:
    title: str = attrs.field(validator=text(NAME_MAX))
    # where the host keeps the document (a URI or archive number)
    reference: str = attrs.field(validator=text(NOTE_MAX))


#: Each kind of record an entry may hold: its type, and the section it is filed in.
_PAYLOADS: dict[str, tuple[type, Section]] = {
    "financial_statement": (FinancialStatement, Section.FINANCIAL_STATEMENTS),
    "bureau_report": (BureauReport, Section.CREDIT_RECORDS),
    "litigation": (LitigationCase, Section.LITIGATION),
    "document": (DocumentRef, Section.DOCUMENTS),
    "covenant": (Covenant, Section.COVENANTS),
}


#: The basic-information facts naming the customer's key persons: the actual controller
#: (实际控制人), the chairman (董事长) and the CFO (财务负责人).
KEY_PERSON_FACTS: Final[tuple[str, ...]] = ("controller", "chairman", "cfo")


@attrs.frozen(kw_only=True)
class FileEntry:
    """One sourced fact in a credit file section."""

    key: str = attrs.field(validator=text(REF_MAX))
    section: Section
    source: str = attrs.field(validator=text(REF_MAX))
    as_of: date
    confidentiality: Confidentiality = Confidentiality.INTERNAL
    refresh_due: date
    verified_by: UserId | None = None
    verified_on: date | None = None
    archived: bool = False
    financial_statement: FinancialStatement | None = None
    bureau_report: BureauReport | None = None
    litigation: LitigationCase | None = None
    document: DocumentRef | None = None
    covenant: Covenant | None = None
    # free key/value facts (basic info, business status)
    facts: tuple[tuple[str, str], ...] = attrs.field(default=(), validator=text(NOTE_MAX))

    def __attrs_post_init__(self) -> None:
        if self.refresh_due <= self.as_of:
            raise InvalidValueError(
                f"entry {self.key}: refresh_due {self.refresh_due} must be after as_of {self.as_of}"
            )
        if (self.verified_by is None) != (self.verified_on is None):
            raise InvalidValueError(
                f"entry {self.key}: verified_by and verified_on are given together or not at all"
            )
        if not isinstance(self.section, Section):
            raise InvalidValueError(f"entry {self.key}: section must be a Section")
        if not isinstance(self.confidentiality, Confidentiality):
            raise InvalidValueError(f"entry {self.key}: confidentiality must be a Confidentiality")
        payloads = {n: getattr(self, n) for n in _PAYLOADS if getattr(self, n) is not None}
        for name, record in payloads.items():
            kind = _PAYLOADS[name][0]
            if not isinstance(record, kind):
                raise InvalidValueError(
                    f"entry {self.key}: {name} must be a {kind.__name__}, "
                    f"got {type(record).__name__}"
                )
        if len(payloads) > 1:
            raise InvalidValueError(
                f"entry {self.key} carries {' and '.join(payloads)}; one entry holds one record"
            )
        for name in payloads:
            section = _PAYLOADS[name][1]
            if self.section is not section:
                raise InvalidValueError(
                    f"entry {self.key}: a {name} belongs in section {section.value}, "
                    f"not {self.section.value}"
                )

    @property
    def is_verified(self) -> bool:
        return self.verified_by is not None

    def key_persons(self) -> dict[str, str]:
        """The key persons the entry names, by fact (`KEY_PERSON_FACTS`), surrounding white
        space stripped; a blank value names no one, and an entry outside `basic_info` names
        no key person."""
        if self.section is not Section.BASIC_INFO:
            return {}
        named = {name: value.strip() for name, value in self.facts if name in KEY_PERSON_FACTS}
        return {name: value for name, value in named.items() if value}

    def key_persons_changed_from(self, replaced: FileEntry) -> tuple[str, ...]:
        """The key-person facts this entry, replacing `replaced`, changes (in
        `KEY_PERSON_FACTS` order): those `replaced` named and this one names otherwise or not
        at all. A fact `replaced` did not name is named for the first time: no change."""
        before, after = replaced.key_persons(), self.key_persons()
        return tuple(f for f in KEY_PERSON_FACTS if f in before and after.get(f) != before[f])


@attrs.frozen(kw_only=True)
class KeyPersonChange:
    """A replacement of a credit-file entry that changed key persons: `key` of the entry,
    `on` the new entry's as-of date, `facts` the key-person facts it changed."""

    key: str
    on: date
    facts: tuple[str, ...]


@domain_event
class CreditFileEntryRecorded(DomainEvent):
    key: str
    section: Section
    as_of: date


@domain_event
class KeyPersonsChanged(DomainEvent):
    """A recorded entry replaced one that named other key persons (the facts that changed,
    not the persons)."""

    key: str
    facts: tuple[str, ...]
    as_of: date


@domain_event
class CreditFileEntryVerified(DomainEvent):
    key: str
    verified_by: str
    on: date


@attrs.define(kw_only=True)
class CreditFile(Aggregate):
    """The credit file of one customer. Open with `CreditFile.open(...)`."""

    id: CreditFileId
    customer_id: CustomerId
    refresh_cycle: RefreshCycle = RefreshCycle.YEARLY
    entries: tuple[FileEntry, ...] = ()
    archived_on: date | None = None

    @classmethod
    def open(
        cls, ids: IdSource, *, customer_id: CustomerId, refresh_cycle: RefreshCycle
    ) -> CreditFile:
        return cls(id=CreditFileId.new(ids), customer_id=customer_id, refresh_cycle=refresh_cycle)

    def _ensure_open(self) -> None:
        if self.archived_on is not None:
            raise InvalidTransitionError(f"credit file {self.id} archived on {self.archived_on}")

    def record(
        self,
        *,
        key: str,
        section: Section,
        source: str,
        as_of: date,
        confidentiality: Confidentiality = Confidentiality.INTERNAL,
        refresh_due: date | None = None,
        financial_statement: FinancialStatement | None = None,
        bureau_report: BureauReport | None = None,
        litigation: LitigationCase | None = None,
        document: DocumentRef | None = None,
        covenant: Covenant | None = None,
        facts: dict[str, str] | None = None,
    ) -> FileEntry:
        """Add an entry, or replace the live entry with the same key (the old one is archived).

        The refresh-due date defaults to as_of + the file's refresh cycle. A replacement starts
        unverified: whoever verified the old record did not verify the new one. A replacement
        that changes key persons also records `KeyPersonsChanged`.

        Raises:
            InvalidTransitionError: the file is archived.
            InvalidValueError: an empty key or source, refresh_due not after as_of, a record
                filed in the wrong section (a statement outside `financial_statements`, a
                covenant outside `covenants`, ...), or more than one record in one entry.
        """
        self._ensure_open()
        if not key.strip() or not source.strip():
            raise InvalidValueError("a credit file entry needs a key and a source")
        entry = FileEntry(
            key=key,
            section=section,
            source=source,
            as_of=as_of,
            confidentiality=confidentiality,
            refresh_due=refresh_due or self.refresh_cycle.next_due(as_of),
            financial_statement=financial_statement,
            bureau_report=bureau_report,
            litigation=litigation,
            document=document,
            covenant=covenant,
            facts=tuple(sorted((facts or {}).items())),
        )
        replaced = next((e for e in self.entries if e.key == key and not e.archived), None)
        kept = tuple(
            attrs.evolve(e, archived=True) if e.key == key and not e.archived else e
            for e in self.entries
        )
        self.entries = (*kept, entry)
        self._record(
            CreditFileEntryRecorded(
                aggregate_id=str(self.id), key=key, section=section, as_of=as_of
            )
        )
        changed = entry.key_persons_changed_from(replaced) if replaced is not None else ()
        if changed:
            self._record(
                KeyPersonsChanged(aggregate_id=str(self.id), key=key, facts=changed, as_of=as_of)
            )
        return entry

    def entry(self, key: str) -> FileEntry:
        """The live entry with `key`. Raises `EntryNotFoundError`."""
        for e in self.entries:
            if e.key == key and not e.archived:
                return e
        raise EntryNotFoundError(f"credit file {self.id} has no live entry {key!r}")

    def verify(self, key: str, *, by: UserId, on: date) -> None:
        """Mark the live entry verified (核实). Raises `EntryNotFoundError`."""
        self._ensure_open()
        target = self.entry(key)
        self.entries = tuple(
            attrs.evolve(e, verified_by=by, verified_on=on) if e is target else e
            for e in self.entries
        )
        self._record(
            CreditFileEntryVerified(aggregate_id=str(self.id), key=key, verified_by=str(by), on=on)
        )

    def live_entries(self, section: Section | None = None) -> list[FileEntry]:
        return [
            e for e in self.entries if not e.archived and (section is None or e.section is section)
        ]

    def due_for_refresh(self, as_of: date) -> list[FileEntry]:
        """Live entries whose refresh-due date is on or before `as_of`."""
        return [e for e in self.live_entries() if e.refresh_due <= as_of]

    def readable_by(self, clearance: Confidentiality) -> list[FileEntry]:
        """Live entries a reader with `clearance` may see."""
        return [e for e in self.live_entries() if e.confidentiality <= clearance]

    def statements(self) -> list[FinancialStatement]:
        """Financial statements of live entries, oldest period first."""
        found = [e.financial_statement for e in self.live_entries() if e.financial_statement]
        return sorted(found, key=lambda s: s.period_end)

    def latest_bureau_report(self) -> BureauReport | None:
        reports = [e.bureau_report for e in self.live_entries() if e.bureau_report]
        return max(reports, key=lambda r: r.report_date) if reports else None

    def key_person_changes(self, since: date) -> list[KeyPersonChange]:
        """The key-person changes dated on or after `since`, oldest first: each entry (live or
        archived) whose key-person facts differ from those of the entry it replaced (the one
        with the same key recorded before it), dated by its as-of date."""
        previous: dict[str, FileEntry] = {}
        found: list[KeyPersonChange] = []
        for e in self.entries:  # in the order recorded: a key's entries replaced each other
            replaced = previous.get(e.key)
            previous[e.key] = e
            if replaced is None or e.as_of < since:
                continue
            changed = e.key_persons_changed_from(replaced)
            if changed:
                found.append(KeyPersonChange(key=e.key, on=e.as_of, facts=changed))
        return sorted(found, key=lambda c: c.on)

    def covenants(self) -> list[Covenant]:
        """Covenants of live entries, in the order they were filed."""
        return [e.covenant for e in self.live_entries() if e.covenant is not None]

    def covenant_breaches(self) -> list[Covenant] | None:
        """The live covenants the latest financial statement breaks (a ratio it cannot give
        is no breach); None when the file holds no live covenant or no statement to test
        them against. Raises nothing."""
        tested = self._covenant_test()
        return None if tested is None else [e.covenant for e in tested[1] if e.covenant]

    def covenant_breach_dated(self) -> date | None:
        """The date the covenant breach the file shows is known from: the later of the as-of
        dates of the entry holding the latest financial statement and of the newest entry
        holding a covenant it breaks (a new statement, or a new covenant, that breaks one is
        a new fact); None when no covenant is broken. Raises nothing."""
        tested = self._covenant_test()
        if tested is None or not tested[1]:
            return None
        latest, broken = tested
        return max([latest.as_of, *(e.as_of for e in broken)])

    def _covenant_test(self) -> tuple[FileEntry, list[FileEntry]] | None:
        """The live entry holding the latest financial statement (by period end; of two for
        one period, the one filed later, as `statements()` orders them) and the live covenant
        entries it breaks; None when there is no live covenant or no statement."""
        live = self.live_entries()
        covenants = [e for e in live if e.covenant is not None]
        found = [e for e in live if e.financial_statement is not None]
        if not covenants or not found:
            return None
        latest = sorted(found, key=lambda e: e.financial_statement.period_end)[-1]  # type: ignore[union-attr]
        statement = latest.financial_statement
        assert statement is not None
        return latest, [e for e in covenants if e.covenant and e.covenant.breached_by(statement)]

    def archive(self, *, on: date) -> None:
        """Archive the whole file (归档) — e.g. after the customer exits; read-only afterwards.

        Raises:
            InvalidTransitionError: already archived.
        """
        self._ensure_open()
        self.archived_on = on
