"""Parties and their records: customers, groups, credit files, interactions, follow-up tasks."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

from hypothesis import strategies as st

from creditmgmt.domain.credit_file import (
    KEY_PERSON_FACTS,
    Confidentiality,
    CreditFile,
    FileEntry,
    KeyPersonChange,
    RefreshCycle,
    Section,
)
from creditmgmt.domain.customer import (
    Customer,
    CustomerKind,
    CustomerStatus,
    Segment,
    region_prefix,
)
from creditmgmt.domain.group import CustomerGroup
from creditmgmt.domain.ids import CustomerId, FacilityId, GroupId
from creditmgmt.domain.interaction import Channel, FollowUpTask, Interaction, InteractionKind
from creditmgmt.testing.strategies.values import (
    GRADES,
    REGIONS,
    _attempt,
    bureau_reports,
    business_dates,
    covenants,
    document_refs,
    financial_statements,
    id_sources,
    litigation_cases,
    monitoring_marks,
    names,
    regions,
    texts,
    timestamps,
    uscc_codes,
    users,
)

_LIFECYCLE_STEPS = ("activate", "watchlist", "exit")
_PATHS: dict[CustomerStatus, tuple[str, ...]] = {
    CustomerStatus.PROSPECT: (),
    CustomerStatus.ACTIVE: ("activate",),
    CustomerStatus.WATCHLIST: ("activate", "watchlist"),
    CustomerStatus.EXITED: ("activate", "exit"),
}


@st.composite
def customers(
    draw: st.DrawFn,
    *,
    kind: CustomerKind | None = None,
    status: CustomerStatus | None = None,
    remote: bool | None = None,
    in_group: bool | None = None,
    group_id: GroupId | None = None,
) -> Customer:
    """Customers of every kind, taken through a random part of their lifecycle.

    Keyword bounds (None: any): `kind`; `status` (reached through the lifecycle: activate,
    watchlist, exit); `remote` (异地: registered or funds used outside the institution's
    area, or neither); `in_group` (a member of some group or of none); `group_id` (a
    member of exactly this group — implies `in_group=True`).
    """
    ids = draw(id_sources())
    kind = kind or draw(st.sampled_from(list(CustomerKind)))
    reg = None if kind is CustomerKind.INDIVIDUAL else draw(uscc_codes())
    institution = draw(regions)
    area = region_prefix(institution)  # the institution's own area, as `is_remote` reads it
    local = [r for r in REGIONS if r.startswith(area)]
    away = [r for r in REGIONS if not r.startswith(area)]
    if remote is None:
        home, funds = draw(regions), draw(st.none() | regions)
    elif remote:
        home = draw(st.sampled_from(away))
        funds = draw(st.none() | st.sampled_from(REGIONS))
    else:
        home, funds = draw(st.sampled_from(local)), draw(st.none() | st.sampled_from(local))
    customer = Customer.onboard(
        ids,
        kind=kind,
        legal_name=draw(names()),
        registration_id=reg,
        home_region=home,
        institution_region=institution,
        funds_used_region=funds,
        industry_code=draw(st.sampled_from(["C3011", "F5191", "K7010", "A01", "C"])),
        segment=draw(st.sampled_from(list(Segment))),
        relationship_manager=draw(st.none() | users()),
    )
    on = draw(business_dates())
    choices = ["segment", "verify", "rm", "rate", "mark"]
    if status is None:
        choices += _LIFECYCLE_STEPS
    if in_group is None and group_id is None:
        choices += ["join", "leave"]
    for step in draw(st.lists(st.sampled_from(choices), max_size=6)):
        if step == "activate":
            _attempt(partial(customer.activate, on=on))
        elif step == "watchlist":
            _attempt(partial(customer.watchlist, on=on, reason="covenant breach"))
        elif step == "exit":
            _attempt(partial(customer.exit, on=on, reason="relationship ended"))
        elif step == "join":
            _attempt(partial(customer.join_group, GroupId.new(ids)))
        elif step == "leave":
            customer.leave_group()
        elif step == "segment":
            _attempt(partial(customer.change_segment, draw(st.sampled_from(list(Segment)))))
        elif step == "verify":
            _attempt(partial(customer.verify_identity, on=on))
        elif step == "rate":  # a later rating keeps the grades of the year before it
            last = customer.rating.rated_on if customer.rating is not None else on
            later = last + timedelta(days=draw(st.integers(0, 400)))
            customer.rate(draw(st.sampled_from(GRADES)), on=later)
        elif step == "mark":
            customer.note_monitoring(draw(monitoring_marks()))
        else:
            _attempt(partial(customer.assign_manager, draw(st.none() | users())))
    if group_id is not None:  # before the lifecycle: an exited customer joins nothing
        customer.join_group(group_id)
    elif in_group:
        customer.join_group(GroupId.new(ids))
    for step in _PATHS[status] if status is not None else ():
        getattr(customer, step)(on=on, reason="generated")
    return customer


@st.composite
def groups(draw: st.DrawFn, *, min_members: int = 0, max_members: int = 4) -> CustomerGroup:
    """A group (集团) with members added and sometimes one removed, sometimes with a group
    limit facility linked. The member count stays within the bounds."""
    ids = draw(id_sources())
    group = CustomerGroup.form(ids, name=draw(names()), controller=draw(texts(min_size=0)))
    for _ in range(draw(st.integers(min_members, max_members))):
        group.add_member(CustomerId.new(ids))
    remove_first: bool = draw(st.booleans())
    if len(group.members) > min_members and remove_first:
        group.remove_member(group.members[0])
    if draw(st.booleans()):
        group.set_limit_facility(FacilityId.new(ids))
    return group


@st.composite
def interactions(draw: st.DrawFn, *, customer_id: CustomerId | None = None) -> Interaction:
    """A logged contact of any kind and channel; some complaints resolved."""
    ids = draw(id_sources())
    kind = draw(st.sampled_from(list(InteractionKind)))
    item = Interaction.log(
        ids,
        customer_id=customer_id or CustomerId.new(ids),
        kind=kind,
        channel=draw(st.sampled_from(list(Channel))),
        at=draw(timestamps()),
        by=draw(users()),
        summary=draw(texts(min_size=0, max_size=200)),
        survey_score=draw(st.integers(1, 5)) if kind is InteractionKind.SURVEY else None,
    )
    if kind is InteractionKind.COMPLAINT and draw(st.booleans()):
        item.resolve_complaint(draw(texts()))
    return item


@st.composite
def tasks(draw: st.DrawFn, *, customer_id: CustomerId | None = None) -> FollowUpTask:
    """A follow-up task: open, rescheduled, completed or cancelled."""
    ids = draw(id_sources())
    task = FollowUpTask.schedule(
        ids,
        customer_id=customer_id or CustomerId.new(ids),
        title=draw(names()),
        due=draw(business_dates()),
        assignee=draw(users()),
        reminder_lead_days=draw(st.integers(0, 30)),
    )
    step = draw(st.sampled_from(["open", "reschedule", "complete", "cancel"]))
    on = draw(business_dates())
    if step == "reschedule":
        task.reschedule(on)
    elif step == "complete":
        task.complete(on=on)
    elif step == "cancel":
        task.cancel(on=on)
    return task


@st.composite
def credit_files(draw: st.DrawFn, *, customer_id: CustomerId | None = None) -> CreditFile:
    """A credit file with entries in every section, some verified, replaced or archived."""
    ids = draw(id_sources())
    cycle = draw(st.sampled_from(list(RefreshCycle)))
    cf = CreditFile.open(ids, customer_id=customer_id or CustomerId.new(ids), refresh_cycle=cycle)
    as_of = draw(business_dates(max_value=date(2030, 1, 1)))
    confidentiality = st.sampled_from(list(Confidentiality))
    cf.record(
        key="fs-latest",
        section=Section.FINANCIAL_STATEMENTS,
        source=draw(names()),
        as_of=as_of,
        confidentiality=draw(confidentiality),
        financial_statement=draw(financial_statements()),
    )
    cf.record(
        key="bureau",
        section=Section.CREDIT_RECORDS,
        source="PBOC",
        as_of=as_of,
        confidentiality=draw(confidentiality),
        bureau_report=draw(bureau_reports()),
    )
    basic = {"legal_representative": draw(names()), "address": draw(texts())}
    people = draw(st.dictionaries(st.sampled_from(KEY_PERSON_FACTS), names()))
    cf.record(
        key="basic",
        section=Section.BASIC_INFO,
        source=draw(names()),
        as_of=as_of,
        facts=basic | people,
    )
    change = draw(st.booleans())
    if people and change:  # a key person replaced (a KeyPersonsChanged event)
        replaced = draw(st.sampled_from(sorted(people)))
        cf.record(
            key="basic",
            section=Section.BASIC_INFO,
            source=draw(names()),
            as_of=as_of,
            facts=basic | people | {replaced: people[replaced] + "·" + draw(names())},
        )
    optional: list[tuple[str, Section, str, dict[str, st.SearchStrategy[Any]]]] = [
        ("case-1", Section.LITIGATION, "court registry", {"litigation": litigation_cases()}),
        (
            "licence",
            Section.DOCUMENTS,
            "SAMR",
            {
                "document": document_refs(),
                "refresh_due": st.integers(1, 800).map(lambda d: as_of + timedelta(days=d)),
            },
        ),
        ("covenant-1", Section.COVENANTS, "loan agreement", {"covenant": covenants()}),
    ]
    for key, section, source, parts in optional:
        if draw(st.booleans()):
            filed = {name: draw(part) for name, part in parts.items()}
            cf.record(key=key, section=section, source=source, as_of=as_of, **filed)
    if draw(st.booleans()):
        cf.verify("basic", by=draw(users()), on=as_of)
    if draw(st.booleans()):  # a refreshed record archives the one it replaces
        cf.record(
            key="basic",
            section=Section.BUSINESS_STATUS if draw(st.booleans()) else Section.BASIC_INFO,
            source=draw(names()),
            as_of=as_of + timedelta(days=90),
        )
    if draw(st.integers(0, 4)) == 0:
        cf.archive(on=as_of + timedelta(days=400))
    return cf


def key_person_changes() -> st.SearchStrategy[KeyPersonChange]:
    """Key-person changes as generated credit files report them
    (`CreditFile.key_person_changes`)."""
    return (
        credit_files()
        .map(lambda cf: cf.key_person_changes(since=date.min))
        .filter(bool)
        .flatmap(st.sampled_from)
    )


def file_entries() -> st.SearchStrategy[FileEntry]:
    """Live and archived entries of generated credit files."""
    return credit_files().flatmap(lambda cf: st.sampled_from(cf.entries))


__all__ = [
    "credit_files",
    "customers",
    "file_entries",
    "groups",
    "interactions",
    "tasks",
]
