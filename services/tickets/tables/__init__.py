"""The tickets schema and its repositories, by area: ``schema`` (the tables), ``ticket_store``,
``jobs`` (what tickets keeps of jobs), ``schedule`` (routing, technicians, visits), ``plans``
(weekly plans, the end of day). ``repositories`` gives a unit of work all of them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.tickets.ports import TicketsRepositories
from services.tickets.tables.jobs import PastJobRepository
from services.tickets.tables.plans import (
    EndOfDayRepository,
    PlanRepository,
    end_of_day_configs,
    tenants_with_plans_to_fill,
)
from services.tickets.tables.schedule import RoutingRepository, TechnicianRepository
from services.tickets.tables.schema import metadata, tickets
from services.tickets.tables.ticket_store import (
    TicketRepository,
    open_ticket_counts,
    overdue_follow_ups,
    tenants_with_follow_ups_due,
)

__all__ = [
    "end_of_day_configs",
    "metadata",
    "open_ticket_counts",
    "overdue_follow_ups",
    "repositories",
    "tenants_with_follow_ups_due",
    "tenants_with_plans_to_fill",
    "tickets",
]


def repositories(connection: AsyncConnection, tenant_id: str) -> TicketsRepositories:
    return TicketsRepositories(
        tickets=TicketRepository(connection, tenant_id),
        jobs=PastJobRepository(connection, tenant_id),
        routing=RoutingRepository(connection, tenant_id),
        technicians=TechnicianRepository(connection, tenant_id),
        end_of_day=EndOfDayRepository(connection, tenant_id),
        plans=PlanRepository(connection, tenant_id),
    )
