from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditmgmt.domain import (
    Confidentiality,
    InvalidValueError,
    NegativeAmountError,
    Section,
)
from creditmgmt.domain.credit_file import (
    KEY_PERSON_FACTS,
    CreditFile,
    DocumentRef,
    KeyPersonChange,
    KeyPersonsChanged,
    LitigationCase,
    LitigationRole,
)
from creditmgmt.domain.ids import UserId
from creditmgmt.testing.builders import M, a_credit_file, a_statement

AS_OF = date(2025, 12, 31)


def test_each_entry_keeps_source_as_of_verifier_refresh_due_and_confidentiality() -> None:
    cf = a_credit_file()
    entry = cf.record(
        key="licence",
        section=Section.DOCUMENTS,
        source="SAMR registry extract",
        as_of=AS_OF,
        confidentiality=Confidentiality.PUBLIC,
        refresh_due=date(2026, 6, 30),
        document=DocumentRef(title="营业执照", reference="archive://2025/0042"),
    )
    assert (entry.source, entry.as_of, entry.refresh_due) == (
        "SAMR registry extract",
        AS_OF,
        date(2026, 6, 30),
    )
    assert entry.confidentiality is Confidentiality.PUBLIC
    assert not entry.is_verified
    cf.verify("licence", by=UserId("usr_v"), on=date(2026, 1, 2))
    verified = cf.entry("licence")
    assert (verified.verified_by, verified.verified_on) == (UserId("usr_v"), date(2026, 1, 2))
    assert [e.event_type for e in cf.pending_events] == [
        "CreditFileEntryRecorded",
        "CreditFileEntryVerified",
    ]


def test_a_replaced_entry_is_archived_and_the_new_one_starts_unverified() -> None:
    cf = a_credit_file()
    cf.record(key="basic", section=Section.BASIC_INFO, source="registry", as_of=AS_OF)
    cf.verify("basic", by=UserId("usr_v"), on=AS_OF)
    cf.record(
        key="basic",
        section=Section.BASIC_INFO,
        source="registry",
        as_of=date(2026, 3, 31),
        facts={"legal_representative": "张三"},
    )
    assert not cf.entry("basic").is_verified
    assert dict(cf.entry("basic").facts) == {"legal_representative": "张三"}
    assert [e.archived for e in cf.entries] == [True, False]


def _basic(cf: CreditFile, as_of: date, **facts: str) -> None:
    cf.record(key="basic", section=Section.BASIC_INFO, source="registry", as_of=as_of, facts=facts)


def test_naming_a_key_person_for_the_first_time_is_no_change() -> None:
    cf = a_credit_file()
    _basic(cf, AS_OF, legal_representative="张三")
    _basic(cf, date(2026, 1, 31), legal_representative="张三", controller="李四", cfo="王五")
    assert cf.key_person_changes(since=date(2000, 1, 1)) == []
    assert not [e for e in cf.pending_events if isinstance(e, KeyPersonsChanged)]


@pytest.mark.parametrize("fact", KEY_PERSON_FACTS)
def test_a_new_controller_chairman_or_cfo_is_a_change_dated_by_the_new_entry(fact: str) -> None:
    cf = a_credit_file()
    _basic(cf, AS_OF, **{fact: "张三", "address": "上海市浦东新区"})
    cf.pull_events()
    _basic(cf, date(2026, 2, 10), **{fact: "李四", "address": "上海市浦东新区"})
    change = KeyPersonChange(key="basic", on=date(2026, 2, 10), facts=(fact,))
    assert cf.key_person_changes(since=date(2026, 2, 10)) == [change]
    assert cf.key_person_changes(since=date(2026, 2, 11)) == []
    assert cf.pending_events[-1] == KeyPersonsChanged(
        aggregate_id=str(cf.id), key="basic", facts=(fact,), as_of=date(2026, 2, 10)
    )


def test_a_removed_key_person_is_a_change_and_each_replacement_counts() -> None:
    cf = a_credit_file()
    _basic(cf, AS_OF, controller="张三", chairman="李四", cfo="王五")
    _basic(cf, date(2026, 1, 31), controller="张三", chairman="李四")  # CFO gone
    _basic(cf, date(2026, 2, 28), controller="张三", chairman="李四", cfo=" ")  # still none
    _basic(cf, date(2026, 3, 31), controller="赵六", chairman="钱七", cfo="孙八")
    assert cf.key_person_changes(since=AS_OF) == [
        KeyPersonChange(key="basic", on=date(2026, 1, 31), facts=("cfo",)),
        KeyPersonChange(key="basic", on=date(2026, 3, 31), facts=("controller", "chairman")),
    ]
    assert [e.archived for e in cf.entries] == [True, True, True, False]


def test_white_space_and_other_facts_change_no_key_person() -> None:
    cf = a_credit_file()
    _basic(cf, AS_OF, controller="张三", chairman="Li Si", address="上海市浦东新区")
    _basic(cf, date(2026, 1, 31), controller=" 张三\n", chairman="Li Si ", address="北京市朝阳区")
    cf.record(key="status", section=Section.BUSINESS_STATUS, source="visit", as_of=AS_OF)
    cf.record(  # key-person facts outside the basic information name no key person
        key="status",
        section=Section.BUSINESS_STATUS,
        source="visit",
        as_of=date(2026, 1, 31),
        facts={"controller": "王五"},
    )
    assert cf.key_person_changes(since=AS_OF) == []
    assert not [e for e in cf.pending_events if isinstance(e, KeyPersonsChanged)]


def test_records_are_filed_in_their_own_section_one_per_entry() -> None:
    cf = a_credit_file()
    case = LitigationCase(
        case_id="(2025)沪0115民初1号",
        claim=M("1.00 CNY"),
        role=LitigationRole.DEFENDANT,
        status="pending",
    )
    refused: list[tuple[dict[str, Any], str]] = [
        ({"financial_statement": a_statement()}, "financial_statement belongs in section"),
        (
            {"litigation": case, "document": DocumentRef(title="x", reference="y")},
            "one entry holds one record",
        ),
    ]
    for records, message in refused:
        with pytest.raises(InvalidValueError, match=message):
            cf.record(key="k", section=Section.LITIGATION, source="s", as_of=AS_OF, **records)
    assert cf.entries == ()
    with pytest.raises(InvalidValueError, match="refresh_due"):
        cf.record(key="k", section=Section.BASIC_INFO, source="s", as_of=AS_OF, refresh_due=AS_OF)
    with pytest.raises(InvalidValueError, match="key and a source"):
        cf.record(key=" ", section=Section.BASIC_INFO, source="s", as_of=AS_OF)
    with pytest.raises(NegativeAmountError, match="claim"):
        attrs.evolve(case, claim=M("-1.00 CNY"))


def test_statement_figures_are_consistent() -> None:
    with pytest.raises(NegativeAmountError, match="total_assets"):
        a_statement(total_assets="-1")
    with pytest.raises(InvalidValueError, match="current assets"):
        a_statement(current_assets="60000001")
    with pytest.raises(InvalidValueError, match="current liabilities"):
        a_statement(current_liabilities="33000001")
    loss_making = a_statement(ebit="-500000", net_profit="-800000", operating_cash_flow="-1")
    assert loss_making.interest_coverage is not None
    assert loss_making.interest_coverage * 3 == pytest.approx(Decimal(-1), abs=Decimal("1e-30"))
    assert loss_making.dscr is not None and loss_making.dscr < 0


def test_ratio_definitions() -> None:
    fs = a_statement(
        current_assets="300",
        current_liabilities="200",
        total_assets="1000",
        total_liabilities="600",
        ebit="90",
        interest_expense="30",
        operating_cash_flow="120",
        debt_service="80",
    )
    assert fs.current_ratio == Decimal("1.5")
    assert fs.debt_to_assets == Decimal("0.6")
    assert fs.interest_coverage == Decimal(3)
    assert fs.dscr == Decimal("1.5")
    balance_sheet = ("current_assets", "current_liabilities", "total_assets", "total_liabilities")
    zeroed: dict[str, Any] = dict.fromkeys((*balance_sheet, "equity"), "0")
    empty = a_statement(**zeroed)
    assert empty.current_ratio is None
    assert empty.debt_to_assets is None
    assert a_statement(revenue="0").revenue_growth(a_statement(revenue="0")) is None


@given(
    st.integers(0, 10**9),
    st.integers(1, 10**9),
)
def test_ratios_are_exact_decimals_never_floats(num: int, den: int) -> None:
    fs = a_statement(
        ebit=str(num),
        interest_expense=str(den),
        operating_cash_flow=str(num),
        debt_service=str(den),
    )
    assert isinstance(fs.interest_coverage, Decimal)
    assert fs.interest_coverage * den == pytest.approx(num, abs=Decimal("1e-20"))
    assert fs.dscr == fs.interest_coverage


def test_bureau_report_debt_is_never_negative() -> None:
    from creditmgmt.domain import BureauReport

    with pytest.raises(NegativeAmountError, match="total_debt"):
        BureauReport(
            bureau="PBOC",
            report_date=AS_OF,
            overdue_at_other_banks=False,
            npl_share_all_banks=Decimal(0),
            total_debt=M("-0.01 CNY"),
        )
