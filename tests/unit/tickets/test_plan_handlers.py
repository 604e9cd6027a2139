"""Weekly plans through the handlers, against fakes: proposed with its two work orders and first
visit; the first visit needs payment information on file; the call the day after; approval
making it recurring (the first month prorated on the tech work order, visits on the calendar);
declining; the horizon kept filled; a day change moving the calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from services.tickets.domain import Customer, TicketRuleBroken, Visit
from services.tickets.domain.commands import (
    BookVisits,
    ChangePlanDay,
    ChangeStatus,
    LogCall,
    PlaceInQueue,
    PlanCommand,
    ProposePlan,
    PutPaymentOnFile,
)
from services.tickets.domain.values import PaymentReference
from services.tickets.handlers import follow_ups, plans, schedule, tickets
from shared.contracts import tickets as contract
from shared.platform.http.auth import Caller
from shared.policy.service import PolicyRefused
from tests.unit.tickets.fakes import fake_deps

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Monday
FIRST = date(2026, 12, 2)  # Wednesday
SUE = Caller(user_id="sue", tenant_id="acme", roles=frozenset({"service_manager"}))
TOM = Caller(user_id="tom", tenant_id="acme", roles=frozenset({"technician"}))


@pytest.fixture
def env():
    return fake_deps(NOW)


async def new_weekly(deps, **fields):
    command = ProposePlan(
        **{
            "customer": Customer(name="Dana Reyes", property_address="12 Elm St"),
            "weekday": 2,
            "technician_id": "tom",
            "monthly_price": Decimal("120.00"),
            "first_visit": FIRST,
            **fields,
        }
    )
    return await plans.propose_plan(deps, SUE, command)


async def first_visit(deps, plan):
    """The first visit as it happens: payment information on file, the work started, done."""
    on_file = PaymentReference(kept_in="quickbooks", reference="QB-1042")
    command = PutPaymentOnFile(ticket_id=plan.tech_ticket_id, payment=on_file)
    await tickets.put_payment_on_file(deps, SUE, command)
    await tickets.start(deps, TOM, ChangeStatus(ticket_id=plan.tech_ticket_id))
    return await plans.first_visit_done(deps, SUE, PlanCommand(plan_id=plan.plan_id))


def booked(store) -> list[tuple[str, date]]:
    return sorted((tech, day) for _, _, tech, day in store.visits)


async def test_a_new_weekly_customer_gets_two_work_orders_and_a_first_visit(env) -> None:
    deps, store, _, _ = env
    plan = await new_weekly(deps)
    tracking = await tickets.get_ticket(deps, SUE, plan.tracking_ticket_id)
    tech = await tickets.get_ticket(deps, SUE, plan.tech_ticket_id)
    assert (tracking.type, tech.type) == ("weekly_service", "weekly_service")
    assert [i.description for i in tracking.line_items] == ["Weekly service tracking"]
    assert (tech.status, tech.start_date, tech.assignment.technician_ids) == (
        "scheduled",
        FIRST,
        ("tom",),
    )
    assert booked(store) == [("tom", FIRST)]
    assert [type(e) for _, _, e in store.events].count(contract.PlanProposed) == 1


async def test_the_first_visit_needs_payment_information_on_file(env) -> None:
    deps, _, _, _ = env
    plan = await new_weekly(deps)
    start = ChangeStatus(ticket_id=plan.tech_ticket_id)
    with pytest.raises(PolicyRefused) as refused:
        await tickets.start(deps, TOM, start)
    assert refused.value.decision.missing == ["payment information on file"]
    on_file = PaymentReference(kept_in="card_processor", reference="cus_9Xa71")
    await tickets.put_payment_on_file(
        deps, SUE, PutPaymentOnFile(ticket_id=plan.tech_ticket_id, payment=on_file)
    )
    assert (await tickets.start(deps, TOM, start)).status == "in_progress"


async def test_approved_on_the_call_the_day_after_the_plan_recurs(env) -> None:
    deps, store, _, clock = env
    plan = await new_weekly(deps)
    clock.now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    tracking = await first_visit(deps, plan)
    assert (tracking.queue, tracking.follow_up.next_due) == (
        "unapproved_maintenance",
        date(2026, 12, 3),
    )

    clock.now = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    await follow_ups.log_call(deps, SUE, LogCall(ticket_id=tracking.ticket_id, outcome="undecided"))
    assert (await plans.get_plan(deps, SUE, plan.plan_id)).status == "proposed"
    await follow_ups.log_call(deps, SUE, LogCall(ticket_id=tracking.ticket_id, outcome="approved"))

    active = await plans.get_plan(deps, SUE, plan.plan_id)
    tech = await tickets.get_ticket(deps, SUE, plan.tech_ticket_id)
    prorated = tech.line_items[-1]
    assert (active.status, prorated.description, prorated.total) == (
        "active",
        "Weekly service, December 2026 prorated: 5 of 5 visits",
        Decimal("120.00"),
    )
    assert tech.amount_due == Decimal("120.00")
    horizon = date(2026, 12, 3) + timedelta(weeks=8)
    expected = [
        FIRST + timedelta(weeks=n) for n in range(9) if FIRST + timedelta(weeks=n) <= horizon
    ]
    assert booked(store) == [("tom", day) for day in expected]
    (approval,) = [e for _, _, e in store.events if isinstance(e, contract.PlanApproved)]
    assert approval.first_month_amount == Decimal("120.00")

    # The service clock a week later keeps eight weeks ahead, once.
    later = date(2026, 12, 10)
    assert await plans.fill_plans(deps, "acme", later) == 1
    assert await plans.fill_plans(deps, "acme", later) == 0

    # Moving to Fridays moves what is ahead on the calendar, not what is past.
    clock.now = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    await plans.change_day(deps, SUE, ChangePlanDay(plan_id=plan.plan_id, weekday=4))
    days = [day for _, day in booked(store)]
    assert [d for d in days if d < later] == [FIRST, date(2026, 12, 9)]
    assert all(d.weekday() == 4 for d in days if d >= later)
    calendar = await schedule.calendar(deps, SUE, date(2026, 12, 9), date(2026, 12, 11))
    assert [(d.day, len(d.ticket_ids)) for d in calendar] == [
        (date(2026, 12, 9), 1),
        (date(2026, 12, 10), 0),
        (date(2026, 12, 11), 1),
    ]


async def test_declined_on_a_call_the_trial_ends_and_frees_the_first_visit(env) -> None:
    deps, store, _, _ = env
    plan = await new_weekly(deps)
    tracking = await first_visit(deps, plan)
    await follow_ups.log_call(deps, SUE, LogCall(ticket_id=tracking.ticket_id, outcome="declined"))
    assert (await plans.get_plan(deps, SUE, plan.plan_id)).status == "declined"
    # The trial visit was done: its work order is complete.
    assert (await tickets.get_ticket(deps, SUE, plan.tech_ticket_id)).status == "complete"
    assert (await tickets.get_ticket(deps, SUE, tracking.ticket_id)).status == "declined"
    assert booked(store) == []


async def test_ending_a_plan_completes_its_work_order_and_clears_the_calendar_ahead(env) -> None:
    deps, store, _, clock = env
    plan = await new_weekly(deps)
    tracking = await first_visit(deps, plan)
    await follow_ups.log_call(deps, SUE, LogCall(ticket_id=tracking.ticket_id, outcome="approved"))
    clock.now = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)
    await plans.end(deps, SUE, PlanCommand(plan_id=plan.plan_id))
    assert (await tickets.get_ticket(deps, SUE, plan.tech_ticket_id)).status == "complete"
    assert (await tickets.get_ticket(deps, SUE, plan.tracking_ticket_id)).status == "canceled"
    assert [day for _, day in booked(store)] == [FIRST, date(2026, 12, 9)]


async def test_the_first_visit_is_marked_done_once_and_only_once_started(env) -> None:
    deps, _, _, _ = env
    plan = await new_weekly(deps)
    with pytest.raises(TicketRuleBroken, match="start the first visit"):
        await plans.first_visit_done(deps, SUE, PlanCommand(plan_id=plan.plan_id))
    await first_visit(deps, plan)
    with pytest.raises(TicketRuleBroken, match="already marked done"):
        await plans.first_visit_done(deps, SUE, PlanCommand(plan_id=plan.plan_id))


async def test_a_plans_work_orders_close_with_the_plan_only(env) -> None:
    deps, _, _, _ = env
    plan = await new_weekly(deps)
    for close in (tickets.cancel, tickets.decline):
        with pytest.raises(TicketRuleBroken, match="end or decline the plan"):
            await close(deps, SUE, ChangeStatus(ticket_id=plan.tech_ticket_id))


async def test_a_call_on_the_tech_work_order_does_not_decide_the_plan(env) -> None:
    deps, store, _, _ = env
    plan = await new_weekly(deps)
    await first_visit(deps, plan)
    await follow_ups.place_in_queue(
        deps, SUE, PlaceInQueue(ticket_id=plan.tech_ticket_id, queue="issues")
    )
    await follow_ups.log_call(deps, SUE, LogCall(ticket_id=plan.tech_ticket_id, outcome="approved"))
    assert (await plans.get_plan(deps, SUE, plan.plan_id)).status == "proposed"
    sequences = [seq for subject, seq, _ in store.events if subject == plan.tech_ticket_id]
    assert sequences == list(range(1, len(sequences) + 1))


async def test_a_trip_on_a_day_the_plan_already_has_is_a_conflict(env) -> None:
    deps, _, _, _ = env
    plan = await new_weekly(deps)
    trip = [Visit(day=FIRST, technician_id="tom")]
    with pytest.raises(TicketRuleBroken, match=f"tom is already booked on {FIRST}"):
        await schedule.book_visits(
            deps, SUE, BookVisits(ticket_id=plan.tech_ticket_id, visits=trip)
        )


def test_a_plans_first_visit_is_on_its_day() -> None:
    with pytest.raises(ValidationError, match="first_visit 2026-12-04 is a friday"):
        ProposePlan(
            customer=Customer(name="Dana Reyes", property_address="12 Elm St"),
            weekday=2,
            technician_id="tom",
            monthly_price=Decimal("120.00"),
            first_visit=date(2026, 12, 4),
        )


@pytest.mark.parametrize(
    "reference",
    ["4111 1111 1111 1111", "4111.1111.1111.1111", "cc 4111111111111111", "12345678901"],
)
def test_a_card_or_account_number_is_never_kept(reference: str) -> None:
    with pytest.raises(ValidationError, match="card or account number"):
        PaymentReference(kept_in="card_processor", reference=reference)
