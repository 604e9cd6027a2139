"""Tickets and work orders: opening one (for a past job or a customer of its own; a complaint or
an issue from the field opens one in the Issues queue), its status flow, who works it, its line
items; and reading them.

Opening asks ``accounting.create_record`` (seed 003: never a record without a line item; the
refusal names the rule) and, for a queued ticket, the follow-up policy for its first call.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from services.tickets.domain import JobNotKnown, PastJob, Ticket, facts
from services.tickets.domain.commands import (
    AddLineItem,
    AssignTicket,
    ChangeStatus,
    OpenTicket,
    PutPaymentOnFile,
    RecordEstimate,
    RecordWaiver,
    ScheduleTicket,
)
from services.tickets.domain.values import Queue
from services.tickets.handlers.calls import decide_follow_up, end_pending_call, schedule_follow_up
from services.tickets.handlers.common import (
    change_ticket,
    load_ticket,
    past_job,
    record_events,
    visible_to,
)
from services.tickets.ports import TicketFilter, TicketsDeps, TicketsUnitOfWork
from shared.contracts.base import EventData
from shared.platform.http.auth import Caller
from shared.policy.asking import decide_or_refuse

# A complaint or an issue from the field goes to the Issues queue unless the opener says where.
ISSUES: Queue = "issues"


async def open_ticket(deps: TicketsDeps, caller: Caller, command: OpenTicket) -> Ticket:
    ticket_id = str(uuid.uuid4())
    now = deps.clock()
    queue = command.queue or (ISSUES if command.issue else None)
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await past_job(uow, command.job_id)
        if command.issue is not None and command.issue.kind == "field_issue":
            await check_on_job(uow, caller, job)
        # Every decision before anything is written: a refusal commits the decision log alone.
        await decide_or_refuse(
            deps.policy,
            uow,
            "accounting.create_record",
            facts.create_record(command.line_items),
            subject=ticket_id,
        )
        follow_up = (
            await decide_follow_up(deps, uow, ticket_id, facts.entering_queue(command.type, queue))
            if queue is not None
            else None
        )
        ticket, events = Ticket.open(
            tenant_id=caller.tenant_id,
            ticket_id=ticket_id,
            ticket_number=await uow.repos.tickets.next_number(now.year),
            type=command.type,
            customer=command.customer,
            job=job,
            line_items=command.line_items,
            opened_by=caller.user_id,
            at=now,
            issue=command.issue.kind if command.issue else None,
            note=command.issue.note if command.issue else command.note,
        )
        admin_id = await _routed_admin(uow, ticket)
        if command.technician_ids or command.crew_id or admin_id:
            events += ticket.assign(
                technician_ids=command.technician_ids,
                crew_id=command.crew_id,
                admin_id=admin_id,
                by=caller.user_id,
            )
        if queue is not None and follow_up is not None:
            due, _ = await schedule_follow_up(deps, uow, ticket_id, follow_up)
            events += ticket.place_in_queue(queue, follow_up_due=due, by=caller.user_id)
        await uow.repos.tickets.add(ticket)
        record_events(uow, ticket, events)
        await uow.commit()
    return ticket


async def check_on_job(uow: TicketsUnitOfWork, caller: Caller, job: PastJob | None) -> None:
    """A technician or installer reports an issue from the field only on a job they work on:
    their crew installed it, or a ticket of it is theirs. Any other job is as unknown to them as
    another tenant's (its customer stays unseen)."""
    own = await visible_to(uow, caller)
    if job is None or own is None:
        return
    user_id, crews = own
    if job.crew_id is not None and job.crew_id in crews:
        return
    theirs = TicketFilter(job_id=job.job_id, visible_to=(user_id, crews))
    if not await uow.repos.tickets.find(theirs, limit=1, offset=0):
        raise JobNotKnown(f"job {job.job_id} is not known to tickets (no event of it yet)")


async def _routed_admin(uow: TicketsUnitOfWork, ticket: Ticket) -> str | None:
    """The product admin the tenant's routing table names for the ticket's first routed trade,
    else the one it has."""
    table = await uow.repos.routing.table()
    routed = [table[trade] for trade in ticket.trades if trade in table]
    return routed[0] if routed else ticket.assignment.admin_id


async def schedule(deps: TicketsDeps, caller: Caller, command: ScheduleTicket) -> Ticket:
    return await change_ticket(
        deps,
        caller,
        command.ticket_id,
        lambda _, ticket: ticket.schedule(
            command.start_date, command.end_date, by=caller.user_id, at=deps.clock()
        ),
    )


async def start(deps: TicketsDeps, caller: Caller, command: ChangeStatus) -> Ticket:
    """Start the work: the ticket's own flow first (a conflict), then policy ``service_start``
    (every waiver back; a new service's estimate accepted), naming what is missing."""

    async def apply(uow: TicketsUnitOfWork, ticket: Ticket) -> Sequence[EventData]:
        ticket.check_move("in_progress")
        await decide_or_refuse(
            deps.policy,
            uow,
            "tickets.start_work",
            facts.start_work(ticket),
            subject=ticket.ticket_id,
        )
        return ticket.start(by=caller.user_id, at=deps.clock())

    return await change_ticket(deps, caller, command.ticket_id, apply)


async def record_estimate(deps: TicketsDeps, caller: Caller, command: RecordEstimate) -> Ticket:
    return await change_ticket(
        deps,
        caller,
        command.ticket_id,
        lambda _, ticket: ticket.record_estimate(
            command.status, amount=command.amount, by=caller.user_id, at=deps.clock()
        ),
    )


async def put_payment_on_file(
    deps: TicketsDeps, caller: Caller, command: PutPaymentOnFile
) -> Ticket:
    return await change_ticket(
        deps,
        caller,
        command.ticket_id,
        lambda _, ticket: ticket.put_payment_on_file(command.payment, by=caller.user_id),
    )


async def record_waiver(deps: TicketsDeps, caller: Caller, command: RecordWaiver) -> Ticket:
    def apply(_: TicketsUnitOfWork, ticket: Ticket) -> Sequence[EventData]:
        by, at = caller.user_id, deps.clock()
        if command.returned:
            return ticket.return_waiver(command.waiver, by=by, at=at)
        return ticket.send_waiver(command.waiver, by=by, at=at)

    return await change_ticket(deps, caller, command.ticket_id, apply)


async def complete(deps: TicketsDeps, caller: Caller, command: ChangeStatus) -> Ticket:
    return await _closing(
        deps, caller, command, "complete", lambda ticket, by, at: ticket.complete(by=by, at=at)
    )


async def decline(deps: TicketsDeps, caller: Caller, command: ChangeStatus) -> Ticket:
    return await _closing(
        deps,
        caller,
        command,
        "decline",
        lambda ticket, by, at: ticket.decline(by=by, at=at, reason=command.reason),
    )


async def cancel(deps: TicketsDeps, caller: Caller, command: ChangeStatus) -> Ticket:
    return await _closing(
        deps,
        caller,
        command,
        "cancel",
        lambda ticket, by, at: ticket.cancel(by=by, at=at, reason=command.reason),
    )


Close = Callable[[Ticket, str, datetime], Sequence[EventData]]


async def _closing(
    deps: TicketsDeps, caller: Caller, command: ChangeStatus, action: str, close: Close
) -> Ticket:
    """Complete, decline or cancel: the ticket leaves its queue, so its pending follow-up call
    will not fire, and its visits from tomorrow on free the technicians' days."""

    async def apply(uow: TicketsUnitOfWork, ticket: Ticket) -> Sequence[EventData]:
        ticket.check_not_planned(action)
        now = deps.clock()
        events = close(ticket, caller.user_id, now)
        await end_pending_call(deps, uow, ticket.ticket_id)
        await uow.repos.technicians.release(ticket.ticket_id, now.date() + timedelta(days=1))
        return events

    return await change_ticket(deps, caller, command.ticket_id, apply)


async def assign(deps: TicketsDeps, caller: Caller, command: AssignTicket) -> Ticket:
    async def apply(uow: TicketsUnitOfWork, ticket: Ticket) -> Sequence[EventData]:
        return ticket.assign(
            technician_ids=command.technician_ids,
            crew_id=command.crew_id,
            admin_id=command.admin_id or await _routed_admin(uow, ticket),
            by=caller.user_id,
        )

    return await change_ticket(deps, caller, command.ticket_id, apply)


async def add_line_item(deps: TicketsDeps, caller: Caller, command: AddLineItem) -> Ticket:
    return await change_ticket(
        deps, caller, command.ticket_id, lambda _, ticket: ticket.add_line_item(command.line_item)
    )


async def get_ticket(deps: TicketsDeps, caller: Caller, ticket_id: str) -> Ticket:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await load_ticket(uow, caller, ticket_id, for_update=False)


async def find_tickets(
    deps: TicketsDeps, caller: Caller, where: TicketFilter, *, limit: int, offset: int
) -> list[Ticket]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        own = await visible_to(uow, caller)
        if own is not None:
            where = TicketFilter(**{**where.__dict__, "visible_to": own})
        return await uow.repos.tickets.find(where, limit=limit, offset=offset)
