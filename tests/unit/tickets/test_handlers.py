"""Tickets handlers against fakes: every refusal, the queues and their follow-up calls under the
shipped ``follow_ups`` policy, issues that billing reads, and who sees which ticket."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from services.tickets.domain import (
    Customer,
    JobNotKnown,
    LineItem,
    TicketNotFound,
    TicketRuleBroken,
    Visit,
)
from services.tickets.domain.commands import (
    AssignTicket,
    BookVisits,
    ChangeStatus,
    Issue,
    LogCall,
    OpenTicket,
    PlaceInQueue,
    RecordEstimate,
    RecordWaiver,
    ScheduleTicket,
)
from services.tickets.domain.end_of_day import EndOfDay
from services.tickets.handlers import end_of_day, follow_ups, past_jobs, schedule, tickets
from services.tickets.ports import TicketFilter
from shared.contracts import tickets as contract
from shared.contracts.jobs import CrewAssigned, CustomerContact, JobSold, LeadCreated
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope, encode_event
from shared.policy.service import PolicyRefused
from tests.unit.tickets.fakes import Store, fake_deps

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # a Monday
OFFICE = Caller(user_id="sue", tenant_id="acme", roles=frozenset({"service_manager"}))
CUSTOMER = Customer(name="Dana Reyes", property_address="12 Elm St", phone="555-0100")
VISIT = LineItem(description="Service visit", quantity=Decimal("1"), unit_price=Decimal("95.00"))


def tech(user: str = "tom", tenant: str = "acme") -> Caller:
    return Caller(user_id=user, tenant_id=tenant, roles=frozenset({"technician"}))


@pytest.fixture
def env():
    return fake_deps(NOW)


def sample(deps, name: str) -> float | None:
    return deps.metrics.registry.get_sample_value(name)


def events_of(store: Store, kind: type) -> list:
    return [event for _, _, event in store.events if isinstance(event, kind)]


CONTACT = CustomerContact(name="Dana Reyes", property_address="12 Elm St", phone="555-0100")


def sold(job_id: str, number: str, trades: list[str]) -> JobSold:
    return JobSold(
        job_id=job_id,
        job_number=number,
        sold_on=date(2026, 6, 1),
        sales_rep_id="sam",
        contract_price=None,
        sale_price=None,
        customer=CONTACT,
        trades=trades,
        line_items=[],
    )


def crew(job_id: str, crew_id: str, name: str, *members: str) -> CrewAssigned:
    return CrewAssigned(
        job_id=job_id,
        crew_id=crew_id,
        crew_name=name,
        member_ids=list(members),
        days=[date(2026, 6, 10)],
        customer=CONTACT,
    )


async def jobs_say(deps, *events) -> None:
    """Jobs' events as the consumer hands them to tickets: one run, in order."""
    run = []
    for event in events:
        outgoing = encode_event(
            event, source="jobs", subject=event.job_id, tenant_id="acme", max_bytes=1_000_000
        )
        run.append((Envelope.from_bytes(outgoing.body, 1_000_000), event))
    async with deps.unit_of_work("acme") as uow:
        await past_jobs.project_jobs(uow, run)
        await uow.commit()


async def open_one(deps, **fields) -> str:
    command = OpenTicket(
        **{"type": "service_call", "customer": CUSTOMER, "line_items": [VISIT], **fields}
    )
    return (await tickets.open_ticket(deps, OFFICE, command)).ticket_id


async def test_a_ticket_without_a_line_item_is_refused_naming_the_rule(env) -> None:
    deps, store, policy, _ = env
    command = OpenTicket(type="warranty", customer=CUSTOMER, line_items=[])
    with pytest.raises(PolicyRefused) as refused:
        await tickets.open_ticket(deps, OFFICE, command)
    assert [rule.rule for rule in refused.value.decision.enforced] == ["at-least-one-line-item"]
    assert refused.value.decision.missing == ["line item"]
    assert store.tickets == {} and store.events == []
    assert [d.decision_point for d in policy.log] == ["accounting.create_record"]


async def test_a_zero_dollar_warranty_ticket_is_fine_and_charges_nothing(env) -> None:
    deps, store, _, _ = env
    free = LineItem(description="Warranty repair", unit_price=Decimal("0.00"))
    ticket_id = await open_one(deps, type="warranty", line_items=[free])
    ticket = await tickets.get_ticket(deps, OFFICE, ticket_id)
    assert (ticket.ticket_number, ticket.amount_due, ticket.payment_status) == (
        "T-2026-0001",
        Decimal("0.00"),
        "no_charge",
    )
    (opened,) = events_of(store, contract.TicketOpened)
    assert opened.line_items[0].total == Decimal("0.00")


async def test_a_callback_takes_the_job_its_customer_and_the_crew_that_installed_it(env) -> None:
    deps, _, _, _ = env
    await jobs_say(deps, sold("j1", "2026-0042", ["roofing"]), crew("j1", "c1", "Alpha", "ian"))
    ticket_id = await open_one(deps, type="callback", job_id="j1", customer=None)
    ticket = await tickets.get_ticket(deps, OFFICE, ticket_id)
    assert (ticket.customer, ticket.job_number, ticket.trades) == (
        CUSTOMER,
        "2026-0042",
        ("roofing",),
    )
    assert (ticket.installed_by_crew_id, ticket.installed_by_crew_name) == ("c1", "Alpha")


async def test_a_ticket_for_a_job_tickets_never_heard_of_is_not_found(env) -> None:
    deps, store, _, _ = env
    with pytest.raises(JobNotKnown):
        await open_one(deps, job_id="nope", customer=None)
    assert store.tickets == {}


async def test_the_status_flow_keeps_every_change_and_refuses_skipping(env) -> None:
    deps, store, _, clock = env
    ticket_id = await open_one(deps)
    with pytest.raises(TicketRuleBroken, match="cannot go from new to in_progress"):
        await tickets.start(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    with pytest.raises(TicketRuleBroken, match="before start_date"):
        await tickets.schedule(
            deps,
            OFFICE,
            ScheduleTicket(
                ticket_id=ticket_id, start_date=date(2026, 12, 3), end_date=date(2026, 12, 2)
            ),
        )
    await tickets.schedule(
        deps,
        OFFICE,
        ScheduleTicket(
            ticket_id=ticket_id, start_date=date(2026, 12, 2), end_date=date(2026, 12, 2)
        ),
    )
    clock.now = NOW + timedelta(days=2)
    await tickets.start(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    done = await tickets.complete(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    assert [(c.from_status, c.to_status) for c in done.history] == [
        (None, "new"),
        ("new", "scheduled"),
        ("scheduled", "in_progress"),
        ("in_progress", "complete"),
    ]
    assert done.completed_at == NOW + timedelta(days=2)
    with pytest.raises(TicketRuleBroken, match="from complete to canceled"):
        await tickets.cancel(deps, OFFICE, ChangeStatus(ticket_id=ticket_id, reason="late"))
    sequences = [seq for subject, seq, _ in store.events if subject == ticket_id]
    assert sequences == list(range(1, len(sequences) + 1))


async def test_a_technician_sees_only_the_tickets_assigned_to_them(env) -> None:
    deps, _, _, _ = env
    mine = await open_one(deps, technician_ids=["tom"])
    theirs = await open_one(deps, technician_ids=["tina"])
    assert [
        t.ticket_id
        for t in await tickets.find_tickets(deps, tech(), TicketFilter(), limit=10, offset=0)
    ] == [mine]
    with pytest.raises(TicketNotFound):
        await tickets.get_ticket(deps, tech(), theirs)
    with pytest.raises(TicketNotFound):  # another tenant's is as absent
        await tickets.get_ticket(deps, tech(tenant="other"), mine)
    # Unassigned, the ticket is gone from their view.
    await tickets.assign(deps, OFFICE, AssignTicket(ticket_id=mine, technician_ids=["tina"]))
    with pytest.raises(TicketNotFound):
        await tickets.get_ticket(deps, tech(), mine)


async def test_an_installer_sees_the_tickets_of_their_crew(env) -> None:
    deps, _, _, _ = env
    await jobs_say(deps, crew("j1", "c1", "Alpha", "ian"))
    ticket_id = await open_one(deps, crew_id="c1")
    installer = Caller(user_id="ian", tenant_id="acme", roles=frozenset({"installer"}))
    assert (await tickets.get_ticket(deps, installer, ticket_id)).assignment.crew_id == "c1"


async def test_the_routing_table_picks_the_product_admin(env) -> None:
    deps, _, _, _ = env
    await jobs_say(deps, sold("j1", "2026-0001", ["metal"]))
    async with deps.unit_of_work("acme") as uow:
        await uow.repos.routing.route("metal", "mia")
    ticket_id = await open_one(deps, job_id="j1", customer=None)
    assert (await tickets.get_ticket(deps, OFFICE, ticket_id)).assignment.admin_id == "mia"


async def test_a_complaint_opens_an_issue_billing_reads_and_its_repair_clears_it(env) -> None:
    deps, store, _, _ = env
    ticket_id = await open_one(
        deps, type="callback", issue=Issue(kind="complaint", note="Leak over the garage")
    )
    (issue,) = events_of(store, contract.IssueOpened)
    assert (issue.kind, issue.customer.name, issue.note) == (
        "complaint",
        "Dana Reyes",
        "Leak over the garage",
    )
    ticket = await tickets.get_ticket(deps, OFFICE, ticket_id)
    assert ticket.queue == "issues" and ticket.follow_up.next_due is not None

    await tickets.schedule(
        deps,
        OFFICE,
        ScheduleTicket(
            ticket_id=ticket_id, start_date=date(2026, 12, 1), end_date=date(2026, 12, 1)
        ),
    )
    await tickets.start(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    done = await tickets.complete(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    (resolved,) = events_of(store, contract.IssueResolved)
    assert (resolved.ticket_id, resolved.kind, resolved.resolution) == (
        ticket_id,
        "complaint",
        "complete",
    )
    assert done.queue is None and done.follow_up.next_due is None


async def test_follow_ups_every_two_business_days_and_the_third_is_escalated(env) -> None:
    deps, store, policy, _ = env
    ticket_id = await open_one(deps, type="one_time", queue="unapproved_maintenance")
    ticket = await tickets.get_ticket(deps, OFFICE, ticket_id)
    assert ticket.follow_up.next_due == (NOW + timedelta(days=2)).date()  # the fake counts days

    for call, outcome in enumerate(("no_answer", "undecided"), start=1):
        ticket = await follow_ups.log_call(
            deps, OFFICE, LogCall(ticket_id=ticket_id, outcome=outcome)
        )
        assert (ticket.follow_up.calls_made, ticket.follow_up.escalated_to) == (call, None)
    ticket = await follow_ups.log_call(
        deps, OFFICE, LogCall(ticket_id=ticket_id, outcome="no_answer")
    )
    assert ticket.follow_up.escalated_to == "service_manager"
    assert ticket.queue == "unapproved_maintenance" and ticket.follow_up.next_due is not None
    logged = events_of(store, contract.FollowUpLogged)
    assert [(e.call, e.outcome, e.escalated_to) for e in logged] == [
        (1, "no_answer", None),
        (2, "undecided", None),
        (3, "no_answer", "service_manager"),
    ]
    assert policy.log[-1].outcome == "escalate"


async def test_approval_takes_the_ticket_out_of_its_queue_and_declining_declines_it(env) -> None:
    deps, _, policy, _ = env
    approved = await open_one(deps, queue="repair_quotes")
    declined = await open_one(deps, queue="repair_quotes")
    kept = await follow_ups.log_call(deps, OFFICE, LogCall(ticket_id=approved, outcome="approved"))
    assert (kept.queue, kept.status, kept.follow_up.next_due) == (None, "new", None)
    gone = await follow_ups.log_call(deps, OFFICE, LogCall(ticket_id=declined, outcome="declined"))
    assert (gone.queue, gone.status) == (None, "declined")
    assert gone.history[-1].reason == "declined on follow-up call 1"
    assert declined not in policy.deadlines and approved not in policy.deadlines
    with pytest.raises(TicketRuleBroken, match="in no queue"):
        await follow_ups.log_call(deps, OFFICE, LogCall(ticket_id=approved, outcome="undecided"))


async def test_placing_a_closed_ticket_in_a_queue_is_refused(env) -> None:
    deps, _, _, _ = env
    ticket_id = await open_one(deps)
    await tickets.cancel(deps, OFFICE, ChangeStatus(ticket_id=ticket_id, reason="duplicate"))
    with pytest.raises(TicketRuleBroken, match="it is canceled"):
        await follow_ups.place_in_queue(
            deps, OFFICE, PlaceInQueue(ticket_id=ticket_id, queue="issues")
        )


async def test_the_sweeper_counts_a_passed_follow_up_as_missed_once(env) -> None:
    deps, store, _, clock = env
    ticket_id = await open_one(deps, queue="unapproved_maintenance")
    assert await follow_ups.sweep_follow_ups(deps, "acme", NOW.date()) == 0  # not due yet
    clock.now = NOW + timedelta(days=3)
    assert await follow_ups.sweep_follow_ups(deps, "acme", clock.now.date()) == 1
    # The next one is set ahead.
    assert await follow_ups.sweep_follow_ups(deps, "acme", clock.now.date()) == 0
    (missed,) = events_of(store, contract.FollowUpLogged)
    assert (missed.outcome, missed.call, missed.by) == ("missed", 1, "follow-up sweeper")
    ticket = await tickets.get_ticket(deps, OFFICE, ticket_id)
    assert ticket.follow_up.next_due == (clock.now + timedelta(days=2)).date()


async def test_return_trips_past_a_technicians_day_are_refused_naming_both(env) -> None:
    deps, store, _, _ = env
    async with deps.unit_of_work("acme") as uow:
        await uow.repos.technicians.set_capacity("tom", 2)
    dec2, dec3 = date(2026, 12, 2), date(2026, 12, 3)
    first = await open_one(deps, type="one_time")
    await schedule.book_visits(
        deps,
        OFFICE,
        BookVisits(ticket_id=first, visits=[Visit(day=dec2, technician_id="tom")]),
    )
    second = await open_one(deps, type="one_time")
    trips = [Visit(day=dec2, technician_id="tom"), Visit(day=dec3, technician_id="tom")]
    booked = await schedule.book_visits(deps, OFFICE, BookVisits(ticket_id=second, visits=trips))
    assert booked.visits == tuple(trips) and "tom" in booked.assignment.technician_ids

    third = await open_one(deps, type="one_time")
    trips = [Visit(day=dec3, technician_id="tom"), Visit(day=dec2, technician_id="tom")]
    with pytest.raises(PolicyRefused) as refused:
        await schedule.book_visits(deps, OFFICE, BookVisits(ticket_id=third, visits=trips))
    (rule,) = refused.value.decision.enforced
    assert rule.rule == "within-daily-visits"
    assert "tom would have 3 visit(s) on 2026-12-02" in rule.reason
    assert sample(deps, "roofline_tickets_bookings_refused_total") == 1
    # Refused whole: not even the day with room was booked.
    assert (await tickets.get_ticket(deps, OFFICE, third)).visits == ()
    assert len(events_of(store, contract.VisitsBooked)) == 2

    days = await schedule.calendar(deps, OFFICE, dec2, date(2026, 12, 4))
    assert [(d.day, d.technician_id, len(d.ticket_ids), d.free) for d in days] == [
        (dec2, "tom", 2, 0),
        (dec3, "tom", 1, 1),
        (date(2026, 12, 4), "tom", 0, 2),
    ]
    # A technician's calendar is their own, whoever they ask about.
    mine = await schedule.calendar(deps, tech("tina"), dec2, dec2, "tom")
    assert [(d.technician_id, d.ticket_ids) for d in mine] == [("tina", [])]


async def test_booking_the_same_trip_twice_is_a_conflict(env) -> None:
    deps, _, _, _ = env
    ticket_id = await open_one(deps)
    trip = Visit(day=date(2026, 12, 2), technician_id="tom")
    with pytest.raises(TicketRuleBroken, match="already booked on 2026-12-02"):
        await schedule.book_visits(
            deps, OFFICE, BookVisits(ticket_id=ticket_id, visits=[trip, trip])
        )


async def test_a_start_with_waivers_out_is_refused_naming_each(env) -> None:
    deps, store, _, _ = env
    ticket_id = await open_one(deps, type="new_service")
    await tickets.schedule(
        deps,
        OFFICE,
        ScheduleTicket(
            ticket_id=ticket_id, start_date=date(2026, 12, 2), end_date=date(2026, 12, 2)
        ),
    )
    for waiver in ("HOA release", "Pet waiver"):
        await tickets.record_waiver(deps, OFFICE, RecordWaiver(ticket_id=ticket_id, waiver=waiver))
    for status in ("sent", "viewed", "accepted"):
        await tickets.record_estimate(
            deps,
            OFFICE,
            RecordEstimate(ticket_id=ticket_id, status=status, amount=Decimal("1200.00")),
        )
    await tickets.record_waiver(
        deps, OFFICE, RecordWaiver(ticket_id=ticket_id, waiver="HOA release", returned=True)
    )
    with pytest.raises(PolicyRefused) as refused:
        await tickets.start(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    (rule,) = refused.value.decision.enforced
    assert rule.rule == "waivers-returned" and "Pet waiver" in rule.reason
    assert "HOA release" not in rule.reason
    assert (await tickets.get_ticket(deps, OFFICE, ticket_id)).status == "scheduled"

    await tickets.record_waiver(
        deps, OFFICE, RecordWaiver(ticket_id=ticket_id, waiver="Pet waiver", returned=True)
    )
    started = await tickets.start(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    assert started.status == "in_progress" and started.outstanding_waivers == []
    (last_waiver,) = [
        e
        for e in events_of(store, contract.WaiverRecorded)
        if e.waiver == "Pet waiver" and e.returned
    ]
    assert last_waiver.outstanding == []


async def test_a_new_service_starts_only_once_its_estimate_is_accepted(env) -> None:
    deps, _, _, _ = env
    ticket_id = await open_one(deps, type="new_service")
    await tickets.schedule(
        deps,
        OFFICE,
        ScheduleTicket(
            ticket_id=ticket_id, start_date=date(2026, 12, 2), end_date=date(2026, 12, 2)
        ),
    )
    with pytest.raises(PolicyRefused) as refused:
        await tickets.start(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    assert [r.rule for r in refused.value.decision.enforced] == ["new-service-estimate-sent"]
    await tickets.record_estimate(deps, OFFICE, RecordEstimate(ticket_id=ticket_id, status="sent"))
    with pytest.raises(PolicyRefused) as refused:
        await tickets.start(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    assert [r.rule for r in refused.value.decision.enforced] == ["new-service-estimate-accepted"]
    await tickets.record_estimate(
        deps, OFFICE, RecordEstimate(ticket_id=ticket_id, status="accepted")
    )
    assert (
        await tickets.start(deps, OFFICE, ChangeStatus(ticket_id=ticket_id))
    ).status == "in_progress"


async def test_estimate_and_waiver_conflicts(env) -> None:
    deps, _, _, _ = env
    ticket_id = await open_one(deps)
    with pytest.raises(TicketRuleBroken, match="from none to accepted"):
        await tickets.record_estimate(
            deps, OFFICE, RecordEstimate(ticket_id=ticket_id, status="accepted")
        )
    with pytest.raises(TicketRuleBroken, match="no waiver 'HOA' is out"):
        await tickets.record_waiver(
            deps, OFFICE, RecordWaiver(ticket_id=ticket_id, waiver="HOA", returned=True)
        )
    await tickets.record_waiver(deps, OFFICE, RecordWaiver(ticket_id=ticket_id, waiver="HOA"))
    with pytest.raises(TicketRuleBroken, match="already out"):
        await tickets.record_waiver(deps, OFFICE, RecordWaiver(ticket_id=ticket_id, waiver="HOA"))


async def test_the_end_of_day_moves_undone_issues_and_unapproved_work_once(env) -> None:
    deps, store, _, clock = env
    issue = await open_one(deps, queue="issues")
    unapproved = await open_one(deps, queue="unapproved_maintenance")
    quote = await open_one(deps, queue="repair_quotes")
    due = (NOW + timedelta(days=2)).date()  # the first call of each, by the fake policy
    clock.now = NOW + timedelta(days=2, hours=8)

    run, ran_now = await end_of_day.move_undone_follow_ups(deps, "acme", due)
    assert (run.moved, ran_now) == (2, True)
    for ticket_id in (issue, unapproved):
        moved = await tickets.get_ticket(deps, OFFICE, ticket_id)
        assert moved.follow_up.next_due == due + timedelta(days=1)
    assert (await tickets.get_ticket(deps, OFFICE, quote)).follow_up.next_due == due
    assert [(e.from_day, e.to_day) for e in events_of(store, contract.FollowUpMoved)] == [
        (due, due + timedelta(days=1))
    ] * 2

    again, ran_now = await end_of_day.move_undone_follow_ups(deps, "acme", due, by="sue")
    assert (again, ran_now) == (run, False)
    assert sample(deps, "roofline_tickets_end_of_day_moved_total") == 2
    assert len(events_of(store, contract.FollowUpMoved)) == 2


async def test_the_clock_moves_each_tenant_at_its_local_end_of_day(env) -> None:
    deps, store, _, clock = env
    await open_one(deps, queue="issues")
    chicago = EndOfDay(timezone="America/Chicago", at=time(17, 30))
    async with deps.unit_of_work("acme") as uow:
        await uow.repos.end_of_day.configure(chicago)
        await uow.commit()
    due = (NOW + timedelta(days=2)).date()
    # 17:00 in Chicago (23:00 UTC): not yet; 17:45 (23:45 UTC): the day's move; later: no more.
    clock.now = datetime.combine(due, time(23, 0), tzinfo=UTC)
    assert await end_of_day.when_due(deps, {"acme": chicago}) == 0
    clock.now = datetime.combine(due, time(23, 45), tzinfo=UTC)
    assert await end_of_day.when_due(deps, {"acme": chicago}) == 1
    clock.now += timedelta(hours=1)  # past midnight UTC, still the same day in Chicago
    assert await end_of_day.when_due(deps, {"acme": chicago}) == 0
    assert list(store.end_of_day_runs) == [("acme", due)]


async def test_the_time_from_the_first_visit_to_approval_is_measured(env) -> None:
    deps, _, _, clock = env
    ticket_id = await open_one(deps, type="weekly_service", queue="unapproved_maintenance")
    await schedule.book_visits(
        deps,
        OFFICE,
        BookVisits(ticket_id=ticket_id, visits=[Visit(day=date(2026, 12, 1), technician_id="tom")]),
    )
    clock.now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    await follow_ups.log_call(deps, OFFICE, LogCall(ticket_id=ticket_id, outcome="approved"))
    took = sample(deps, "roofline_tickets_first_visit_to_approval_seconds_sum")
    assert took == timedelta(days=3, hours=12).total_seconds()


async def test_jobs_events_folded_in_order_and_each_lead_answered_once(env) -> None:
    deps, store, _, _ = env
    lead = LeadCreated(
        job_id="j7", customer_name="Rita", property_address="8 Quarry Rd", salesman_id="sam"
    )
    await jobs_say(
        deps,
        lead,
        sold("j7", "2026-0007", ["gutters"]),
        crew("j7", "c1", "A", "ian"),
        crew("j7", "c2", "B", "ivy"),
        lead,
    )
    await jobs_say(deps, lead)  # a replayed lead
    known = store.jobs[("acme", "j7")]
    assert (known.customer.name, known.trades, known.crew_id, known.crew_member_ids) == (
        "Dana Reyes",
        ("gutters",),
        "c2",
        ("ivy",),
    )
    answers = [e for _, _, e in store.events if isinstance(e, contract.CustomerRecorded)]
    assert [a.job_id for a in answers] == ["j7"]


async def test_a_canceled_ticket_frees_its_visits_ahead(env) -> None:
    deps, _, _, _ = env
    async with deps.unit_of_work("acme") as uow:
        await uow.repos.technicians.set_capacity("tom", 1)
        await uow.commit()
    trip = [Visit(day=date(2026, 12, 2), technician_id="tom")]
    first = await open_one(deps)
    await schedule.book_visits(deps, OFFICE, BookVisits(ticket_id=first, visits=trip))
    second = await open_one(deps)
    with pytest.raises(PolicyRefused):
        await schedule.book_visits(deps, OFFICE, BookVisits(ticket_id=second, visits=trip))
    await tickets.cancel(deps, OFFICE, ChangeStatus(ticket_id=first, reason="customer moved"))
    booked = await schedule.book_visits(deps, OFFICE, BookVisits(ticket_id=second, visits=trip))
    assert booked.visits == tuple(trip)


async def test_a_field_issue_only_on_a_job_the_reporter_works_on(env) -> None:
    deps, _, _, _ = env
    await jobs_say(deps, crew("j1", "c1", "Alpha", "ian"), crew("j2", "c2", "Beta", "ivy"))
    installer = Caller(user_id="ian", tenant_id="acme", roles=frozenset({"installer"}))
    report = {
        "type": "service_call",
        "customer": None,
        "line_items": [VISIT],
        "technician_ids": ["ian"],
        "issue": Issue(kind="field_issue", note="Loose flashing"),
    }
    opened = await tickets.open_ticket(deps, installer, OpenTicket(job_id="j1", **report))
    assert opened.queue == "issues"
    with pytest.raises(JobNotKnown):  # not their job: its customer stays unseen
        await tickets.open_ticket(deps, installer, OpenTicket(job_id="j2", **report))


async def test_one_who_left_a_crew_no_longer_sees_its_tickets(env) -> None:
    deps, _, _, _ = env
    await jobs_say(deps, crew("j1", "c1", "Alpha", "ian", "ivy"))
    ticket_id = await open_one(deps, crew_id="c1")
    ian = Caller(user_id="ian", tenant_id="acme", roles=frozenset({"installer"}))
    assert (await tickets.get_ticket(deps, ian, ticket_id)).ticket_id == ticket_id
    await jobs_say(deps, crew("j2", "c1", "Alpha", "ivy"))  # jobs names c1's members again
    with pytest.raises(TicketNotFound):
        await tickets.get_ticket(deps, ian, ticket_id)
