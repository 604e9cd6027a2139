"""The tenant's routing table, technicians' capacity and the visits booked on their days."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.tickets.domain import Visit
from services.tickets.tables.schema import admin_routing, technicians, ticket_visits
from shared.platform.storage.uow import TenantScopedRepository


class RoutingRepository(TenantScopedRepository):
    async def table(self) -> dict[str, str]:
        query = self.scoped(admin_routing, admin_routing.c.key, admin_routing.c.admin_id)
        return {key: admin for key, admin in (await self.connection.execute(query)).all()}

    async def route(self, key: str, admin_id: str | None) -> None:
        where = (admin_routing.c.tenant_id == self.tenant_id) & (admin_routing.c.key == key)
        if admin_id is None:
            await self.connection.execute(sa.delete(admin_routing).where(where))
            return
        await self.connection.execute(
            pg_insert(admin_routing)
            .values(tenant_id=self.tenant_id, key=key, admin_id=admin_id)
            .on_conflict_do_update(
                index_elements=[admin_routing.c.tenant_id, admin_routing.c.key],
                set_={"admin_id": admin_id},
            )
        )


class TechnicianRepository(TenantScopedRepository):
    async def capacity(self, user_id: str, *, for_update: bool = False) -> int | None:
        query = self.scoped(technicians, technicians.c.daily_visits).where(
            technicians.c.user_id == user_id
        )
        if for_update:
            query = query.with_for_update()
        return (await self.connection.execute(query)).scalar_one_or_none()

    async def set_capacity(self, user_id: str, visits_a_day: int | None) -> None:
        await self.connection.execute(
            pg_insert(technicians)
            .values(tenant_id=self.tenant_id, user_id=user_id, daily_visits=visits_a_day)
            .on_conflict_do_update(
                index_elements=[technicians.c.tenant_id, technicians.c.user_id],
                set_={"daily_visits": visits_a_day},
            )
        )

    async def capacities(self) -> dict[str, int]:
        query = self.scoped(technicians, technicians.c.user_id, technicians.c.daily_visits).where(
            technicians.c.daily_visits.is_not(None)
        )
        return {user: int(n) for user, n in (await self.connection.execute(query)).all()}

    async def booked(self, user_id: str, days: Sequence[date]) -> dict[date, int]:
        query = (
            self.scoped(ticket_visits, ticket_visits.c.day, sa.func.count())
            .where(ticket_visits.c.technician_id == user_id, ticket_visits.c.day.in_(list(days)))
            .group_by(ticket_visits.c.day)
        )
        return {day: int(n) for day, n in (await self.connection.execute(query)).all()}

    async def book(self, ticket_id: str, visits: Sequence[Visit]) -> None:
        await self.book_many([(ticket_id, visit) for visit in visits])

    async def book_many(self, bookings: Sequence[tuple[str, Visit]]) -> None:
        if not bookings:
            return
        # Idempotent: a visit already booked for the ticket stays as it is.
        await self.connection.execute(
            pg_insert(ticket_visits).on_conflict_do_nothing(),
            [
                {
                    "tenant_id": self.tenant_id,
                    "ticket_id": ticket_id,
                    "technician_id": visit.technician_id,
                    "day": visit.day,
                }
                for ticket_id, visit in bookings
            ],
        )

    async def release(self, ticket_id: str, from_day: date) -> None:
        await self.connection.execute(
            sa.delete(ticket_visits).where(
                ticket_visits.c.tenant_id == self.tenant_id,
                ticket_visits.c.ticket_id == ticket_id,
                ticket_visits.c.day >= from_day,
            )
        )

    async def booked_for(self, ticket_id: str) -> list[Visit]:
        query = self.scoped(
            ticket_visits, ticket_visits.c.technician_id, ticket_visits.c.day
        ).where(ticket_visits.c.ticket_id == ticket_id)
        rows = await self.connection.execute(query)
        return [Visit(day=day, technician_id=tech) for tech, day in rows.all()]

    async def unbook(self, ticket_id: str, technician_id: str, days: Sequence[date]) -> None:
        await self.connection.execute(
            sa.delete(ticket_visits).where(
                ticket_visits.c.tenant_id == self.tenant_id,
                ticket_visits.c.ticket_id == ticket_id,
                ticket_visits.c.technician_id == technician_id,
                ticket_visits.c.day.in_(list(days)),
            )
        )

    async def bookings(
        self, start: date, end: date, user_id: str | None = None
    ) -> list[tuple[date, str, str]]:
        query = self.scoped(
            ticket_visits,
            ticket_visits.c.day,
            ticket_visits.c.technician_id,
            ticket_visits.c.ticket_id,
        ).where(ticket_visits.c.day.between(start, end))
        if user_id is not None:
            query = query.where(ticket_visits.c.technician_id == user_id)
        query = query.order_by(
            ticket_visits.c.day, ticket_visits.c.technician_id, ticket_visits.c.ticket_id
        )
        return [
            (day, tech, ticket)
            for day, tech, ticket in (await self.connection.execute(query)).all()
        ]
