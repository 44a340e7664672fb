"""Credit files (客户资信档案): sourced entries, statements, bureau reports, verification,
and reading them at the principal's confidentiality clearance."""

from __future__ import annotations

from datetime import date

import attrs

from creditmgmt.domain.choices import member
from creditmgmt.domain.covenant import Covenant
from creditmgmt.domain.credit_file import (
    Confidentiality,
    CreditFile,
    DocumentRef,
    FileEntry,
    FinancialStatement,
    LitigationCase,
    Section,
)
from creditmgmt.domain.ids import CustomerId
from creditmgmt.ports.errors import ConfigurationError, NotFoundError
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal
from creditmgmt.services.context import Context
from creditmgmt.services.core import Call, DeskCore
from creditmgmt.services.errors import PermissionDeniedError


def file_of(uow: UnitOfWork, customer_id: CustomerId) -> CreditFile:
    """The customer's credit file.

    Raises:
        NotFoundError: no customer, or no credit file for it (names the customer).
    """
    credit_file = uow.credit_files.for_customer(customer_id)
    if credit_file is None:
        uow.customers.get(customer_id)  # NotFoundError for an unknown customer
        raise NotFoundError(f"customer {customer_id} has no credit file")
    return credit_file


def _check_clearance(
    ctx: Context, by: Principal, level: Confidentiality, customer_id: CustomerId
) -> None:
    clearance = ctx.access.clearance_of(by)
    if level > clearance:
        raise PermissionDeniedError(
            f"{by.user_id} (clearance {clearance.name.lower()}) may not file or read "
            f"{level.name.lower()} entries of customer {customer_id}"
        )


@attrs.frozen
class CreditFileView:
    """The live entries of a credit file a principal may read (others are not listed;
    `hidden` counts them)."""

    customer_id: CustomerId
    entries: tuple[FileEntry, ...]
    hidden: int
    statements: tuple[FinancialStatement, ...]


def _level(ctx: Context, confidentiality: object) -> Confidentiality:
    """The level an entry is filed at: the desk's default, or the one given (a member or its
    number). Raises `InvalidValueError` for a level that does not exist."""
    if confidentiality is None:
        return ctx.default_confidentiality
    return member(Confidentiality, confidentiality, "confidentiality")


class CreditFileCalls(DeskCore):
    """Desk calls on credit files."""

    def add_file_entry(
        self,
        by: Principal,
        customer_id: CustomerId,
        *,
        key: str,
        section: Section | str,
        source: str,
        as_of: date,
        confidentiality: Confidentiality | None = None,
        refresh_due: date | None = None,
        facts: dict[str, str] | None = None,
        litigation: LitigationCase | None = None,
        document: DocumentRef | None = None,
        covenant: Covenant | None = None,
    ) -> str:
        """File an entry (replacing the live one with the same key); returns its key.
        `confidentiality` defaults to the desk's default level. A `covenant` of the loan
        agreement is filed in section `covenants`; the daily run tests the live ones against
        the latest financial statement.

        Raises:
            PermissionDeniedError (also above the principal's clearance), NotFoundError,
            InvalidValueError, InvalidTransitionError (archived file).
        """

        def work(uow: UnitOfWork, call: Call) -> str:
            level = _level(self._ctx, confidentiality)
            _check_clearance(self._ctx, call.principal, level, customer_id)
            credit_file = file_of(uow, customer_id)
            entry = credit_file.record(
                key=key,
                section=member(Section, section, "section"),
                source=source,
                as_of=as_of,
                confidentiality=level,
                refresh_due=refresh_due,
                facts=facts,
                litigation=litigation,
                document=document,
                covenant=covenant,
            )
            call.touch(credit_file)
            call.note(key=entry.key, section=entry.section.value)
            return entry.key

        return self._write("add_file_entry", by, work, subject=f"customer:{customer_id}")

    def add_statement(
        self,
        by: Principal,
        customer_id: CustomerId,
        statement: FinancialStatement,
        *,
        source: str = "customer",
        confidentiality: Confidentiality | None = None,
    ) -> str:
        """File a financial statement under key `statement:<period end>`; returns the key.

        Raises:
            PermissionDeniedError (also above the principal's clearance), NotFoundError,
            InvalidValueError (a confidentiality level that does not exist),
            InvalidTransitionError.
        """

        def work(uow: UnitOfWork, call: Call) -> str:
            level = _level(self._ctx, confidentiality)
            _check_clearance(self._ctx, call.principal, level, customer_id)
            credit_file = file_of(uow, customer_id)
            key = f"statement:{statement.period_end.isoformat()}"
            credit_file.record(
                key=key,
                section=Section.FINANCIAL_STATEMENTS,
                source=source,
                as_of=statement.period_end,
                confidentiality=level,
                financial_statement=statement,
            )
            call.touch(credit_file)
            call.note(key=key)
            return key

        return self._write("add_statement", by, work, subject=f"customer:{customer_id}")

    def verify_entry(self, by: Principal, customer_id: CustomerId, key: str) -> None:
        """Mark the live entry verified by the principal today.

        Raises:
            PermissionDeniedError (also above the principal's clearance), NotFoundError,
            EntryNotFoundError, InvalidTransitionError.
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            credit_file = file_of(uow, customer_id)
            level = credit_file.entry(key).confidentiality
            _check_clearance(self._ctx, call.principal, level, customer_id)
            credit_file.verify(key, by=call.principal.user_id, on=self._ctx.clock.today())
            call.touch(credit_file)
            call.note(key=key)

        self._write("verify_entry", by, work, subject=f"customer:{customer_id}")

    def pull_bureau_report(self, by: Principal, customer_id: CustomerId) -> str:
        """Fetch a bureau report (征信报告) through the `CreditBureau` port and file it,
        CONFIDENTIAL, verified by the bureau's own source. Returns the entry key.

        Raises:
            PermissionDeniedError: `by` may not pull reports.
            ConfigurationError: the desk has no bureau.
            NotFoundError: unknown customer, or the customer has no registration id.
            ExternalServiceError: the bureau could not answer (nothing was filed).
        """

        def work(uow: UnitOfWork, call: Call) -> str:
            if self._ctx.bureau is None:
                raise ConfigurationError(
                    "this desk has no credit bureau (open_desk(..., bureau=...))"
                )
            customer = uow.customers.get(customer_id)
            if customer.registration_id is None:
                raise NotFoundError(f"customer {customer_id} has no registration id to query")
            today = self._ctx.clock.today()
            report = self._ctx.bureau.fetch_report(customer.registration_id, as_of=today)
            credit_file = file_of(uow, customer_id)
            key = f"bureau:{report.bureau}"
            credit_file.record(
                key=key,
                section=Section.CREDIT_RECORDS,
                source=f"bureau:{report.bureau}",
                as_of=report.report_date,
                confidentiality=Confidentiality.CONFIDENTIAL,
                bureau_report=report,
            )
            call.touch(credit_file)
            call.note(key=key, report_date=report.report_date.isoformat())
            return key

        return self._write("pull_bureau_report", by, work, subject=f"customer:{customer_id}")

    def credit_file(self, by: Principal, customer_id: CustomerId) -> CreditFileView:
        """The entries the principal's clearance reads (confidentiality levels).

        Raises:
            PermissionDeniedError, NotFoundError.
        """

        def read(uow: UnitOfWork) -> CreditFileView:
            credit_file = file_of(uow, customer_id)
            clearance = self._ctx.access.clearance_of(by)
            readable = credit_file.readable_by(clearance)
            return CreditFileView(
                customer_id=customer_id,
                entries=tuple(readable),
                hidden=len(credit_file.live_entries()) - len(readable),
                statements=tuple(
                    sorted(
                        (e.financial_statement for e in readable if e.financial_statement),
                        key=lambda s: s.period_end,
                    )
                ),
            )

        return self._read("credit_file", by, read, subject=f"customer:{customer_id}")
