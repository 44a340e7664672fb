"""The desk on SQLite (file), PostgreSQL and MariaDB: drawdowns, approvals, idempotency keys
and the audit chain; every refusal leaves the store exactly as it was (a permission refusal
adds its one audit record)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from creditmgmt.domain import LimitExceededError, LimitTree, Money
from creditmgmt.domain.application import SelfApprovalError
from creditmgmt.domain.credit_file import Confidentiality
from creditmgmt.domain.ids import DrawdownId, FacilityId
from creditmgmt.services import (
    AuthorityError,
    Capital,
    ConcentrationCapError,
    CreditDesk,
    IdempotencyKeyError,
    PermissionDeniedError,
)

Dump = Callable[[CreditDesk], dict[str, Any]]


def M(text: str) -> Money:
    return Money.of(text, "CNY")


def test_draw_approve_and_audit(store_config: dict[str, Any], desks: Any, new_book: Any) -> None:
    desk = desks(store_config)
    book = new_book(desk)
    cid, fid = book.facility("3000000.00")
    first = desk.draw(book.rm, fid, M("1000000.00"), key="dd-1")
    second = desk.draw(book.rm, fid, M("500000.00"), key="dd-2")
    assert first != second
    exposure = desk.customer_exposure(book.rm, cid)
    assert exposure.drawn == M("1500000.00")
    assert exposure.available == M("1500000.00")
    allocation = desk.repay(book.rm, fid, M("200000.00"), key="rp-1")
    assert allocation.principal + allocation.interest + allocation.fees == M("200000.00")
    with desk.store.unit_of_work() as uow:
        path = uow.facilities.path_to_root(fid)
        assert LimitTree(uow.facilities.tree(path[0].id)).violations() == []
        loans = uow.drawdowns.find(facility_id=fid)
    assert sorted(str(loan.id) for loan in loans) == sorted([str(first), str(second)])
    assert path[-1].drawn == M("1500000.00") - allocation.principal
    check = desk.verify_audit()
    assert check.ok, check
    trail = desk.audit_trail(book.auditor)
    assert [e.sequence for e in trail] == list(range(1, check.checked + 1))
    actions = [e.action for e in trail]
    assert actions.count("draw") == 2 and actions.count("approve") == 1
    approval = next(e for e in trail if e.action == "approve")
    assert approval.actor == str(book.approver.user_id) and approval.ruleset_ref
    with desk.store.unit_of_work() as uow:
        customer = uow.customers.get(cid)
    personal = (customer.registration_id, customer.legal_name)
    assert all(p and p not in repr(entry) for entry in trail for p in personal)  # no PII


def _one_refusal(
    before: dict[str, Any], after: dict[str, Any], action: str, actor: str
) -> dict[str, Any]:
    """The one audit entry added between two dumps: a refusal of `action` by `actor`."""
    added = sorted(set(after["audit"]) - set(before["audit"]))
    assert len(added) == 1, added
    refusal: dict[str, Any] = after["audit"][added[0]][1]["data"]
    assert (refusal["outcome"], refusal["action"], refusal["actor"]) == ("refused", action, actor)
    return refusal


def _drawn_once(
    desk: CreditDesk, new_book: Any, *, key: str
) -> tuple[CreditDesk, Any, FacilityId, DrawdownId]:
    """(desk, book, facility id, the drawdown): 1,000,000.00 drawn on a new customer's
    facility under the idempotency `key`."""
    book = new_book(desk)
    _cid, fid = book.facility()
    return desk, book, fid, desk.draw(book.rm, fid, M("1000000.00"), key=key)


def test_a_repeated_key_moves_nothing_after_reopening_and_from_a_second_desk(
    store_config: dict[str, Any], desks: Any, new_book: Any, dump_store: Dump
) -> None:
    desk, book, fid, first = _drawn_once(desks(store_config), new_book, key="once")
    assert desk.draw(book.rm, fid, M("1000000.00"), key="once") == first
    paid = desk.repay(book.rm, fid, M("100000.00"), key="pay-once")
    before = dump_store(desk)
    desk.close()

    reopened = desks(store_config)
    assert reopened.draw(book.rm, fid, M("1000000.00"), key="once") == first
    assert reopened.repay(book.rm, fid, M("100000.00"), key="pay-once") == paid
    other = desks(store_config)  # a second desk on the same store at the same time
    assert other.draw(book.rm, fid, M("1000000.00"), key="once") == first
    assert dump_store(other) == before
    with pytest.raises(IdempotencyKeyError, match="once"):
        other.draw(book.rm, fid, M("2000000.00"), key="once")
    assert dump_store(reopened) == before
    assert reopened.verify_audit().ok


HEAD = "~chain-head"


def _without_new_audit(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """`after` minus the audit entries `before` lacks and the chain head (checked apart)."""
    audit = {k: v for k, v in after["audit"].items() if k in before["audit"] and k != HEAD}
    return {**after, "audit": audit}


def test_every_refusal_leaves_the_store_unchanged(
    store_config: dict[str, Any], desks: Any, new_book: Any, dump_store: Dump
) -> None:
    desk = desks(store_config)
    book = new_book(desk)
    cid, fid = book.facility("3000000.00")
    desk.draw(book.rm, fid, M("1000000.00"), key="dd-1")
    own_application = book.assessed(book.customer(), by=book.maker_checker)
    big_application = book.assessed(book.customer(), "6000000.00")
    # the same store through a desk that knows the bank's (small) capital: caps bite
    capped = desks(
        store_config,
        capital=Capital(net_capital=M("10000000.00"), tier1_net=M("8000000.00")),
    )
    refusals: list[tuple[str, type[Exception], Callable[[], object]]] = [
        (
            "over the limit",
            LimitExceededError,
            lambda: desk.draw(book.rm, fid, M("2000000.01"), key="dd-2"),
        ),
        (
            "own application",
            SelfApprovalError,
            lambda: desk.approve(book.maker_checker, own_application),
        ),
        (
            "above authority",
            AuthorityError,
            lambda: desk.approve(book.branch_approver, big_application),
        ),
        (
            "concentration cap",
            ConcentrationCapError,
            lambda: capped.draw(book.rm, fid, M("1500000.00"), key="dd-3"),
        ),
        (
            "key reused for another amount",
            IdempotencyKeyError,
            lambda: desk.draw(book.rm, fid, M("1000000.01"), key="dd-1"),
        ),
    ]
    for what, error, call in refusals:
        before = dump_store(desk)
        with pytest.raises(error):
            call()
        assert dump_store(desk) == before, f"{what}: the store changed"

    before = dump_store(desk)
    with pytest.raises(PermissionDeniedError, match=str(book.analyst.user_id)):
        desk.draw(book.analyst, fid, M("1.00"), key="dd-4")
    after = dump_store(desk)
    refusal = _one_refusal(before, after, "draw", str(book.analyst.user_id))
    head_before, head_after = before["audit"][HEAD][1]["data"], after["audit"][HEAD][1]["data"]
    assert head_after["sequence"] == head_before["sequence"] + 1 == refusal["sequence"]
    assert _without_new_audit(before, after) == {
        **before,
        "audit": {k: v for k, v in before["audit"].items() if k != HEAD},
    }
    assert desk.verify_audit().ok
    assert desk.customer_exposure(book.rm, cid).drawn == M("1000000.00")


DAY = date(2026, 3, 2)
WORKER = Path(__file__).with_name("desk_worker.py")


def test_a_repeated_key_from_another_process_moves_nothing(
    store_config: dict[str, Any], desks: Any, new_book: Any, dump_store: Dump
) -> None:
    desk, _book, fid, first = _drawn_once(desks(store_config), new_book, key="cross-process")
    before = dump_store(desk)

    def worker(amount: str) -> dict[str, Any]:
        args = [json.dumps(store_config), "replay", str(fid), amount, "cross-process"]
        done = subprocess.run(
            [sys.executable, str(WORKER), *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    assert worker("1000000.00") == {"drawdown": str(first)}
    refused = worker("999.00")
    assert refused["error"] == "IdempotencyKeyError" and "cross-process" in refused["message"]
    assert dump_store(desk) == before


def test_a_refusal_for_clearance_is_audited_like_one_for_role(
    store_config: dict[str, Any], desks: Any, new_book: Any, dump_store: Dump
) -> None:
    """Filing a secret entry above the principal's clearance is a permission refusal too:
    it writes the audit record of the refusal and nothing else (SERVICES.md, Audit)."""
    desk = desks(store_config)
    book = new_book(desk)
    cid = book.customer()
    before = dump_store(desk)
    with pytest.raises(PermissionDeniedError, match="secret"):
        desk.add_file_entry(
            book.rm,
            cid,
            key="board-minutes",
            section="documents",
            source="board",
            as_of=DAY,
            confidentiality=Confidentiality.SECRET,
        )
    after = dump_store(desk)
    refusal = _one_refusal(before, after, "add_file_entry", "usr_rm")
    assert refusal["subject"] == f"customer:{cid}" and "secret" in refusal["detail"]
    assert _without_new_audit(before, after) == {
        **before,
        "audit": {k: v for k, v in before["audit"].items() if k != HEAD},
    }
    assert desk.verify_audit().ok
