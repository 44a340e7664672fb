"""Reading a store back: keyset scans by partition, customer range, status and due date, and
the finders of every repository."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from creditmgmt.adapters.records.unit_of_work import RecordStore
from creditmgmt.domain.classification import Category, ClassificationEntry
from creditmgmt.domain.collateral import (
    Collateral,
    CollateralType,
    Guarantee,
    GuaranteeType,
    Valuation,
)
from creditmgmt.domain.customer import CustomerStatus
from creditmgmt.domain.facility import FacilityStatus
from creditmgmt.domain.ids import CustomerId, FacilityId, UserId
from creditmgmt.domain.interaction import Channel, FollowUpTask, Interaction, InteractionKind
from creditmgmt.domain.money import Rate
from creditmgmt.domain.risk import RiskEvent, Severity
from creditmgmt.ports import ConfigurationError, PortfolioSlice
from creditmgmt.testing.builders import (
    M,
    SequentialIds,
    a_credit_file,
    a_customer,
    a_facility_tree,
    a_loan,
    an_application,
    make_uscc,
)
from creditmgmt.testing.conformance.store_base import StoreHooks
from creditmgmt.testing.conformance.synthetic import AT


class RepositoryQueriesContract(StoreHooks):
    """Scans and queries (mixed into `UnitOfWorkContract`)."""

    def test_scans_by_partition_return_every_aggregate_once(self, store: RecordStore) -> None:
        ids = SequentialIds(500)
        customers = [a_customer(ids, registration_id=make_uscc(1000 + i)) for i in range(40)]
        self._save(store, *customers)
        seen: list[str] = []
        for part in range(3):
            with store.unit_of_work() as uow:
                for batch in uow.customers.scan(
                    slice=PortfolioSlice.partition(part, 3), batch_size=4
                ):
                    assert len(batch) <= 4
                    seen.extend(str(c.id) for c in batch)
        assert sorted(seen) == sorted(str(c.id) for c in customers)
        with pytest.raises(ConfigurationError, match="index"):
            PortfolioSlice.partition(3, 3)

    def test_scans_by_customer_range_status_and_due_date(self, store: RecordStore) -> None:
        ids = SequentialIds(900)
        trees = [a_facility_tree(ids, masters=("4000000.00",)) for _ in range(6)]
        frozen = trees[1].masters[0]
        frozen.freeze(on=frozen.start_date, reason="overdue")
        loans = [
            a_loan(ids, facility_id=t.products[0].id, customer_id=t.customers[0].id) for t in trees
        ]
        self._save(store, *(n for t in trees for n in t.nodes), *(t.customers[0] for t in trees))
        self._save(store, *loans)
        customer_ids = sorted(str(t.customers[0].id) for t in trees)
        bounds = [None, CustomerId(customer_ids[2]), CustomerId(customer_ids[4]), None]
        seen: list[str] = []
        facilities: list[str] = []
        for low, high in itertools.pairwise(bounds):
            with store.unit_of_work() as uow:
                for batch in uow.customers.scan(
                    slice=PortfolioSlice.customers(low, high), batch_size=1
                ):
                    seen.extend(str(c.id) for c in batch)
                for fbatch in uow.facilities.scan(
                    slice=PortfolioSlice.customers(low, high), batch_size=2
                ):
                    assert len(fbatch) <= 2
                    facilities.extend(str(f.id) for f in fbatch)
        assert sorted(seen) == customer_ids  # every customer once across the ranges
        with_customer = [n for t in trees for n in t.nodes if n.customer_id is not None]
        assert sorted(facilities) == sorted(str(n.id) for n in with_customer)
        with store.unit_of_work() as uow:
            found = [f for b in uow.facilities.scan(status=FacilityStatus.FROZEN) for f in b]
            assert [f.id for f in found] == [frozen.id]
            first_due = loans[0].schedule.installments[0].due_date
            assert [d for b in uow.drawdowns.scan(unpaid_due_before=first_due) for d in b] == []
            due = [
                d.id
                for part in (1, 0)
                for b in uow.drawdowns.scan(
                    unpaid_due_before=first_due + timedelta(days=1),
                    slice=PortfolioSlice.partition(part, 2),
                )
                for d in b
            ]
            assert sorted(due) == sorted(loan.id for loan in loans)

    def test_repository_queries(self, store: RecordStore) -> None:
        ids = SequentialIds(600)
        tree = a_facility_tree(ids)
        loan = a_loan(ids, facility_id=tree.products[0].id, customer_id=tree.customers[0].id)
        tree.customers[0].activate(on=tree.root.start_date)
        self._save(store, *tree.nodes, *tree.customers, tree.group, loan)
        first_due = loan.schedule.installments[0].due_date
        with store.unit_of_work() as uow:
            assert [f.id for f in uow.facilities.path_to_root(tree.products[0].id)] == [
                tree.root.id,
                tree.masters[0].id,
                tree.products[0].id,
            ]
            assert {f.id for f in uow.facilities.children(tree.masters[0].id)} == {
                tree.products[0].id,
                tree.products[1].id,
            }
            assert {f.id for f in uow.facilities.tree(tree.root.id)} == {n.id for n in tree.nodes}
            assert len(uow.facilities.find(customer_id=tree.customers[0].id)) == 3
            assert [c.id for c in uow.customers.find(status=CustomerStatus.ACTIVE)] == [
                tree.customers[0].id
            ]
            assert uow.groups.by_limit_facility(tree.root.id) is not None
            assert uow.drawdowns.find(unpaid_due_before=first_due) == []
            due = uow.drawdowns.find(unpaid_due_before=first_due + timedelta(days=1))
            assert [d.id for d in due] == [loan.id]

    def test_queries_of_the_other_repositories(self, store: RecordStore) -> None:
        ids = SequentialIds(1100)
        day = date(2026, 3, 2)
        cus_a, cus_b = CustomerId("cus_a"), CustomerId("cus_b")
        fac = FacilityId("fac_x")
        user_1, user_2 = UserId("usr_1"), UserId("usr_2")
        tasks = [
            FollowUpTask.schedule(
                ids, customer_id=cus, title=f"回访 {i}", due=day + timedelta(days=i), assignee=who
            )
            for i, (cus, who) in enumerate([(cus_a, user_1), (cus_a, user_2), (cus_b, user_1)])
        ]
        tasks[1].complete(on=day)
        events = [
            RiskEvent.raise_(
                ids,
                type=kind,
                severity=severity,
                customer_id=cus_a,
                facility_id=fac,
                detected_at=AT,
                business_date=day,
                rule_ref="cn-2023@1.0.0#ab12cd34ef56/EW-R-DPD",
                reason_code="R1",
            )
            for kind, severity in [("EW-R-DPD", Severity.RED), ("EW-Y-TAX", Severity.YELLOW)]
        ]
        complaint, visit = (
            Interaction.log(
                ids,
                customer_id=cus_a,
                kind=kind,
                channel=Channel.PHONE,
                at=AT,
                by=user_1,
                summary="客户来电",
            )
            for kind in (InteractionKind.COMPLAINT, InteractionKind.VISIT)
        )
        entries = [
            ClassificationEntry.decide(
                ids,
                customer_id=cus_a,
                facility_id=fac,
                as_of=day + timedelta(days=i),
                category=category,
                ruleset_ref="cn-2023@1.0.0#ab12cd34ef56",
            )
            for i, category in enumerate([Category.NORMAL, Category.SPECIAL_MENTION])
        ]
        collateral = Collateral.register(
            ids,
            type=CollateralType.REAL_ESTATE,
            owner_name="示例企业",
            valuation=Valuation(M("5000000.00 CNY"), day, "评估所"),
            haircut=Rate.of("0.3"),
            owner_id=cus_a,
            revaluation_due=day + timedelta(days=30),
        )
        guarantee = Guarantee.register(
            ids,
            type=GuaranteeType.JOINT_AND_SEVERAL,
            guarantor_name="担保公司",
            amount=M("1000000.00 CNY"),
            valid_until=day + timedelta(days=365),
            guarantor_id=cus_b,
        )
        application = an_application(ids, customer_id=cus_a)
        credit_file = a_credit_file(ids, customer_id=cus_b)
        self._save(
            store,
            *tasks,
            *events,
            complaint,
            visit,
            *entries,
            collateral,
            guarantee,
            application,
            credit_file,
        )
        with store.unit_of_work() as uow:
            due = uow.tasks.find(due_on_or_before=day + timedelta(days=1))
            assert [t.id for t in due] == [tasks[0].id, tasks[1].id]  # ordered by due date
            assert [t.id for t in uow.tasks.find(assignee=user_1, customer_id=cus_b)] == [
                tasks[2].id
            ]
            assert [t.id for t in uow.tasks.find(status=tasks[1].status)] == [tasks[1].id]
            red = uow.risk_events.find(severity=Severity.RED, customer_id=cus_a)
            assert [e.id for e in red] == [events[0].id]
            assert red[0].review_due is not None
            assert [
                e.id
                for e in uow.risk_events.find(review_due_before=red[0].review_due + timedelta(1))
            ] == [events[0].id]
            assert [i.id for i in uow.interactions.find(open_complaints=True)] == [complaint.id]
            assert len(uow.interactions.find(customer_id=cus_a)) == 2
            assert [e.id for e in uow.classifications.history(facility_id=fac)] == [
                e.id for e in entries
            ]
            latest = uow.classifications.latest(facility_id=fac)
            assert latest is not None and latest.category is Category.SPECIAL_MENTION
            assert uow.classifications.find(category=Category.NORMAL)[0].id == entries[0].id
            assert uow.collaterals.revaluation_due(as_of=day) == []
            assert [c.id for c in uow.collaterals.revaluation_due(as_of=day + timedelta(30))] == [
                collateral.id
            ]
            assert [g.id for g in uow.guarantees.by_guarantor(cus_b)] == [guarantee.id]
            assert [a.id for a in uow.applications.find(customer_id=cus_a)] == [application.id]
            found_file = uow.credit_files.for_customer(cus_b)
            assert found_file is not None and found_file.id == credit_file.id
            assert uow.credit_files.for_customer(cus_a) is None
