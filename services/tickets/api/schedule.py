"""The technicians' schedule: daily capacity, a ticket's visits booked at once, the calendar."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import Query

from services.tickets.api import models
from services.tickets.api.common import ANYONE, OFFICE, SERVICE_OFFICE, PathId
from services.tickets.api.deps import AnyCaller, Deps
from services.tickets.api.models import CalendarEntry, TicketView
from services.tickets.domain import commands
from services.tickets.handlers import schedule
from shared.platform.http.access import GuardedRouter
from shared.platform.http.problems import InvalidInput
from shared.platform.text import Day, Identifier

ACCESS: dict[str, Collection[str]] = {
    "book_visits": SERVICE_OFFICE,
    "set_capacity": ("service_manager",),
    "capacities": OFFICE,
    "calendar": ANYONE,
}
# The longest calendar one request returns.
CALENDAR_MAX_DAYS = 92

router = GuardedRouter(ACCESS, tags=["schedule"])


@router.post("/tickets/{ticket_id}/visits", response_model=TicketView)
async def book_visits(
    ticket_id: str, body: models.BookVisits, deps: Deps, caller: AnyCaller
) -> TicketView:
    """Every trip the ticket needs, at once: refused whole, naming the day and the technician,
    if one would be booked past their visits a day (policy ``technician_capacity``)."""
    command = commands.BookVisits(ticket_id=ticket_id, visits=body.visits)
    return TicketView.of(await schedule.book_visits(deps, caller, command))


@router.put("/technicians/{technician_id}")
async def set_capacity(
    technician_id: PathId, body: models.SetCapacity, deps: Deps, caller: AnyCaller
) -> dict[str, int]:
    """A technician's visits a day; answers every technician's."""
    command = commands.SetCapacity(technician_id=technician_id, daily_visits=body.daily_visits)
    return await schedule.set_capacity(deps, caller.tenant_id, command)


@router.get("/technicians")
async def capacities(deps: Deps, caller: AnyCaller) -> dict[str, int]:
    return await schedule.capacities(deps, caller.tenant_id)


@router.get("/calendar", response_model=list[CalendarEntry])
async def calendar(
    start: Annotated[Day, Query(description="First day (YYYY-MM-DD).")],
    end: Annotated[Day, Query(description="Last day, included.")],
    deps: Deps,
    caller: AnyCaller,
    technician: Identifier | None = None,
) -> list[CalendarEntry]:
    """Per day and technician: visits booked against capacity, and the gaps."""
    if not 0 <= (end - start).days < CALENDAR_MAX_DAYS:
        detail = f"end must be on or after start, and at most {CALENDAR_MAX_DAYS} days after it"
        raise InvalidInput(detail, errors=[{"field": "end", "message": detail}])
    days = await schedule.calendar(deps, caller, start, end, technician)
    return [
        CalendarEntry(
            day=d.day,
            technician_id=d.technician_id,
            daily_visits=d.daily_visits,
            booked=len(d.ticket_ids),
            free=d.free,
            ticket_ids=d.ticket_ids,
        )
        for d in days
    ]
