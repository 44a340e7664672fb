"""The stored book as rule inputs (`CreditDesk.portfolio`) and the back-test over it
(`diff_impact` and `creditmgmt policy diff --store`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

import creditmgmt.policies.builtin as builtin_dir
from creditmgmt.adapters.clocks_and_ids import FixedClock, SequentialIds
from creditmgmt.bootstrap import open_desk
from creditmgmt.cli import main
from creditmgmt.domain.customer import CustomerKind
from creditmgmt.domain.facility import Facility, FacilityLevel
from creditmgmt.domain.ids import DrawdownId
from creditmgmt.domain.loan import Repayment
from creditmgmt.domain.money import Money
from creditmgmt.domain.products import ProductType
from creditmgmt.policies import diff_impact, load_ruleset
from creditmgmt.ports.errors import ConfigurationError
from creditmgmt.services.desk import CreditDesk
from creditmgmt.testing.builders import a_customer, a_loan, a_schedule, make_uscc

START = date(2025, 1, 15)
FIRST_DUE = date(2025, 2, 15)
AS_OF = FIRST_DUE + timedelta(days=95)  # the late loan is 95 DPD: substandard
CN2023 = Path(builtin_dir.__file__).parent / "cn-2023.yaml"
# version 1.1.0: the substandard provision rate goes from 25% to 30%
NEW_TEXT = (
    CN2023.read_text(encoding="utf-8")
    .replace("version: 1.0.0", "version: 1.1.0", 1)
    .replace(
        "{id: substandard, when: {category: substandard}, then: {rate: 0.25}}",
        "{id: substandard, when: {category: substandard}, then: {rate: 0.30}}",
    )
)


def _desk(url: str) -> CreditDesk:
    clock = FixedClock(datetime(2025, 1, 15, 9, 0, tzinfo=UTC))
    return open_desk(url, rules="cn-2023", clock=clock, institution_region="310000")


def _book(desk: CreditDesk) -> dict[str, DrawdownId]:
    """Three SME customers, one loan each: paid up, 95 days late, a card paid up."""
    ids = SequentialIds()
    loans: dict[str, DrawdownId] = {}
    with desk.store.unit_of_work() as uow:
        for serial, (name, product, amount) in enumerate(
            [
                ("current", ProductType.WORKING_CAPITAL, "100000.00"),
                ("late", ProductType.WORKING_CAPITAL, "1200000.00"),
                ("card", ProductType.CARD, "20000.00"),
            ],
            1,
        ):
            customer = a_customer(ids, kind=CustomerKind.SME, registration_id=make_uscc(serial))
            master = Facility.open(
                ids,
                level=FacilityLevel.CUSTOMER,
                customer_id=customer.id,
                limit=Money.of("5000000.00", "CNY"),
                start=START,
                term_months=24,
            )
            node = Facility.open(
                ids,
                level=FacilityLevel.PRODUCT,
                parent=master,
                product_type=product,
                limit=Money.of("4000000.00", "CNY"),
                start=START,
                term_months=24,
            )
            for f in (master, node):
                f.activate(on=START)
            loan = a_loan(
                ids,
                facility_id=node.id,
                customer_id=customer.id,
                schedule=a_schedule(f"{amount} CNY", start=START, term_months=12),
            )
            uow.customers.add(customer)
            uow.facilities.add(master)
            uow.facilities.add(node)
            if name != "late":  # paid on time: every instalment due by AS_OF repaid
                owed = loan.arrears(AS_OF + timedelta(days=1))
                loan.apply(Repayment(amount=owed, received_on=FIRST_DUE))
            uow.drawdowns.add(loan)
            loans[name] = loan.id
        uow.commit()
    return loans


@pytest.fixture
def desk() -> Iterator[CreditDesk]:
    with _desk("memory://") as d:
        yield d


def test_rows_hold_each_loans_inputs_as_the_daily_run_builds_them(desk: CreditDesk) -> None:
    loans = _book(desk)
    rows = {r["loan_id"]: r for r in desk.portfolio(as_of=AS_OF, batch_size=1)}
    assert set(rows) == {str(i) for i in loans.values()}
    current, late, card = (rows[str(loans[k])] for k in ("current", "late", "card"))
    with desk.store.unit_of_work() as uow:
        stored = uow.drawdowns.get(loans["late"])
    assert late["dpd"] == stored.dpd(AS_OF) == 95
    assert late["balance"] == stored.outstanding_principal.amount == late["exposure"]
    assert late["category"] == "substandard" and late["impaired"] is True
    assert (late["restructured"], late["restructured_failed"]) == (False, False)
    assert late["bureau_npl_share"] == Decimal(0)
    assert current["dpd"] == 0 and current["category"] == "normal"
    # a card is classified by card_classification in the run: no general classification inputs
    assert card["product_type"] == "card" and "restructured" not in card
    assert card["dpd"] == 0 and card["category"] == "normal"


def test_back_test_of_a_new_version_over_the_stored_book(desk: CreditDesk) -> None:
    loans = _book(desk)
    old, new = load_ruleset(CN2023), load_ruleset(NEW_TEXT)
    report = diff_impact(
        old,
        new,
        desk.portfolio(as_of=AS_OF),
        key="loan_id",
        amount="exposure",
        blocks=["provisioning_cn2002"],
    )
    assert report.rows == 3 and report.errors == ()
    provision = report.output("provisioning_cn2002", "provision").numeric
    assert provision is not None
    assert (provision.up, provision.down, provision.same) == (1, 0, 2)
    [moved] = provision.largest
    assert moved.key == str(loans["late"])
    balance = moved.amount
    assert balance is not None
    assert moved.delta == (balance * Decimal("0.05")).quantize(Decimal("0.01"))


def test_the_portfolio_streams_page_by_page(desk: CreditDesk) -> None:
    _book(desk)
    rows = desk.portfolio(as_of=AS_OF, batch_size=1)
    first = next(rows)  # a generator: the first page is read, not the whole book
    assert "loan_id" in first
    assert len([first, *rows]) == 3
    with pytest.raises(ConfigurationError, match="batch_size"):
        desk.portfolio(as_of=AS_OF, batch_size=0)


def test_policy_diff_on_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    with _desk(url) as d:
        loans = _book(d)
    new = tmp_path / "cn-2023-1.1.yaml"
    new.write_text(NEW_TEXT, encoding="utf-8")
    args = ["policy", "diff", str(CN2023), str(new), "--store", url, "--as-of", str(AS_OF)]
    result = CliRunner().invoke(main, [*args, "--block", "provisioning_cn2002"])
    assert result.exit_code == 0, result.output
    assert "3 record(s) compared; 1 with a changed output; 0 not decided" in result.output
    assert str(loans["late"]) in result.output
    zh = CliRunner().invoke(
        main, [*args, "--block", "provisioning_cn2002", "--lang", "zh", "--currency", "CNY"]
    )
    assert zh.exit_code == 0, zh.output
    assert "变动最大的记录" in zh.output and "CNY" in zh.output


def test_policy_diff_on_a_store_that_cannot_be_opened(tmp_path: Path) -> None:
    new = tmp_path / "cn-2023-1.1.yaml"
    new.write_text(NEW_TEXT, encoding="utf-8")
    args = ["policy", "diff", str(CN2023), str(new), "--as-of", str(AS_OF)]
    result = CliRunner().invoke(main, [*args, "--store", "nosuch://book"])
    assert result.exit_code == 2, result.output
    assert "--store" in result.output
