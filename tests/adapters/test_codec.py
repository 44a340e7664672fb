"""The cattrs codec and the snapshot copies of the in-process stores."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from creditmgmt.adapters.records import codec, converter
from creditmgmt.adapters.records.clone import clone_aggregate, layout, restore, snapshot
from creditmgmt.adapters.records.kinds import BINDINGS, binding_for
from creditmgmt.domain.covenant import Covenant, CovenantBound, CovenantMetric
from creditmgmt.domain.credit_file import CreditFile, Section
from creditmgmt.domain.customer import Customer
from creditmgmt.domain.events import Aggregate, DomainEvent
from creditmgmt.domain.facility import DrawdownMade, Facility, FacilityActivated
from creditmgmt.domain.loan_risk import MonitoringMark, MonthEndUtilisation
from creditmgmt.domain.money import Money
from creditmgmt.ports.audit import AuditEntry
from creditmgmt.ports.errors import DataError
from creditmgmt.testing import strategies as cs
from creditmgmt.testing.builders import (
    SequentialIds,
    a_credit_file,
    a_customer,
    a_facility_tree,
)

STRATEGIES = (
    cs.customers(),
    cs.groups(),
    cs.facilities(),
    cs.loans(),
    cs.applications(),
    cs.risk_events(),
    cs.interactions(),
    cs.tasks(),
    cs.credit_files(),
    cs.classification_entries(),
    cs.collaterals(),
    cs.guarantees(),
)
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def _kind(aggregate: Aggregate) -> str:
    return binding_for(aggregate).kind


def test_every_stored_kind_has_a_strategy_here() -> None:
    assert len(STRATEGIES) == len(BINDINGS)


@settings(max_examples=60, deadline=None)
@given(aggregate=cs.aggregates())
def test_documents_are_json_and_round_trip(aggregate: Aggregate) -> None:
    kind = _kind(aggregate)
    document = codec.encode(kind, aggregate)
    assert document["schema_version"] == codec.SCHEMA_VERSION
    assert document["kind"] == kind
    text = json.dumps(document, ensure_ascii=False)
    assert json.loads(text) == document  # plain JSON types only: nothing changes on the way
    back = codec.decode(
        kind, type(aggregate), json.loads(text), record_id=str(aggregate.id), version=3
    )
    assert back == aggregate
    assert back.version == 3
    assert back.pending_events == ()


@settings(max_examples=60, deadline=None)
@given(aggregate=cs.aggregates())
def test_recorded_events_round_trip_as_a_tagged_union(aggregate: Aggregate) -> None:
    for event in aggregate.pending_events:
        document = codec.encode_event(event)
        assert document["data"]["event_type"] == type(event).event_type
        assert json.loads(json.dumps(document)) == document
        assert codec.decode_event(json.loads(json.dumps(document))) == event


def test_event_tags_are_unique_and_cover_every_event_class() -> None:
    tags = converter.event_types()
    assert tags["DrawdownMade"] is DrawdownMade
    assert all(issubclass(cls, DomainEvent) and cls.event_type == tag for tag, cls in tags.items())


def test_an_event_field_declared_with_a_base_class_keeps_its_subclass() -> None:
    @attrs.frozen
    class Envelope:
        event: DomainEvent

    made = DrawdownMade(
        aggregate_id="fac_1",
        amount=Money.of("12.30", "CNY"),
        on=date(2026, 3, 2),
        drawdown_id=None,
    )
    raw = codec.unstructure(Envelope(made))
    assert raw["event"]["event_type"] == "DrawdownMade"
    assert codec.structure(raw, Envelope) == Envelope(made)
    raw["event"]["event_type"] = "NoSuchEvent"
    with pytest.raises(DataError, match="unknown event type 'NoSuchEvent'"):
        codec.structure(raw, Envelope)


def test_a_tag_of_another_branch_of_the_hierarchy_is_refused() -> None:
    activated = FacilityActivated(
        aggregate_id="fac_1", on=date(2026, 3, 2), limit=Money.of("100.00", "CNY")
    )
    document = codec.encode_event(activated)
    with pytest.raises(DataError, match="is not a DrawdownMade"):
        codec.structure(document["data"], DrawdownMade)


def _customer_document() -> tuple[Any, dict[str, Any]]:
    customer = a_customer(SequentialIds(1))
    return customer, json.loads(json.dumps(codec.encode("customer", customer)))


def _decode_customer(document: object) -> Any:
    customer, _ = _customer_document()
    return codec.decode("customer", type(customer), document, record_id=str(customer.id), version=1)


def test_unknown_keys_are_rejected_with_the_field_path() -> None:
    customer, document = _customer_document()
    document["data"]["surprise"] = 1
    with pytest.raises(DataError, match=rf"customer {customer.id}: .*surprise"):
        _decode_customer(document)


def test_a_bad_field_names_the_aggregate_and_the_path() -> None:
    tree = a_facility_tree(SequentialIds(1))
    document = json.loads(json.dumps(codec.encode("facility", tree.root)))
    document["data"]["limit"]["amount"] = 12.5  # a float: money never travels as one
    with pytest.raises(DataError, match=rf"facility {tree.root.id}: .*data.limit"):
        codec.decode("facility", Facility, document, record_id=str(tree.root.id), version=1)
    document["data"]["limit"]["amount"] = "NaN"
    with pytest.raises(DataError, match="not finite"):
        codec.decode("facility", Facility, document, record_id=str(tree.root.id), version=1)
    document = json.loads(json.dumps(codec.encode("facility", tree.root)))
    document["data"]["start_date"] = "2026-02-30"
    with pytest.raises(DataError, match=r"data.start_date"):
        codec.decode("facility", Facility, document, record_id=str(tree.root.id), version=1)


def test_decimals_travel_as_strings_and_keep_their_digits() -> None:
    tree = a_facility_tree(SequentialIds(1), group_limit="999999999999999.99")
    document = codec.encode("facility", tree.root)
    assert document["data"]["limit"] == {"amount": "999999999999999.99", "currency": "CNY"}
    assert document["data"]["start_date"] == tree.root.start_date.isoformat()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(schema_version=99), "unknown schema version 99"),
        (lambda d: d.update(kind="facility"), "is a 'facility'"),
        (lambda d: d.pop("kind"), "not a creditmgmt envelope"),
        (lambda d: d["data"].update(id="cus_other"), "document holds id cus_other"),
    ],
)
def test_envelope_problems_name_the_aggregate(change: Any, message: str) -> None:
    customer, document = _customer_document()
    change(document)
    with pytest.raises(DataError, match=rf"customer {customer.id}.*{message}"):
        _decode_customer(document)


def test_timestamps_must_be_aware() -> None:
    entry = AuditEntry(id="a1", at=AT, actor="usr_1", action="approve", subject="app:1")
    document = codec.encode_audit(entry)
    assert document["data"]["at"] == "2026-03-02T09:30:00+00:00"
    assert codec.decode_audit(document, record_id="a1") == entry
    naive = attrs.evolve(entry, at=AT.replace(tzinfo=None))
    with pytest.raises(DataError, match="naive timestamp"):
        codec.encode_audit(naive)
    document["data"]["at"] = "2026-03-02T09:30:00"
    with pytest.raises(DataError, match=r"audit a1: .*no UTC offset"):
        codec.decode_audit(document, record_id="a1")


def test_outbox_and_audit_documents_carry_the_schema_version() -> None:
    tree = a_facility_tree(SequentialIds(1))
    event = tree.root.pending_events[0]
    document = codec.encode_event(event)
    assert document["schema_version"] == codec.SCHEMA_VERSION
    document["schema_version"] = 7
    with pytest.raises(DataError, match=r"outbox entry 12: unknown schema version 7"):
        codec.decode_event(document, where="outbox entry 12")


# snapshots and copies ---------------------------------------------------------------------
def _walk(value: object, seen: dict[int, object]) -> None:
    if isinstance(value, (str, int, bytes)) or value is None:
        return
    if id(value) in seen:
        return
    seen[id(value)] = value
    if isinstance(value, dict):
        for v in value.values():
            _walk(v, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for v in value:
            _walk(v, seen)
    elif attrs.has(cls := type(value)):
        for f in attrs.fields(cls):
            _walk(getattr(value, f.name), seen)


def _mutable(value: object) -> bool:
    if isinstance(value, (list, dict, set)):
        return True
    cls = type(value)
    return attrs.has(cls) and getattr(cls.__setattr__, "__name__", "") != "_frozen_setattrs"


@settings(max_examples=60, deadline=None)
@given(aggregate=cs.aggregates())
def test_restored_copies_are_equal_and_share_nothing_mutable(aggregate: Aggregate) -> None:
    state = snapshot(aggregate)
    copy = restore(type(aggregate), state, 5)
    assert copy == aggregate
    assert copy.version == 5
    assert copy.pending_events == ()
    assert clone_aggregate(aggregate) == aggregate
    original: dict[int, object] = {}
    _walk(aggregate, original)
    for source in (state, copy):
        mine: dict[int, object] = {}
        _walk(source, mine)
        shared = [original[i] for i in set(original) & set(mine) if i != id(aggregate)]
        assert not [v for v in shared if _mutable(v)], shared


@settings(max_examples=80, deadline=None)
@given(data=st.data(), which=st.integers(0, len(STRATEGIES) - 1))
def test_encode_changes_equals_a_full_encode(data: st.DataObject, which: int) -> None:
    before = data.draw(STRATEGIES[which])
    other = data.draw(STRATEGIES[which])
    kind = _kind(before)
    state = snapshot(before)
    document = codec.encode(kind, before)
    after = restore(type(before), state)
    names = [n for n in layout(type(before)) if n not in ("version", "_pending_events")]
    for name in data.draw(st.lists(st.sampled_from(names), unique=True)):
        object.__setattr__(after, name, getattr(other, name))  # any field may change
    expected = codec.encode(kind, after)
    got = codec.encode_changes(kind, after, state, document)
    if expected == document:
        assert got is None
    else:
        assert got is not None
        assert got[0] == expected
        assert restore(type(after), got[1]) == after  # the new snapshot holds the new state
        assert got[1] == snapshot(after)


def test_an_equal_but_new_value_is_not_a_change() -> None:
    tree = a_facility_tree(SequentialIds(1))
    node = tree.root
    state = snapshot(node)
    copy = restore(Facility, state)
    copy.drawn = copy.drawn + copy.drawn  # zero + zero: a new Money object, the same value
    assert copy.drawn is not node.drawn
    assert codec.encode_changes("facility", copy, state, codec.encode("facility", node)) is None


def test_events_are_encoded_later_only_when_that_changes_nothing() -> None:
    from creditmgmt.domain.risk import RiskEventStatusChanged

    assert codec.can_defer_event(DrawdownMade)  # Money, date, str: encoding cannot fail
    assert not codec.can_defer_event(RiskEventStatusChanged)  # a timestamp may be naive

    @attrs.frozen(kw_only=True)
    class Listed(DomainEvent):
        items: list[str]  # mutable: what is encoded later could differ

    assert not codec.can_defer_event(Listed)


@settings(max_examples=40, deadline=None)
@given(aggregate=cs.aggregates())
def test_a_deferred_outbox_document_equals_the_eager_one(aggregate: Aggregate) -> None:
    from creditmgmt.adapters.records.contract import OutboxEntry

    for event in aggregate.pending_events:
        if not codec.can_defer_event(type(event)):
            continue
        entry = OutboxEntry(
            "k", "i", event.event_type, None, AT, deferred=(codec.encode_event, event)
        )
        numbered = entry.numbered(7)
        assert numbered.document == codec.encode_event(event)
        assert json.loads(numbered.document_text()) == codec.encode_event(event)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("legal_name", 5, r"expected a string, got int 5 @ data\.legal_name$"),
        ("legal_name", ["x"], r"expected a string, got list \['x'\] @ data\.legal_name$"),
        ("kind", 1, r"data\.kind$"),
    ],
)
def test_json_scalars_are_read_only_as_themselves(field: str, value: object, message: str) -> None:
    """Plain cattrs would call `str(5)` or `int("5")`; a stored value of another JSON type is
    damage, refused with the field's path."""
    customer, document = _customer_document()
    document["data"][field] = value
    with pytest.raises(DataError, match=rf"customer {customer.id}: .*{message}"):
        _decode_customer(document)


def test_flags_and_enums_keep_their_types() -> None:
    tree = a_facility_tree(SequentialIds(1))
    document = json.loads(json.dumps(codec.encode("facility", tree.root)))
    back = codec.decode("facility", Facility, document, record_id=str(tree.root.id), version=1)
    assert back == tree.root
    assert type(back.status) is type(tree.root.status) and type(back.revolving) is bool
    document["data"]["revolving"] = "no"  # bool("no") would be True
    with pytest.raises(DataError, match=r"expected true or false, got str 'no' @ data\.revolving"):
        codec.decode("facility", Facility, document, record_id=str(tree.root.id), version=1)
    customer, doc = _customer_document()
    assert type(_decode_customer(doc).kind) is type(customer.kind)


def test_a_covenant_entry_round_trips_and_a_document_from_before_covenants_still_reads() -> None:
    cf = a_credit_file()
    covenant = Covenant(
        metric=CovenantMetric.DSCR, bound=CovenantBound.AT_LEAST, threshold=Decimal("1.20")
    )
    cf.record(
        key="dscr",
        section=Section.COVENANTS,
        source="agreement",
        as_of=AT.date(),
        covenant=covenant,
    )
    cf.record(key="basic", section=Section.BASIC_INFO, source="registry", as_of=AT.date())
    document = json.loads(json.dumps(codec.encode("credit_file", cf)))
    first, second = document["data"]["entries"]
    assert first["covenant"] == {"metric": "dscr", "bound": "at_least", "threshold": "1.20"}
    assert second["covenant"] is None

    def read(doc: dict[str, Any]) -> CreditFile:
        return codec.decode("credit_file", CreditFile, doc, record_id=str(cf.id), version=1)

    assert read(document).entries == cf.entries
    slow = converter.make_converter(fast=False)  # the fast path reads what cattrs reads
    assert slow.structure(document["data"], CreditFile).entries == cf.entries
    del second["covenant"]  # stored before covenants were modelled
    assert read(document).entries == cf.entries
    first["covenant"]["threshold"] = "-1"
    with pytest.raises(
        DataError, match=r"threshold must not be negative, got -1 @ data.entries\[0\].covenant"
    ):
        read(document)
    first["covenant"].update(threshold="1.2", metric="leverage")
    with pytest.raises(DataError, match=r"entries\[0\].covenant.metric"):
        read(document)


def test_a_customers_mark_round_trips_and_one_from_before_fired_triggers_still_reads() -> None:
    customer = a_customer(SequentialIds())
    customer.note_monitoring(
        MonitoringMark(
            next_check=date(2026, 4, 1),
            basis="cn-2023@1.0.0#x|provisioning_cn2002",
            facilities=2,
            month_ends=(MonthEndUtilisation(month_end=date(2026, 2, 28), utilisation=None),),
            fired=("r_dpd_over_30", "y_covenant_breach"),
        )
    )
    document = json.loads(json.dumps(codec.encode("customer", customer)))
    mark = document["data"]["monitoring"]
    assert mark["fired"] == ["r_dpd_over_30", "y_covenant_breach"]

    def read() -> Customer:
        return codec.decode("customer", Customer, document, record_id=str(customer.id), version=1)

    kept = customer.monitoring
    assert kept is not None and read().monitoring == kept
    del mark["fired"]  # stored before the mark kept the fired triggers
    assert read().monitoring == attrs.evolve(kept, fired=())
    mark["fired"] = "r_dpd_over_30"
    with pytest.raises(DataError, match=r"monitoring.fired"):
        read()


def test_generated_customers_carry_ratings_with_history_and_marks_with_fired_triggers() -> None:
    unshrunk = settings(database=None, phases=[Phase.generate], max_examples=2000)

    def marked(c: Customer) -> bool:
        mark = c.monitoring
        return mark is not None and bool(mark.fired) and bool(mark.month_ends and mark.loans)

    found = find(cs.customers(), marked, settings=unshrunk)
    assert found.monitoring is not None and list(found.monitoring.fired) == sorted(
        found.monitoring.fired
    )
    rated = find(cs.customers(), lambda c: bool(c.rating and c.rating.earlier), settings=unshrunk)
    assert rated.rating is not None and rated.rating.earlier[0].on <= rated.rating.rated_on


def test_generated_credit_files_hold_covenants() -> None:
    unshrunk = settings(database=None, phases=[Phase.generate], max_examples=2000)
    found = find(cs.credit_files(), lambda cf: bool(cf.covenants()), settings=unshrunk)
    assert all(e.section is Section.COVENANTS for e in found.entries if e.covenant is not None)
    entry = find(cs.file_entries(), lambda e: e.covenant is not None, settings=unshrunk)
    assert entry.section is Section.COVENANTS
