"""The service department's tracking queues (seed 003): place a ticket in one, log a follow-up
call's outcome."""

from __future__ import annotations

from collections.abc import Collection

from services.tickets.api import models
from services.tickets.api.common import SERVICE_OFFICE
from services.tickets.api.deps import AnyCaller, Deps
from services.tickets.api.models import TicketView
from services.tickets.domain import commands
from services.tickets.handlers import follow_ups
from shared.platform.http.access import GuardedRouter

ACCESS: dict[str, Collection[str]] = {"place_in_queue": SERVICE_OFFICE, "log_call": SERVICE_OFFICE}

router = GuardedRouter(ACCESS, tags=["queues"])


@router.post("/tickets/{ticket_id}/queue", response_model=TicketView)
async def place_in_queue(
    ticket_id: str, body: models.PlaceInQueue, deps: Deps, caller: AnyCaller
) -> TicketView:
    """Into Unapproved Maintenance, Issues or Repair Quotes, with its first follow-up call (when:
    policy ``follow_ups``)."""
    command = commands.PlaceInQueue(ticket_id=ticket_id, queue=body.queue)
    return TicketView.of(await follow_ups.place_in_queue(deps, caller, command))


@router.post("/tickets/{ticket_id}/calls", response_model=TicketView)
async def log_call(
    ticket_id: str, body: models.LogCall, deps: Deps, caller: AnyCaller
) -> TicketView:
    """A follow-up call's outcome: approved takes the ticket out of its queue, declined declines
    it, no answer or undecided sets the next call (and after enough, tells the service manager)."""
    command = commands.LogCall(ticket_id=ticket_id, **body.model_dump())
    return TicketView.of(await follow_ups.log_call(deps, caller, command))
