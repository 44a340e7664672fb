"""Access control, PII masking, the audit trail and desk composition (memory store)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from tests.services.desk_state import stored_state

from creditmgmt.adapters.clocks_and_ids import FixedClock
from creditmgmt.bootstrap import open_desk
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.services import (
    DEFAULT_ACCESS,
    AccessPolicy,
    PermissionDeniedError,
    Principal,
    Role,
    mask,
)
from creditmgmt.services.access import DEFAULT_CALLS
from creditmgmt.services.desk import CreditDesk
from creditmgmt.testing.builders import M
from creditmgmt.testing.desk import (
    ADMIN,
    ANALYST,
    AUDITOR,
    DESK_AT,
    RISK,
    RM,
    a_desk,
    a_funded_customer,
    an_onboarded_customer,
)

STATE_CHANGING = {
    name
    for name in dir(CreditDesk)
    if not name.startswith("_")
    and name not in {"close", "store", "context", "verify_audit", "audit_trail", "replay"}
}


#: calls permitted under another call's entry: a reservation is committed as a draw, and
#: several reports at once are permitted report by report
CHECKED_AS = {"commit_reservation": "draw", "reports": "report"}


def test_every_public_call_is_in_the_policy_table() -> None:
    missing = {n for n in STATE_CHANGING if CHECKED_AS.get(n, n) not in DEFAULT_CALLS}
    assert missing == set()
    assert set(CHECKED_AS) <= STATE_CHANGING


def test_a_denied_call_writes_only_the_refusal() -> None:
    desk = a_desk()
    _, facility = a_funded_customer(desk)
    before = stored_state(desk)
    with pytest.raises(PermissionDeniedError, match="usr_auditor \\(auditor\\) may not call draw"):
        desk.draw(AUDITOR, facility, M("1.00 CNY"), key="x")
    after = stored_state(desk)
    assert {k: v for k, v in after.items() if k not in ("audit", "head")} == {
        k: v for k, v in before.items() if k not in ("audit", "head")
    }
    assert len(after["audit"]) == len(before["audit"]) + 1
    (refusal,) = [e for e in desk.audit_trail(ADMIN) if e.outcome == "refused"]
    assert (refusal.actor, refusal.action, refusal.subject) == (
        "usr_auditor",
        "draw",
        f"facility:{facility}",
    )
    assert desk.verify_audit().ok


def test_a_host_policy_changes_who_may_call_what() -> None:
    policy = DEFAULT_ACCESS.with_calls(draw={"admin", "risk_officer"})
    desk = open_desk(
        "memory://", rules="cn-2023", clock=FixedClock(DESK_AT), institution_region="310000",
        access=policy,
    )  # fmt: skip
    customer = an_onboarded_customer(desk, statements=False)
    assert customer
    with pytest.raises(ConfigurationError, match="unknown call"):
        DEFAULT_ACCESS.with_calls(fly={"admin"})
    with pytest.raises(ConfigurationError, match="admiral"):
        AccessPolicy().with_calls(draw={"admiral"})


def test_principals_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="authority level 'emperor'"):
        Principal("usr_x", roles={Role.APPROVER}, authority="emperor")
    with pytest.raises(ConfigurationError, match="roles"):
        Principal("usr_x", roles={"janitor"})
    assert not DEFAULT_ACCESS.allows(Principal("usr_nobody", roles=set()), "facility")


def test_pii_masking_keeps_the_last_four() -> None:
    assert mask("91310000MA1FL4T01A") == "**************T01A"
    assert mask("1234") == "****"
    assert mask(None) is None
    assert DEFAULT_ACCESS.reads_pii(RM) and not DEFAULT_ACCESS.reads_pii(RISK)


def test_every_state_change_is_audited_with_versions_and_ruleset() -> None:
    desk = a_desk()
    customer, facility = a_funded_customer(desk)
    desk.draw(RM, facility, M("100.00 CNY"), key="d1")
    trail = desk.audit_trail(AUDITOR)
    assert [e.action for e in trail] == [
        "onboard_customer",
        "add_statement",
        "add_statement",
        "submit_application",
        "assess",
        "approve",
        "activate",
        "draw",
    ]
    assert [e.sequence for e in trail] == list(range(1, 9))
    draw = trail[-1]
    assert draw.subject == f"facility:{facility}" and draw.actor == "usr_rm"
    assert f"facility:{facility}@1>2" in draw.subjects
    assert any(s.startswith("drawdown:") and s.endswith("@0>1") for s in draw.subjects)
    assert draw.ruleset_ref is not None and draw.ruleset_ref.startswith("cn-2023@")
    assert json.loads(draw.detail)["request"] == {"amount": "100.00 CNY"}
    assert trail[0].subjects[0] == f"customer:{customer}@0>1"
    assert desk.verify_audit().ok and desk.verify_audit().checked == 8


def test_verify_audit_names_a_tampered_entry() -> None:
    desk = a_desk()
    a_funded_customer(desk)
    backend = desk.store.backend  # type: ignore[attr-defined]
    entries = desk.audit_trail(ADMIN)
    target = entries[3]
    tx = backend.begin()
    record = tx.get("audit", target.id)
    doc = json.loads(json.dumps(record.document))
    doc["data"]["actor"] = "usr_mallory"
    from creditmgmt.adapters.records.contract import Record

    tx.update(Record("audit", target.id, record.version + 1, doc, record.columns))
    tx.commit()
    result = desk.verify_audit()
    assert not result.ok and result.first_broken == target.id
    assert "changed after it was written" in result.reason


def test_open_desk_refuses_bad_configuration_before_opening_anything(tmp_path: Path) -> None:
    clock = FixedClock(datetime(2026, 3, 2, tzinfo=UTC))
    with pytest.raises(ConfigurationError, match="neither a built-in rule set"):
        open_desk(f"sqlite:///{tmp_path}/x.db", rules="cn-2099", clock=clock,
                  institution_region="310000")  # fmt: skip
    assert not (tmp_path / "x.db").exists()
    from creditmgmt.domain import InvalidValueError

    with pytest.raises(InvalidValueError, match="institution_region"):
        open_desk("memory://", rules="cn-2023", clock=clock, institution_region="31")


def test_open_desk_takes_a_rule_file_and_a_registry(tmp_path: Path) -> None:
    from importlib import resources

    from creditmgmt.policies import RuleSetRegistry, builtin_ruleset

    text = (
        resources.files("creditmgmt.policies.builtin")
        .joinpath("cn-2023.yaml")
        .read_text(encoding="utf-8")
    )
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    clock = FixedClock(DESK_AT)
    with open_desk("memory://", rules=path, clock=clock, institution_region="310000") as desk:
        assert desk.context.rules.as_of(date(2026, 3, 2)).ref == builtin_ruleset("cn-2023").ref
    registry = RuleSetRegistry([builtin_ruleset("cn-2023")])
    with open_desk("memory://", rules=registry, clock=clock, institution_region="310000") as desk:
        assert desk.context.rules.as_of(date(2026, 3, 2)).id == "cn-2023"
    assert ANALYST


def test_the_customer_read_model_masks_pii_for_roles_that_may_not_read_it() -> None:
    desk = a_desk()
    customer = an_onboarded_customer(desk, statements=False)
    from creditmgmt.testing.builders import make_uscc

    full = desk.customer(RM, customer)
    assert full.registration_id == make_uscc(1) and not full.masked
    for reader in (RISK, AUDITOR):
        seen = desk.customer(reader, customer)
        assert seen.masked and seen.registration_id == "*" * 14 + make_uscc(1)[-4:]
        assert make_uscc(1) not in repr(seen)
