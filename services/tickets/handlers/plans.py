"""Weekly maintenance plans (seed 003, "New Weekly"): a new weekly customer gets a tracking and a
tech work order and a first visit; after it, a follow-up call the next day (the tracking work
order enters Unapproved Maintenance, policy ``follow_ups``); the customer approving on a call
makes the plan recurring (the first month prorated on the tech work order's line, the visits
generated ahead on the technician's calendar), declining ends it. Pausing, skipping a visit,
changing the day (future visits only) and ending are commands; the service clock keeps every
active plan's horizon filled (``fill_plans``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from services.tickets.domain import (
    LineItem,
    PlanNotFound,
    Ticket,
    TicketNotFound,
    TicketRuleBroken,
    Visit,
    facts,
)
from services.tickets.domain.commands import ChangePlanDay, PlanCommand, ProposePlan, SkipVisit
from services.tickets.domain.plans import HORIZON_WEEKS, MaintenancePlan
from services.tickets.domain.ticket import DECIDED
from services.tickets.domain.values import FollowUpResult, Queue
from services.tickets.handlers.calls import end_pending_call, next_follow_up
from services.tickets.handlers.common import past_job, record_events, store
from services.tickets.handlers.schedule import check_capacity
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.contracts import tickets as contract
from shared.contracts.base import EventData
from shared.platform.http.auth import Caller
from shared.platform.storage.uow import record_versioned
from shared.policy.asking import decide_or_refuse

UNAPPROVED: Queue = "unapproved_maintenance"
# Each plan's work orders carry a line from the start (seed 003: never one without a line item).
TRACKING_LINE = "Weekly service tracking"
FIRST_VISIT_LINE = "Weekly service: first visit"
FILL_BATCH = 200


async def propose_plan(deps: TicketsDeps, caller: Caller, command: ProposePlan) -> MaintenancePlan:
    plan_id, now, by = str(uuid.uuid4()), deps.clock(), caller.user_id
    tracking_id, tech_id = str(uuid.uuid4()), str(uuid.uuid4())
    lines = {tracking_id: TRACKING_LINE, tech_id: FIRST_VISIT_LINE}
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await past_job(uow, command.job_id)
        # Every decision before anything is written: a refusal commits the decision log alone.
        for ticket_id, line in lines.items():
            await decide_or_refuse(
                deps.policy,
                uow,
                "accounting.create_record",
                facts.create_record([LineItem(description=line)]),
                subject=ticket_id,
            )
        first_day = [command.first_visit]
        await check_capacity(deps, uow, "weekly_service", tech_id, command.technician_id, first_day)
        opened: list[tuple[Ticket, list[EventData]]] = [
            Ticket.open(
                tenant_id=caller.tenant_id,
                ticket_id=ticket_id,
                ticket_number=await uow.repos.tickets.next_number(now.year),
                type="weekly_service",
                customer=command.customer,
                job=job,
                line_items=[LineItem(description=line)],
                opened_by=by,
                at=now,
                plan_id=plan_id,
            )
            for ticket_id, line in lines.items()
        ]
        (tracking, tracking_events), (tech, tech_events) = opened
        first = [Visit(day=command.first_visit, technician_id=command.technician_id)]
        tech_events += tech.book_visits(first, by=by)
        tech_events += tech.schedule(command.first_visit, command.first_visit, by=by, at=now)
        await uow.repos.technicians.book(tech.ticket_id, first)
        plan, plan_events = MaintenancePlan.propose(
            tenant_id=caller.tenant_id,
            plan_id=plan_id,
            customer=tech.customer,
            job_id=tech.job_id,
            weekday=command.weekday,
            technician_id=command.technician_id,
            monthly_price=command.monthly_price,
            first_visit=command.first_visit,
            tracking_ticket_id=tracking.ticket_id,
            tech_ticket_id=tech.ticket_id,
            by=by,
        )
        for ticket, events in ((tracking, tracking_events), (tech, tech_events)):
            await uow.repos.tickets.add(ticket)
            record_events(uow, ticket, events)
        await uow.repos.plans.add(plan)
        record_plan_events(uow, plan, plan_events)
        await uow.commit()
    return plan


async def first_visit_done(deps: TicketsDeps, caller: Caller, command: PlanCommand) -> Ticket:
    """The first visit happened: the tracking work order enters Unapproved Maintenance with the
    next day's follow-up call (policy ``follow_ups``) until the customer decides."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        plan = await load_plan(uow, command.plan_id, for_update=True)
        if plan.status != "proposed":
            raise TicketRuleBroken(f"plan {plan.plan_id} is {plan.status}, not on trial")
        tracking = await _ticket(uow, plan.tracking_ticket_id)
        tech = await _ticket(uow, plan.tech_ticket_id)
        if tech.status != "in_progress":
            # Starting it passed service_start (payment information on file, seed 003).
            raise TicketRuleBroken(
                f"start the first visit (work order {tech.ticket_number}) before marking it done"
            )
        if tracking.queue is not None or tracking.follow_up.calls_made:
            raise TicketRuleBroken(f"plan {plan.plan_id}'s first visit is already marked done")
        due, _ = await next_follow_up(deps, uow, tracking, entering=UNAPPROVED)
        await store(
            deps,
            uow,
            tracking,
            tracking.place_in_queue(UNAPPROVED, follow_up_due=due, by=caller.user_id),
        )
        await uow.commit()
    return tracking


async def customer_decided(
    deps: TicketsDeps, uow: TicketsUnitOfWork, tracking: Ticket, result: FollowUpResult, *, by: str
) -> None:
    """A follow-up call on a plan's tracking work order decided it: approved makes the plan
    recurring, declined ends it (called within the call's own transaction)."""
    if tracking.plan_id is None or result not in DECIDED:
        return
    plan = await load_plan(uow, tracking.plan_id, for_update=True)
    if plan.status != "proposed" or tracking.ticket_id != plan.tracking_ticket_id:
        return  # decided before, or a call on the plan's other work order: the plan stays
    tech = await _ticket(uow, plan.tech_ticket_id)
    now = deps.clock()
    if result == "approved":
        since_first_visit = now - datetime.combine(plan.first_visit, time.min, tzinfo=UTC)
        deps.metrics.first_visit_to_approval.observe(max(since_first_visit.total_seconds(), 0.0))
        proration, events = plan.approve(today=now.date(), by=by, at=now)
        line = LineItem(description=proration.label, unit_price=proration.amount)
        await store(deps, uow, tech, tech.add_line_item(line))
    else:
        events = plan.decline(by=by)
        await store(
            deps, uow, tech, tech.end_recurring(by=by, at=now, reason="weekly service declined")
        )
    await _save(uow, plan, events)


async def fill_plans(deps: TicketsDeps, tenant_id: str, today: date) -> int:
    """Keep every active plan's visits generated through its horizon; returns visits added.
    The plans are locked and skipped by any other filler (another replica)."""
    async with deps.unit_of_work(tenant_id) as uow:
        through = today + timedelta(weeks=HORIZON_WEEKS)
        due = await uow.repos.plans.to_fill(through, limit=FILL_BATCH)
        bookings: list[tuple[str, Visit]] = []
        for plan in due:
            events = plan.fill_horizon(today)
            for event in events:
                assert isinstance(event, contract.PlanVisitsScheduled)  # all a fill records
                bookings += [
                    (plan.tech_ticket_id, Visit(day=day, technician_id=plan.technician_id))
                    for day in event.scheduled
                ]
            record_plan_events(uow, plan, events)
        await uow.repos.technicians.book_many(bookings)
        await uow.repos.plans.save_many(due)
        await uow.commit()
    return len(bookings)


# -- changes ---------------------------------------------------------------------------------------


async def pause(deps: TicketsDeps, caller: Caller, command: PlanCommand) -> MaintenancePlan:
    return await _change(
        deps,
        caller,
        command.plan_id,
        lambda plan, today: plan.pause(today=today, by=caller.user_id),
    )


async def resume(deps: TicketsDeps, caller: Caller, command: PlanCommand) -> MaintenancePlan:
    return await _change(
        deps,
        caller,
        command.plan_id,
        lambda plan, today: plan.resume(today=today, by=caller.user_id),
    )


async def skip_visit(deps: TicketsDeps, caller: Caller, command: SkipVisit) -> MaintenancePlan:
    return await _change(
        deps, caller, command.plan_id, lambda plan, _: plan.skip(command.day, by=caller.user_id)
    )


async def change_day(deps: TicketsDeps, caller: Caller, command: ChangePlanDay) -> MaintenancePlan:
    return await _change(
        deps,
        caller,
        command.plan_id,
        lambda plan, today: plan.change_day(command.weekday, today=today, by=caller.user_id),
    )


async def end(deps: TicketsDeps, caller: Caller, command: PlanCommand) -> MaintenancePlan:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        plan = await load_plan(uow, command.plan_id, for_update=True)
        now = deps.clock()
        events = plan.end(today=now.date(), by=caller.user_id)
        # Both work orders close with the plan; a call still pending on a trial will not fire.
        for ticket_id in (plan.tracking_ticket_id, plan.tech_ticket_id):
            ticket = await _ticket(uow, ticket_id)
            closed = ticket.end_recurring(by=caller.user_id, at=now, reason="weekly service ended")
            await end_pending_call(deps, uow, ticket_id)
            await store(deps, uow, ticket, closed)
        await _save(uow, plan, events)
        await uow.commit()
    return plan


async def get_plan(deps: TicketsDeps, caller: Caller, plan_id: str) -> MaintenancePlan:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await load_plan(uow, plan_id, for_update=False)


async def find_plans(
    deps: TicketsDeps, caller: Caller, status: str | None, *, limit: int, offset: int
) -> list[MaintenancePlan]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.plans.find(status=status, limit=limit, offset=offset)


# -- helpers ---------------------------------------------------------------------------------------


async def load_plan(uow: TicketsUnitOfWork, plan_id: str, *, for_update: bool) -> MaintenancePlan:
    plan = await uow.repos.plans.get(plan_id, for_update=for_update)
    if plan is None:
        raise PlanNotFound(f"plan {plan_id} not found")
    return plan


async def _ticket(uow: TicketsUnitOfWork, ticket_id: str) -> Ticket:
    ticket = await uow.repos.tickets.get(ticket_id, for_update=True)
    if ticket is None:
        raise TicketNotFound(f"ticket {ticket_id} not found")
    return ticket


async def _change(
    deps: TicketsDeps,
    caller: Caller,
    plan_id: str,
    change: Callable[[MaintenancePlan, date], Sequence[EventData]],
) -> MaintenancePlan:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        plan = await load_plan(uow, plan_id, for_update=True)
        await _save(uow, plan, change(plan, deps.clock().date()))
        await uow.commit()
    return plan


async def _save(uow: TicketsUnitOfWork, plan: MaintenancePlan, events: Sequence[EventData]) -> None:
    """Save the plan, move its visits on the technician's calendar, record its events."""
    for event in events:
        if isinstance(event, contract.PlanVisitsScheduled):
            await _sync_calendar(uow, event)
    await uow.repos.plans.save(plan)
    record_plan_events(uow, plan, events)


async def _sync_calendar(uow: TicketsUnitOfWork, change: contract.PlanVisitsScheduled) -> None:
    calendar = uow.repos.technicians
    if change.canceled:
        await calendar.unbook(change.tech_ticket_id, change.technician_id, change.canceled)
    if change.scheduled:
        visits = [Visit(day=day, technician_id=change.technician_id) for day in change.scheduled]
        await calendar.book(change.tech_ticket_id, visits)


def record_plan_events(
    uow: TicketsUnitOfWork, plan: MaintenancePlan, events: Sequence[EventData]
) -> None:
    """Keyed by the plan (``sequence`` = the plan's versions)."""
    record_versioned(uow, events, subject=plan.plan_id, version=plan.version)
