"""What every tickets command handler shares: loading a ticket the caller may see, and the
common shape of a command (lock, change, store with its events, commit).

Technicians and installers see only the tickets assigned to them (a technician by name, an
installer through their crew); anyone else's is "not found", like another tenant's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from services.tickets.domain import JobNotKnown, PastJob, Ticket, TicketNotFound
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.contracts.base import EventData
from shared.platform.http.auth import Caller, sees_only_own_work
from shared.platform.storage.uow import record_versioned


async def visible_to(uow: TicketsUnitOfWork, caller: Caller) -> tuple[str, tuple[str, ...]] | None:
    """None for the office (sees every ticket); a field user's id and crews otherwise."""
    if not sees_only_own_work(caller):
        return None
    return caller.user_id, await uow.repos.jobs.crews_of(caller.user_id)


async def load_ticket(
    uow: TicketsUnitOfWork, caller: Caller, ticket_id: str, *, for_update: bool
) -> Ticket:
    ticket = await uow.repos.tickets.get(ticket_id, for_update=for_update)
    if ticket is None:
        raise TicketNotFound(f"ticket {ticket_id} not found")
    own = await visible_to(uow, caller)
    if own is not None and not ticket.assignment.includes(*own):
        raise TicketNotFound(f"ticket {ticket_id} not found")  # not theirs: as if absent
    return ticket


# What a command does to the loaded ticket: the events it recorded. It may ask the policy layer
# through the unit of work, and so may be async.
Apply = Callable[[TicketsUnitOfWork, Ticket], Sequence[EventData] | Awaitable[Sequence[EventData]]]


async def change_ticket(deps: TicketsDeps, caller: Caller, ticket_id: str, apply: Apply) -> Ticket:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        ticket = await load_ticket(uow, caller, ticket_id, for_update=True)
        applied = apply(uow, ticket)
        recorded = applied if isinstance(applied, Sequence) else await applied
        await store(deps, uow, ticket, recorded)
        await uow.commit()
    return ticket


async def store(
    deps: TicketsDeps, uow: TicketsUnitOfWork, ticket: Ticket, events: Sequence[EventData]
) -> None:
    """Save the changed ticket and record its events."""
    await uow.repos.tickets.save(ticket, at=deps.clock())
    record_events(uow, ticket, events)


def record_events(uow: TicketsUnitOfWork, ticket: Ticket, events: Sequence[EventData]) -> None:
    """Record a change's events, keyed by the ticket (``sequence`` = the ticket's versions)."""
    record_versioned(uow, events, subject=ticket.ticket_id, version=ticket.version)


async def past_job(uow: TicketsUnitOfWork, job_id: str | None) -> PastJob | None:
    if job_id is None:
        return None
    job = await uow.repos.jobs.get(job_id)
    if job is None:
        raise JobNotKnown(f"job {job_id} is not known to tickets (no event of it yet)")
    return job
