"""The desk's messages, log lines and audit records never carry a whole registration id."""

from __future__ import annotations

import logging

import pytest

from creditmgmt.domain import InvalidIdentifierError
from creditmgmt.services import DuplicateCustomerError
from creditmgmt.testing.builders import make_uscc
from creditmgmt.testing.desk import AUDITOR, RM, a_desk, an_onboarded_customer


def test_refusals_logs_and_audit_mask_registration_ids(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="creditmgmt")
    desk = a_desk()
    an_onboarded_customer(desk, statements=False)
    taken = make_uscc(1)
    bad = "91310000MA1FL4T01B"  # wrong check digit
    failures: list[str] = []
    for registration_id, error in ((taken, DuplicateCustomerError), (bad, InvalidIdentifierError)):
        with pytest.raises(error) as caught:
            desk.onboard_customer(
                RM,
                kind="sme",
                legal_name="另一家公司",
                registration_id=registration_id,
                home_region="310000",
                industry_code="F5191",
            )
        failures.append(str(caught.value))
        assert registration_id not in str(caught.value)
        assert registration_id[-4:] in str(caught.value)
    with pytest.raises(Exception, match="may not call"):  # a logged refusal, for the log check
        desk.onboard_customer(
            AUDITOR,
            kind="sme",
            legal_name="审计不能开户",
            registration_id=make_uscc(2),
            home_region="310000",
            industry_code="F5191",
        )
    assert caplog.records  # the desk logged its refusal
    for full in (taken, bad, make_uscc(2)):
        assert full not in caplog.text
        assert all(full not in repr(entry) for entry in desk.audit_trail(AUDITOR))
