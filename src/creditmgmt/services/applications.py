"""Applications (授信申请与审批): the desk's application calls. Intake is here: submit, the
document checklist, withdrawal, and limit changes and renewals, which take the same path;
rating and sizing are in `services.assessment`, approval, contract and activation into the
limit tree in `services.approval`."""

from __future__ import annotations

from creditmgmt.domain.application import CreditApplication, RequestKind
from creditmgmt.domain.choices import member
from creditmgmt.domain.errors import InvalidTransitionError
from creditmgmt.domain.ids import ApplicationId, CustomerId, FacilityId
from creditmgmt.domain.money import Money
from creditmgmt.domain.products import ProductType
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal
from creditmgmt.services.approval import ApprovalCalls
from creditmgmt.services.assessment import AssessmentCalls
from creditmgmt.services.context import Context
from creditmgmt.services.core import Call


def _check_applicant(uow: UnitOfWork, customer_id: CustomerId) -> None:
    """Raises `NotFoundError` (unknown customer), `InvalidTransitionError` (it has exited)."""
    customer = uow.customers.get(customer_id)
    if customer.status.value == "exited":
        raise InvalidTransitionError(f"customer {customer_id} has exited")


def _submit(uow: UnitOfWork, call: Call, ctx: Context, app: CreditApplication) -> ApplicationId:
    """Submit a drafted application and file it."""
    app.submit(by=call.principal.user_id, at=ctx.clock.now())
    uow.applications.add(app)
    call.touch(app)
    call.note(requested=str(app.requested), kind=app.request_kind.value)
    return app.id


class ApplicationCalls(AssessmentCalls, ApprovalCalls):
    """Desk calls on credit applications, from intake to activation."""

    def submit_application(
        self,
        by: Principal,
        *,
        customer_id: CustomerId,
        product_type: ProductType | str,
        requested: Money,
        term_months: int,
        purpose: str,
        parent: FacilityId | None = None,
        documents_required: tuple[str, ...] | None = None,
    ) -> ApplicationId:
        """Draft and submit a new credit; `parent` is the node its sub-limit goes under
        (default: the customer's master limit), `documents_required` its checklist (default:
        the desk's, `Context.required_documents`).

        Raises:
            PermissionDeniedError: the principal may not submit.
            NotFoundError: unknown customer or facility.
            InvalidValueError: a non-positive amount or term, a product type that does not
                exist.
            InvalidTransitionError: the customer has exited, or `parent` is another
                customer's facility.
        """

        def work(uow: UnitOfWork, call: Call) -> ApplicationId:
            ctx = self._ctx
            _check_applicant(uow, customer_id)
            if parent is not None:
                target = uow.facilities.get(parent)
                if target.customer_id not in (None, customer_id):
                    raise InvalidTransitionError(
                        f"facility {parent} belongs to customer {target.customer_id}, "
                        f"not {customer_id}"
                    )
            app = CreditApplication.draft(
                ctx.ids,
                customer_id=customer_id,
                product_type=member(ProductType, product_type, "product_type"),
                requested=requested,
                term_months=term_months,
                purpose=purpose,
                maker=call.principal.user_id,
                at=ctx.clock.now(),
                documents_required=ctx.required_documents
                if documents_required is None
                else documents_required,
                target_facility_id=parent,
            )
            return _submit(uow, call, ctx, app)

        return self._write("submit_application", by, work, subject=f"customer:{customer_id}")

    def receive_document(self, by: Principal, application_id: ApplicationId, name: str) -> None:
        """Tick a document off the application's checklist.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError.
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            app = uow.applications.get(application_id)
            app.receive_document(name)
            call.touch(app)
            call.note(document=name)

        self._write("receive_document", by, work, subject=f"application:{application_id}")

    def withdraw_application(
        self, by: Principal, application_id: ApplicationId, *, reason: str = ""
    ) -> None:
        """Withdraw before a decision.

        Raises:
            PermissionDeniedError, NotFoundError, InvalidTransitionError.
        """

        def work(uow: UnitOfWork, call: Call) -> None:
            app = uow.applications.get(application_id)
            app.withdraw(by=call.principal.user_id, at=self._ctx.clock.now(), reason=reason)
            call.touch(app)

        self._write("withdraw_application", by, work, subject=f"application:{application_id}")

    def request_limit_change(
        self,
        by: Principal,
        facility_id: FacilityId,
        *,
        new_limit: Money,
        reason: str,
        renewal_months: int | None = None,
    ) -> ApplicationId:
        """An application to change (or, with `renewal_months`, renew) a facility's limit,
        decided like any application; it needs no documents.

        Raises:
            PermissionDeniedError: the principal may not request it.
            NotFoundError: unknown facility.
            InvalidValueError: a non-positive limit or term.
            InvalidTransitionError: a group limit (changed by an admin), a terminal
                facility, or its customer has exited.
        """

        def work(uow: UnitOfWork, call: Call) -> ApplicationId:
            ctx = self._ctx
            facility = uow.facilities.get(facility_id)
            if facility.customer_id is None:
                raise InvalidTransitionError(
                    f"facility {facility_id} is a group limit: change it as admin"
                )
            if facility.status.is_terminal:
                raise InvalidTransitionError(f"facility {facility_id} is {facility.status.value}")
            kind = (
                RequestKind.RENEWAL
                if renewal_months
                else (
                    RequestKind.INCREASE if new_limit > facility.limit else RequestKind.LIMIT_CHANGE
                )
            )
            _check_applicant(uow, facility.customer_id)
            app = CreditApplication.draft(
                ctx.ids,
                customer_id=facility.customer_id,
                product_type=facility.product_type or ProductType.WORKING_CAPITAL,
                requested=new_limit,
                term_months=renewal_months or 12,
                purpose=reason,
                maker=call.principal.user_id,
                at=ctx.clock.now(),
                documents_required=(),
                request_kind=kind,
                target_facility_id=facility_id,
            )
            return _submit(uow, call, ctx, app)

        return self._write("request_limit_change", by, work, subject=f"facility:{facility_id}")


__all__ = ["ApplicationCalls"]
