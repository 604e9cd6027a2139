"""The tickets schema and its repositories.

A ticket is stored as one JSON document (the aggregate as the domain models it) next to the
columns the lists filter on; it is loaded ``FOR UPDATE`` by the command that changes it, so its
events reach the outbox in the order its changes commit. ``past_jobs`` and ``crew_members`` are
what tickets keeps of jobs' events; ``admin_routing`` is each tenant's routing table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tickets.domain import JobCustomerRecord, PastJob, Ticket, Visit
from services.tickets.domain.end_of_day import EndOfDay, EndOfDayRun
from services.tickets.domain.plans import MaintenancePlan
from services.tickets.domain.values import CLOSED_STATUSES, Customer
from services.tickets.ports import TicketFilter, TicketsRepositories
from shared.platform.storage.db import PlatformTables
from shared.platform.storage.queries import contains_text, counter_table, next_number
from shared.platform.storage.uow import InsertOnceRepository, TenantScopedRepository
from shared.policy.store import PolicyTables

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)
policy_tables = PolicyTables(metadata)

past_jobs = sa.Table(
    "past_jobs",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("property_address", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("job_number", sa.Text),
    sa.Column("trades", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("crew_id", sa.Text),
    sa.Column("crew_name", sa.Text),
    sa.Column("crew_member_ids", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)

crew_members = sa.Table(
    "crew_members",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("crew_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, primary_key=True),
)

tickets = sa.Table(
    "tickets",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("ticket_id", sa.Text, primary_key=True),
    sa.Column("ticket_number", sa.Text, nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("queue", sa.Text),
    sa.Column("follow_up_due", sa.Date),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("property_address", sa.Text, nullable=False),
    sa.Column("job_id", sa.Text),
    sa.Column("technician_ids", pg.ARRAY(sa.Text), nullable=False, server_default="{}"),
    sa.Column("crew_id", sa.Text),
    sa.Column("start_date", sa.Date),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Index("ix_tickets_status", "tenant_id", "status"),
    sa.Index("ix_tickets_queue", "tenant_id", "queue"),
    sa.Index("ix_tickets_follow_up_due", "follow_up_due"),
)

ticket_numbers = counter_table("ticket_numbers", metadata)

admin_routing = sa.Table(
    "admin_routing",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),  # a trade or a product
    sa.Column("admin_id", sa.Text, nullable=False),
)


technicians = sa.Table(
    "technicians",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, primary_key=True),
    sa.Column("daily_visits", sa.Integer),
)

ticket_visits = sa.Table(
    "ticket_visits",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("ticket_id", sa.Text, primary_key=True),
    sa.Column("technician_id", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Index("ix_ticket_visits_day", "tenant_id", "technician_id", "day"),
)


end_of_day_settings = sa.Table(
    "end_of_day_settings",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("timezone", sa.Text, nullable=False),
    sa.Column("at", sa.Time, nullable=False),
)

end_of_day_runs = sa.Table(
    "end_of_day_runs",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("moved", sa.Integer, nullable=False, server_default="0"),
)


plans = sa.Table(
    "plans",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("plan_id", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("generated_through", sa.Date),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Index("ix_plans_to_fill", "status", "generated_through"),
)


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

    async def follow_ups_due(self, before: date, *, limit: int) -> list[str]:
        query = (
            self.scoped(tickets, tickets.c.ticket_id)
            .where(tickets.c.follow_up_due < before)
            .order_by(tickets.c.follow_up_due)
            .limit(limit)
            .with_for_update(skip_locked=True)
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


def _past_job_columns(job: PastJob) -> dict[str, Any]:
    return {
        "customer_name": job.customer.name,
        "property_address": job.customer.property_address,
        "phone": job.customer.phone,
        "email": job.customer.email,
        "job_number": job.job_number,
        "trades": list(job.trades),
        "crew_id": job.crew_id,
        "crew_name": job.crew_name,
        "crew_member_ids": list(job.crew_member_ids),
    }


def _past_job(row: Any) -> PastJob:
    return PastJob(
        job_id=row.job_id,
        job_number=row.job_number,
        customer=Customer(
            name=row.customer_name,
            property_address=row.property_address,
            phone=row.phone,
            email=row.email,
        ),
        trades=tuple(row.trades),
        crew_id=row.crew_id,
        crew_name=row.crew_name,
        crew_member_ids=tuple(row.crew_member_ids),
    )


# Upserted many rows at a time (the consumer's runs): one statement, executed for each row.
_PUT_PAST_JOB = pg_insert(past_jobs)
_PUT_PAST_JOB = _PUT_PAST_JOB.on_conflict_do_update(
    index_elements=[past_jobs.c.tenant_id, past_jobs.c.job_id],
    set_={
        name: _PUT_PAST_JOB.excluded[name]
        for name in (
            "customer_name",
            "property_address",
            "phone",
            "email",
            "job_number",
            "trades",
            "crew_id",
            "crew_name",
            "crew_member_ids",
        )
    },
)


class PastJobRepository(InsertOnceRepository):
    table = past_jobs

    async def customer(self, job_id: str) -> JobCustomerRecord | None:
        row = await self.row(job_id)
        if row is None:
            return None
        return JobCustomerRecord.model_validate(
            {key: row[key] for key in JobCustomerRecord.model_fields}
        )

    async def get(self, job_id: str) -> PastJob | None:
        return (await self.get_many([job_id])).get(job_id)

    async def get_many(self, job_ids: Sequence[str]) -> dict[str, PastJob]:
        query = self.scoped(past_jobs).where(past_jobs.c.job_id.in_(list(job_ids)))
        return {row.job_id: _past_job(row) for row in await self.connection.execute(query)}

    async def put_many(self, jobs: Sequence[PastJob]) -> None:
        if not jobs:
            return
        await self.connection.execute(
            _PUT_PAST_JOB,
            [
                {"tenant_id": self.tenant_id, "job_id": j.job_id, **_past_job_columns(j)}
                for j in jobs
            ],
        )
        members = {
            (job.crew_id, user) for job in jobs if job.crew_id for user in job.crew_member_ids
        }
        if members:
            await self.connection.execute(
                pg_insert(crew_members).on_conflict_do_nothing(),
                [
                    {"tenant_id": self.tenant_id, "crew_id": crew, "user_id": user}
                    for crew, user in sorted(members)
                ],
            )

    async def crews_of(self, user_id: str) -> tuple[str, ...]:
        query = self.scoped(crew_members, crew_members.c.crew_id).where(
            crew_members.c.user_id == user_id
        )
        return tuple((await self.connection.execute(query)).scalars())


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
        await self.connection.execute(
            sa.insert(ticket_visits),
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


class PlanRepository(TenantScopedRepository):
    async def add(self, plan: MaintenancePlan) -> None:
        await self.connection.execute(
            sa.insert(plans).values(
                tenant_id=self.tenant_id, plan_id=plan.plan_id, **_plan_columns(plan)
            )
        )

    async def get(self, plan_id: str, *, for_update: bool = False) -> MaintenancePlan | None:
        query = self.scoped(plans, plans.c.data).where(plans.c.plan_id == plan_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return MaintenancePlan.model_validate(data) if data is not None else None

    async def save(self, plan: MaintenancePlan) -> None:
        await self.connection.execute(
            sa.update(plans)
            .where(plans.c.tenant_id == self.tenant_id, plans.c.plan_id == plan.plan_id)
            .values(**_plan_columns(plan))
        )

    async def find(self, *, status: str | None, limit: int, offset: int) -> list[MaintenancePlan]:
        query = self.scoped(plans, plans.c.data)
        if status is not None:
            query = query.where(plans.c.status == status)
        query = (
            query.order_by(plans.c.created_at.desc(), plans.c.plan_id).limit(limit).offset(offset)
        )
        return [
            MaintenancePlan.model_validate(d)
            for d in (await self.connection.execute(query)).scalars()
        ]

    async def save_many(self, many: Sequence[MaintenancePlan]) -> None:
        if not many:
            return
        await self.connection.execute(
            sa.update(plans)
            .where(
                plans.c.tenant_id == sa.bindparam("b_tenant"),
                plans.c.plan_id == sa.bindparam("b_plan"),
            )
            .values(
                status=sa.bindparam("status"),
                generated_through=sa.bindparam("generated_through"),
                data=sa.bindparam("data"),
            ),
            [
                {"b_tenant": self.tenant_id, "b_plan": plan.plan_id, **_plan_columns(plan)}
                for plan in many
            ],
        )

    async def to_fill(self, through: date, *, limit: int) -> list[MaintenancePlan]:
        query = (
            self.scoped(plans, plans.c.data)
            .where(plans.c.status == "active", plans.c.generated_through < through)
            .order_by(plans.c.generated_through, plans.c.plan_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self.connection.execute(query)
        return [MaintenancePlan.model_validate(data) for data in rows.scalars()]


def _plan_columns(plan: MaintenancePlan) -> dict[str, Any]:
    return {
        "status": plan.status,
        "generated_through": plan.generated_through,
        "data": plan.model_dump(mode="json"),
    }


async def tenants_with_plans_to_fill(connection: AsyncConnection, through: date) -> list[str]:
    query = (
        sa.select(plans.c.tenant_id)
        .where(plans.c.status == "active", plans.c.generated_through < through)
        .distinct()
    )
    return list((await connection.execute(query)).scalars())


class EndOfDayRepository(TenantScopedRepository):
    async def config(self) -> EndOfDay | None:
        row = (
            await self.connection.execute(
                self.scoped(
                    end_of_day_settings, end_of_day_settings.c.timezone, end_of_day_settings.c.at
                )
            )
        ).one_or_none()
        return EndOfDay(timezone=row.timezone, at=row.at) if row else None

    async def configure(self, config: EndOfDay) -> None:
        values = {"timezone": config.timezone, "at": config.at}
        await self.connection.execute(
            pg_insert(end_of_day_settings)
            .values(tenant_id=self.tenant_id, **values)
            .on_conflict_do_update(index_elements=[end_of_day_settings.c.tenant_id], set_=values)
        )

    async def claim(self, day: date, *, by: str, at: datetime) -> bool:
        result = await self.connection.execute(
            pg_insert(end_of_day_runs)
            .values(tenant_id=self.tenant_id, day=day, by=by, ran_at=at)
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def finish(self, day: date, moved: int) -> None:
        await self.connection.execute(
            sa.update(end_of_day_runs)
            .where(end_of_day_runs.c.tenant_id == self.tenant_id, end_of_day_runs.c.day == day)
            .values(moved=moved)
        )

    async def run(self, day: date) -> EndOfDayRun | None:
        row = (
            await self.connection.execute(
                self.scoped(end_of_day_runs).where(end_of_day_runs.c.day == day)
            )
        ).one_or_none()
        return (
            EndOfDayRun(day=row.day, by=row.by, ran_at=row.ran_at, moved=row.moved) if row else None
        )


async def end_of_day_configs(connection: AsyncConnection) -> dict[str, EndOfDay]:
    """Every tenant's end of day (the clock that runs the move works across tenants)."""
    rows = await connection.execute(sa.select(end_of_day_settings))
    return {row.tenant_id: EndOfDay(timezone=row.timezone, at=row.at) for row in rows}


def repositories(connection: AsyncConnection, tenant_id: str) -> TicketsRepositories:
    return TicketsRepositories(
        tickets=TicketRepository(connection, tenant_id),
        jobs=PastJobRepository(connection, tenant_id),
        routing=RoutingRepository(connection, tenant_id),
        technicians=TechnicianRepository(connection, tenant_id),
        end_of_day=EndOfDayRepository(connection, tenant_id),
        plans=PlanRepository(connection, tenant_id),
    )
