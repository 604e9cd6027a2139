"""The technicians' schedule: their daily capacity, a ticket's visits booked all at once within
it (policy ``technician_capacity``, ``tickets.book_visits``), and the calendar of what is booked
against capacity per day and technician, gaps included.

A booking locks each technician's row (in a fixed order, so two bookings never wait on each
other) before it counts their days, as jobs does for crews: two bookings for one technician are
counted one after the other, and neither can overbook a day the other filled.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date

from services.tickets.domain import Ticket, facts
from services.tickets.domain.calendar import CalendarDay, calendar_days
from services.tickets.domain.commands import BookVisits, SetCapacity
from services.tickets.domain.values import TicketType
from services.tickets.handlers.common import change_ticket
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.contracts.base import EventData
from shared.platform.http.auth import Caller, sees_only_own_work
from shared.policy.asking import decide_or_refuse
from shared.policy.service import PolicyRefused


async def book_visits(deps: TicketsDeps, caller: Caller, command: BookVisits) -> Ticket:
    async def apply(uow: TicketsUnitOfWork, ticket: Ticket) -> Sequence[EventData]:
        ticket.check_open("book visits on")
        per_technician: dict[str, list[date]] = defaultdict(list)
        for visit in command.visits:
            per_technician[visit.technician_id].append(visit.day)
        for technician in sorted(per_technician):
            await check_capacity(
                deps, uow, ticket.type, ticket.ticket_id, technician, per_technician[technician]
            )
        booked = await uow.repos.technicians.booked_for(ticket.ticket_id)
        events = ticket.book_visits(command.visits, by=caller.user_id, booked=booked)
        await uow.repos.technicians.book(ticket.ticket_id, command.visits)
        return events

    return await change_ticket(deps, caller, command.ticket_id, apply)


async def check_capacity(
    deps: TicketsDeps,
    uow: TicketsUnitOfWork,
    ticket_type: TicketType,
    subject: str,
    technician: str,
    days: list[date],
) -> None:
    """Lock the technician's row, count their days with these visits, ask the policy (before
    anything of the booking is written: a refusal commits the unit of work as it stands)."""
    store = uow.repos.technicians
    capacity = await store.capacity(technician, for_update=True)
    load = Counter(await store.booked(technician, days))
    load.update(days)
    try:
        await decide_or_refuse(
            deps.policy,
            uow,
            "tickets.book_visits",
            facts.book_visits(ticket_type, technician, capacity, dict(load)),
            subject=subject,
        )
    except PolicyRefused:
        deps.metrics.bookings_refused.inc()
        raise


async def set_capacity(deps: TicketsDeps, tenant_id: str, command: SetCapacity) -> dict[str, int]:
    async with deps.unit_of_work(tenant_id) as uow:
        await uow.repos.technicians.set_capacity(command.technician_id, command.daily_visits)
        capacities = await uow.repos.technicians.capacities()
        await uow.commit()
    return capacities


async def capacities(deps: TicketsDeps, tenant_id: str) -> dict[str, int]:
    async with deps.unit_of_work(tenant_id) as uow:
        return await uow.repos.technicians.capacities()


async def calendar(
    deps: TicketsDeps, caller: Caller, start: date, end: date, technician: str | None = None
) -> list[CalendarDay]:
    """The technicians' calendar from ``start`` to ``end``; a technician sees only their own."""
    if sees_only_own_work(caller):
        technician = caller.user_id
    async with deps.unit_of_work(caller.tenant_id) as uow:
        capacity = await uow.repos.technicians.capacities()
        booked = await uow.repos.technicians.bookings(start, end, technician)
    return calendar_days(start, end, capacity, booked, technician)
