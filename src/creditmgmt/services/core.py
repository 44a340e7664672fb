"""The desk's call machinery: permission, one unit of work, the audit record, retries.

Every state-changing call runs `DeskCore._write`: the principal's permission is checked
(a refusal writes only its own audit record and raises `PermissionDeniedError`), the use case
runs in a fresh unit of work, an audit entry naming every aggregate it touched (versions
before and after) and any `ruleset_ref` is appended, and the unit commits — all of it or
nothing. A unit that loses an optimistic race (`ConflictError`) is run again from its first
read under the desk's `RetryPolicy` (bounded, jittered). Calls with an idempotency `key`
store their result in the audit entry, whose id derives from the key: a repeated key returns
the first result and moves nothing, also after a restart or from another process.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar

from creditmgmt.domain.customer import Customer
from creditmgmt.domain.errors import CreditMgmtError
from creditmgmt.domain.events import Aggregate
from creditmgmt.domain.ids import CustomerId
from creditmgmt.domain.text import REF_MAX, check_text
from creditmgmt.ports.audit import AuditEntry
from creditmgmt.ports.errors import ConflictError, DataError, IntegrityError
from creditmgmt.ports.slices import PortfolioSlice
from creditmgmt.ports.store import Store
from creditmgmt.ports.unit_of_work import UnitOfWork
from creditmgmt.services.access import Principal
from creditmgmt.services.arguments import checked
from creditmgmt.services.context import Context
from creditmgmt.services.errors import IdempotencyKeyError, PermissionDeniedError
from creditmgmt.services.retry import retry_on_conflict

T = TypeVar("T")
JSON = Any

log = logging.getLogger("creditmgmt.desk")

#: Stored kind names of the aggregates, for audit subjects ("facility:fac_1@3>4").
_KIND_NAMES = {
    "Customer": "customer",
    "CustomerGroup": "group",
    "CreditFile": "credit_file",
    "Facility": "facility",
    "Drawdown": "drawdown",
    "CreditApplication": "application",
    "RiskEvent": "risk_event",
    "Interaction": "interaction",
    "FollowUpTask": "task",
    "ClassificationEntry": "classification",
    "Collateral": "collateral",
    "Guarantee": "guarantee",
}


def subject_of(aggregate: Aggregate) -> str:
    """`kind:id` of an aggregate, as audit records name it."""
    kind = _KIND_NAMES.get(type(aggregate).__name__, type(aggregate).__name__.lower())
    return f"{kind}:{aggregate.id}"


class Call:
    """What a use case reports to its audit record while it runs."""

    def __init__(self, name: str, principal: Principal, audit_id: str) -> None:
        self.name = name
        #: the id of the audit entry this call will write (a decision id, for replay)
        self.id = audit_id
        self.principal = principal
        self.subjects: dict[str, tuple[int, int]] = {}
        self.ruleset_ref: str | None = None
        self.detail: dict[str, JSON] = {}

    def touch(self, *aggregates: Aggregate) -> None:
        """Aggregates the call changes (version v → v + 1) or adds (0 → 1)."""
        for agg in aggregates:
            self.subjects.setdefault(subject_of(agg), (agg.version, agg.version + 1))

    def decided(self, ruleset_ref: str) -> None:
        """The rule set a decision of this call came from."""
        self.ruleset_ref = ruleset_ref

    def note(self, **detail: JSON) -> None:
        """Plain JSON facts for the audit record (amounts as strings)."""
        self.detail.update(detail)


class DeskCore:
    """State shared by the desk's calls: the store, the context and the call machinery.

    Every public method a mixin defines refuses arguments of the domain's own types that are
    not of them (`services.arguments.checked`), with `InvalidValueError` naming the call and
    the parameter.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, value in list(vars(cls).items()):
            if not name.startswith("_") and inspect.isfunction(value):
                setattr(cls, name, checked(value))

    def __init__(self, store: Store, context: Context) -> None:
        self._store = store
        self._ctx = context

    @property
    def store(self) -> Store:
        return self._store

    @property
    def context(self) -> Context:
        return self._ctx

    # lifecycle --------------------------------------------------------------------------------
    def close(self) -> None:
        """Release the store (connections, files, locks)."""
        self._store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # machinery ----------------------------------------------------------------------------
    def _new_audit_id(self) -> str:
        return f"aud_{self._ctx.ids.next_id()}"

    def _permit(self, by: Principal, call: str, subject: str) -> None:
        if not isinstance(by, Principal):
            raise PermissionDeniedError(f"{call}: by= must be a Principal, got {type(by).__name__}")
        if self._ctx.access.allows(by, call):
            return
        roles = ", ".join(sorted(r.value for r in by.roles)) or "no role"
        message = f"{by.user_id} ({roles}) may not call {call}" + (
            f" on {subject}" if subject else ""
        )
        self._audit_refusal(by, call, subject, message)
        log.info("refused: %s", message)
        raise PermissionDeniedError(message)

    def _audit_refusal(self, by: Principal, call: str, subject: str, message: str) -> None:
        """Write the audit record of a permission refusal (in a unit of work of its own)."""
        refusal = AuditEntry(
            id=self._new_audit_id(),
            at=self._ctx.clock.now(),
            actor=str(by.user_id),
            action=call,
            subject=subject,
            detail=message,
            outcome="refused",
        )

        def write() -> None:
            with self._store.unit_of_work() as uow:
                uow.audit.append(refusal)
                uow.commit()

        retry_on_conflict(write, policy=self._ctx.retry)

    def _read(
        self, call: str, by: Principal, work: Callable[[UnitOfWork], T], *, subject: str = ""
    ) -> T:
        """A read-only call: permission, then `work` in one unit of work (nothing written)."""
        self._permit(by, call, subject)
        with self._store.unit_of_work() as uow:
            return work(uow)

    def _write(
        self,
        call: str,
        by: Principal,
        work: Callable[[UnitOfWork, Call], T],
        *,
        subject: str = "",
        keyed: Keyed[T] | None = None,
    ) -> T:
        """A state-changing call (see the module doc).

        Raises:
            PermissionDeniedError: the principal may not make the call.
            IdempotencyKeyError: the key was used before with other arguments.
            ConflictError: every attempt lost an optimistic race.
            CreditMgmtError: whatever the use case refuses with; nothing was written.
        """
        self._permit(by, call, subject)
        audit_id = keyed.audit_id(call, subject) if keyed else None

        def attempt() -> T:
            with self._store.unit_of_work() as uow:
                if keyed is not None and audit_id is not None:
                    first = uow.audit.get(audit_id)
                    if first is not None:
                        return keyed.replay(first, call)
                record = Call(call, by, audit_id or self._new_audit_id())
                result = work(uow, record)
                detail: dict[str, JSON] = dict(record.detail)
                if keyed is not None:
                    detail["request"] = keyed.request
                    detail["result"] = keyed.encode(result)
                main = subject or next(iter(record.subjects), "")
                uow.audit.append(
                    AuditEntry(
                        id=record.id,
                        at=self._ctx.clock.now(),
                        actor=str(by.user_id),
                        action=call,
                        subject=main,
                        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True)
                        if detail
                        else "",
                        ruleset_ref=record.ruleset_ref,
                        subjects=tuple(
                            f"{name}@{before}>{after}"
                            for name, (before, after) in record.subjects.items()
                        ),
                    )
                )
                uow.commit()
                return result

        def keyed_attempt() -> T:
            try:
                return attempt()
            except IntegrityError:
                # a racing call with the same key committed first: answer with its result
                assert keyed is not None and audit_id is not None
                with self._store.unit_of_work() as uow:
                    first = uow.audit.get(audit_id)
                if first is None:
                    raise
                return keyed.replay(first, call)

        try:
            return retry_on_conflict(
                keyed_attempt if keyed is not None else attempt,
                policy=self._ctx.retry,
                retry_on=(ConflictError,),
            )
        except PermissionDeniedError as refused:
            # refused by the use case (e.g. above the principal's clearance): its unit of
            # work wrote nothing; record the refusal like one for the principal's roles
            self._audit_refusal(by, call, subject, str(refused))
            log.info("refused: %s", refused)
            raise


class Keyed(Generic[T]):
    """An idempotency key with the request it guards and how its result is stored."""

    def __init__(
        self,
        key: str,
        request: dict[str, JSON],
        encode: Callable[[T], JSON],
        decode: Callable[[JSON], T],
    ) -> None:
        if not isinstance(key, str) or not key or len(key) > REF_MAX:
            raise IdempotencyKeyError(
                f"an idempotency key is a non-empty string of at most {REF_MAX} characters, "
                f"got {key!r}"
            )
        check_text(key, "key", max_length=REF_MAX)  # no NUL, no lone surrogate
        self.key = key
        self.request = request
        self.encode = encode
        self.decode = decode

    def audit_id(self, call: str, subject: str) -> str:
        digest = hashlib.sha256(f"{call}\0{subject}\0{self.key}".encode()).hexdigest()
        return f"key_{call}_{digest[:40]}"

    def replay(self, first: AuditEntry, call: str) -> T:
        try:
            stored = json.loads(first.detail)
            request, result = stored["request"], stored["result"]
        except (ValueError, KeyError, TypeError) as e:
            raise IdempotencyKeyError(
                f"{call}: key {self.key!r} is taken by audit entry {first.id}, which holds no "
                "result"
            ) from e
        if request != self.request:
            raise IdempotencyKeyError(
                f"{call}: key {self.key!r} was first used for {request}, now for {self.request}"
            )
        try:
            return self.decode(result)
        except (ValueError, KeyError, TypeError, CreditMgmtError) as e:
            raise DataError(
                f"{call}: key {self.key!r}: audit entry {first.id} holds a result that cannot "
                f"be read: {e}"
            ) from e


def customers_after(uow: UnitOfWork, cursor: str | None, size: int) -> list[Customer]:
    """The next `size` customers of the book in id order after `cursor` (from the start when
    None): the page the daily run and the portfolio reports walk the book by."""
    start = None if cursor is None else CustomerId(cursor)
    page = next(
        iter(uow.customers.scan(slice=PortfolioSlice.customers(start), batch_size=size + 1)), []
    )
    return [c for c in page if cursor is None or str(c.id) > cursor][:size]
