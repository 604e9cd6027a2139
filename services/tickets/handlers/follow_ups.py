"""The follow-up calls of the tracking queues (seed 003: "Perform follow up calls ... until
declined"), their cadence and escalation decided by the ``follow_ups`` policy
(``tickets.follow_up``), and the sweeper that counts a follow-up whose day passed uncalled as
missed and sets the next one.

The policy answers ``schedule`` (the next call, within N business days of the tenant's calendar;
the policy layer stores it as a deadline of the ticket) and, after enough calls without a
decision, ``escalate`` to the service manager (delivered from the logged decision). Logging a
call meets the pending deadline first, so a deadline fires only for a call never made.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from services.tickets.domain import Ticket
from services.tickets.domain.commands import LogCall, PlaceInQueue
from services.tickets.domain.ticket import DECIDED
from services.tickets.domain.values import FollowUpResult
from services.tickets.handlers.calls import end_pending_call, next_follow_up
from services.tickets.handlers.common import change_ticket, store
from services.tickets.handlers.plans import customer_decided
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.contracts.base import EventData
from shared.platform.http.auth import Caller

SWEEPER = "follow-up sweeper"


async def place_in_queue(deps: TicketsDeps, caller: Caller, command: PlaceInQueue) -> Ticket:
    async def apply(uow: TicketsUnitOfWork, ticket: Ticket) -> list[EventData]:
        ticket.check_open("queue")
        due, _ = await next_follow_up(deps, uow, ticket, entering=command.queue)
        return ticket.place_in_queue(command.queue, follow_up_due=due, by=caller.user_id)

    return await change_ticket(deps, caller, command.ticket_id, apply)


async def log_call(deps: TicketsDeps, caller: Caller, command: LogCall) -> Ticket:
    async def apply(uow: TicketsUnitOfWork, ticket: Ticket) -> list[EventData]:
        events = await follow_up_done(
            deps, uow, ticket, command.outcome, by=caller.user_id, note=command.note
        )
        await customer_decided(deps, uow, ticket, command.outcome, by=caller.user_id)
        return events

    return await change_ticket(deps, caller, command.ticket_id, apply)


async def follow_up_done(
    deps: TicketsDeps,
    uow: TicketsUnitOfWork,
    ticket: Ticket,
    result: FollowUpResult,
    *,
    by: str,
    note: str | None = None,
) -> list[EventData]:
    """A follow-up call's result: the pending deadline is met, and unless the customer decided,
    the policy sets the next call (and may escalate)."""
    ticket.check_queued()
    due, escalated_to = None, None
    if result in DECIDED:
        await end_pending_call(deps, uow, ticket.ticket_id)
    else:
        due, escalated_to = await next_follow_up(deps, uow, ticket, after=result)
    now = deps.clock()
    first_visit = ticket.first_visit
    if result == "approved" and first_visit is not None and ticket.plan_id is None:
        since = now - datetime.combine(first_visit, time.min, tzinfo=UTC)
        deps.metrics.first_visit_to_approval.observe(max(since.total_seconds(), 0.0))
    return ticket.log_follow_up(
        result, next_due=due, escalated_to=escalated_to, by=by, at=now, note=note
    )


async def sweep_follow_ups(
    deps: TicketsDeps, tenant_id: str, today: date, *, batch: int = 100
) -> int:
    """Count every follow-up of ``tenant_id`` whose day is before ``today`` (the tenant's) as
    missed and set the next one. The due tickets are locked and skipped by any other sweeper
    (another replica), and the new due date commits with the change: each missed follow-up is
    counted once."""
    async with deps.unit_of_work(tenant_id) as uow:
        due = await uow.repos.tickets.follow_ups_due(today, limit=batch)
        for ticket_id in due:
            ticket = await uow.repos.tickets.get(ticket_id, for_update=True)
            if ticket is None or ticket.queue is None:
                continue
            events = await follow_up_done(deps, uow, ticket, "missed", by=SWEEPER)
            await store(deps, uow, ticket, events)
        await uow.commit()
    return len(due)
