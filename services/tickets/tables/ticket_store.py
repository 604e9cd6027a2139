"""Tickets: stored as one JSON document (the aggregate as the domain models it) next to the
columns the lists filter on, loaded ``FOR UPDATE`` by the command that changes it; and the counts
across tenants the service clock reads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tickets.domain import Ticket
from services.tickets.domain.values import CLOSED_STATUSES
from services.tickets.ports import TicketFilter
from services.tickets.tables.schema import ticket_numbers, tickets
from shared.platform.storage.queries import contains_text, next_number
from shared.platform.storage.uow import TenantScopedRepository


def _columns(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_number": ticket.ticket_number,
        "type": ticket.type,
        "status": ticket.status,
        "queue": ticket.queue,
        "follow_up_due": ticket.follow_up.next_due,
        "customer_name": ticket.customer.name,
        "property_address": ticket.customer.property_address,
        "job_id": ticket.job_id,
        "technician_ids": list(ticket.assignment.technician_ids),
        "crew_id": ticket.assignment.crew_id,
        "start_date": ticket.start_date,
        "data": ticket.model_dump(mode="json"),
    }


def _holds(array: sa.Column[Any], value: str) -> sa.ColumnElement[bool]:
    """``value = ANY(array)``."""
    return sa.literal(value) == sa.any_(array)


class TicketRepository(TenantScopedRepository):
    async def add(self, ticket: Ticket) -> None:
        await self.connection.execute(
            sa.insert(tickets).values(
                tenant_id=self.tenant_id,
                ticket_id=ticket.ticket_id,
                opened_at=ticket.opened_at,
                **_columns(ticket),
            )
        )

    async def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
        query = self.scoped(tickets, tickets.c.data).where(tickets.c.ticket_id == ticket_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return Ticket.model_validate(data) if data is not None else None

    async def save(self, ticket: Ticket, *, at: datetime) -> None:
        await self.connection.execute(
            sa.update(tickets)
            .where(tickets.c.tenant_id == self.tenant_id, tickets.c.ticket_id == ticket.ticket_id)
            .values(updated_at=at, **_columns(ticket))
        )

    async def next_number(self, year: int) -> str:
        """The tenant's next ticket number, e.g. T-2026-0007 (never repeated, across years)."""
        return f"T-{year}-{await next_number(self.connection, ticket_numbers, self.tenant_id):04d}"

    async def find(self, where: TicketFilter, *, limit: int, offset: int) -> list[Ticket]:
        """Tickets matching ``where``, the most recently opened first."""
        query = self.scoped(tickets, tickets.c.data)
        for column, value in (
            (tickets.c.queue, where.queue),
            (tickets.c.type, where.type),
            (tickets.c.status, where.status),
            (tickets.c.job_id, where.job_id),
        ):
            if value is not None:
                query = query.where(column == value)
        if where.technician_id is not None:
            query = query.where(_holds(tickets.c.technician_ids, where.technician_id))
        if where.customer:
            query = query.where(
                contains_text(where.customer, tickets.c.customer_name, tickets.c.property_address)
            )
        if where.scheduled_from is not None:
            query = query.where(tickets.c.start_date >= where.scheduled_from)
        if where.scheduled_to is not None:
            query = query.where(tickets.c.start_date <= where.scheduled_to)
        if where.visible_to is not None:
            user_id, crew_ids = where.visible_to
            query = query.where(
                sa.or_(_holds(tickets.c.technician_ids, user_id), tickets.c.crew_id.in_(crew_ids))
            )
        query = query.order_by(tickets.c.opened_at.desc(), tickets.c.ticket_id)
        rows = await self.connection.execute(query.limit(limit).offset(offset))
        return [Ticket.model_validate(data) for data in rows.scalars()]

    async def follow_ups_due(
        self, before: date, *, limit: int, skip_locked: bool = True
    ) -> list[str]:
        query = (
            self.scoped(tickets, tickets.c.ticket_id)
            .where(tickets.c.follow_up_due < before)
            .order_by(tickets.c.follow_up_due)
            .limit(limit)
            .with_for_update(skip_locked=skip_locked)
        )
        return list((await self.connection.execute(query)).scalars())


async def open_ticket_counts(connection: AsyncConnection) -> list[tuple[str | None, str, str, int]]:
    """(queue, type, status, count) of the tickets not yet closed, across tenants."""
    query = (
        sa.select(tickets.c.queue, tickets.c.type, tickets.c.status, sa.func.count())
        .where(tickets.c.status.not_in(CLOSED_STATUSES))
        .group_by(tickets.c.queue, tickets.c.type, tickets.c.status)
    )
    return [(q, t, s, int(n)) for q, t, s, n in (await connection.execute(query)).all()]


async def overdue_follow_ups(connection: AsyncConnection, before: date) -> int:
    query = sa.select(sa.func.count()).where(tickets.c.follow_up_due < before)
    return int((await connection.execute(query)).scalar_one())


async def tenants_with_follow_ups_due(connection: AsyncConnection, before: date) -> list[str]:
    """The tenants that have a follow-up overdue (the sweeper then works tenant by tenant)."""
    query = sa.select(tickets.c.tenant_id).where(tickets.c.follow_up_due < before).distinct()
    return list((await connection.execute(query)).scalars())
