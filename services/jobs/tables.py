"""The jobs schema and its repositories.

A job is stored as one JSON document (the aggregate as the domain models it) next to the columns
the boards and searches filter on; it is loaded ``FOR UPDATE`` by the command that changes it, so
its events reach the outbox in the order its changes commit. Crews and their bookings (one row per
crew, day and job) back the schedule calendar and the capacity check; ``job_audit`` keeps who
changed what, when and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.jobs.domain import Crew, Job
from services.jobs.ports import JobsRepositories
from shared.platform.storage.db import PlatformTables
from shared.platform.storage.queries import contains_text, counter_table, next_number
from shared.platform.storage.uow import TenantScopedRepository
from shared.policy.store import PolicyTables

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)
policy_tables = PolicyTables(metadata)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("job_number", sa.Text),
    sa.Column("milestone", sa.Text, nullable=False),
    sa.Column("production_status", sa.Text),
    sa.Column("assigned", sa.Boolean, nullable=False),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("property_address", sa.Text, nullable=False),
    sa.Column("crew_id", sa.Text),
    sa.Column("contract_price", sa.Numeric(12, 2)),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

acknowledgements = sa.Table(
    "job_acknowledgements",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("service", sa.Text, primary_key=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=False),
)

job_numbers = counter_table("job_numbers", metadata)

job_audit = sa.Table(
    "job_audit",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("tenant_id", sa.Text, nullable=False),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("detail", pg.JSONB, nullable=False),
    sa.Index("ix_job_audit_job", "tenant_id", "job_id", "id"),
)

crews = sa.Table(
    "crews",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("crew_id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("data", pg.JSONB, nullable=False),
)

crew_bookings = sa.Table(
    "crew_bookings",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("crew_id", sa.Text, primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
)


def _columns(job: Job) -> dict[str, Any]:
    return {
        "version": job.version,
        "job_number": job.job_number,
        "milestone": job.milestone.value,
        "production_status": job.production_status.value if job.production_status else None,
        "assigned": job.assigned,
        "customer_name": job.customer.name,
        "property_address": job.address.one_line,
        "crew_id": job.team.crew_id,
        "contract_price": job.contract_price,
        "data": job.model_dump(mode="json"),
    }


class JobRepository(TenantScopedRepository):
    async def add(self, job: Job) -> None:
        await self.connection.execute(
            sa.insert(jobs).values(
                tenant_id=self.tenant_id,
                job_id=job.job_id,
                created_at=job.created_at,
                **_columns(job),
            )
        )

    async def get(self, job_id: str, *, for_update: bool = False) -> Job | None:
        query = self.scoped(jobs, jobs.c.data).where(jobs.c.job_id == job_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return Job.model_validate(data) if data is not None else None

    async def save(self, job: Job, *, at: datetime) -> None:
        await self.connection.execute(
            sa.update(jobs)
            .where(jobs.c.tenant_id == self.tenant_id, jobs.c.job_id == job.job_id)
            .values(updated_at=at, **_columns(job))
        )

    async def next_job_number(self, year: int) -> str:
        """The tenant's next job number, e.g. 2026-0042 (numbers never repeat, across years)."""
        number = await next_number(self.connection, job_numbers, self.tenant_id)
        return f"{year}-{number:04d}"

    async def audit(
        self,
        job_id: str,
        *,
        actor: str,
        action: str,
        at: datetime,
        detail: dict[str, Any],
        reason: str | None = None,
    ) -> None:
        await self.connection.execute(
            sa.insert(job_audit).values(
                tenant_id=self.tenant_id,
                job_id=job_id,
                at=at,
                actor=actor,
                action=action,
                reason=reason,
                detail=detail,
            )
        )

    async def audit_trail(self, job_id: str) -> list[dict[str, Any]]:
        rows = await self.connection.execute(
            self.scoped(job_audit).where(job_audit.c.job_id == job_id).order_by(job_audit.c.id)
        )
        return [dict(row._mapping) for row in rows]

    async def acknowledgements(self, job_id: str) -> dict[str, datetime]:
        rows = await self.connection.execute(
            self.scoped(acknowledgements).where(acknowledgements.c.job_id == job_id)
        )
        return {row.service: row.acknowledged_at for row in rows}

    async def acknowledge(
        self, job_id: str, service: str, event_type: str, event_id: str, at: datetime
    ) -> None:
        await self.connection.execute(
            pg_insert(acknowledgements)
            .values(
                tenant_id=self.tenant_id,
                job_id=job_id,
                service=service,
                event_type=event_type,
                event_id=event_id,
                acknowledged_at=at,
            )
            .on_conflict_do_nothing()
        )

    # -- queries ----------------------------------------------------------------------------------

    async def find(
        self,
        *,
        text: str | None = None,
        crew_ids: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        """Jobs by customer, address or job number (case-insensitive substring), newest first;
        only those of ``crew_ids`` when given (an installer's view)."""
        query = self.scoped(jobs, jobs.c.data)
        if text:
            query = query.where(
                contains_text(
                    text, jobs.c.customer_name, jobs.c.property_address, jobs.c.job_number
                )
            )
        if crew_ids is not None:
            query = query.where(jobs.c.crew_id.in_(list(crew_ids)))
        query = query.order_by(jobs.c.created_at.desc(), jobs.c.job_id).limit(limit).offset(offset)
        return [
            Job.model_validate(data) for data in (await self.connection.execute(query)).scalars()
        ]

    async def board(self, column: str) -> list[tuple[str | None, bool, int, Decimal]]:
        """(status, assigned, count, contract total) per value of ``column`` (milestone or
        production_status; canceled jobs are not on the production board)."""
        status = jobs.c[column]
        query = sa.select(
            status,
            jobs.c.assigned,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(jobs.c.contract_price), 0),
        ).where(jobs.c.tenant_id == self.tenant_id)
        if column == "production_status":
            query = query.where(jobs.c.milestone != "canceled")
        rows = await self.connection.execute(query.group_by(status, jobs.c.assigned))
        return [(row[0], row[1], row[2], Decimal(row[3])) for row in rows]

    async def deadlines(self, until: datetime) -> list[dict[str, Any]]:
        """Unmet deadlines due by ``until`` (passed ones included), soonest first, with the job's
        number and customer."""
        deadline = policy_tables.deadlines
        rows = await self.connection.execute(
            sa.select(
                deadline.c.subject.label("job_id"),
                deadline.c.task,
                deadline.c.due_at,
                deadline.c.status,
                deadline.c.escalate_to,
                jobs.c.job_number,
                jobs.c.customer_name,
            )
            .select_from(
                deadline.outerjoin(
                    jobs,
                    sa.and_(
                        jobs.c.tenant_id == deadline.c.tenant_id,
                        jobs.c.job_id == deadline.c.subject,
                    ),
                )
            )
            .where(
                deadline.c.tenant_id == self.tenant_id,
                deadline.c.status.in_(("open", "passed")),
                deadline.c.due_at <= until,
            )
            .order_by(deadline.c.due_at)
        )
        return [dict(row._mapping) for row in rows]


async def count_all_tenants(connection: Any, column: str) -> list[tuple[str | None, int]]:
    """Jobs per value of ``column`` across tenants (for the service's gauges)."""
    rows = await connection.execute(
        sa.select(jobs.c[column], sa.func.count()).group_by(jobs.c[column])
    )
    return [(row[0], row[1]) for row in rows]


class CrewRepository(TenantScopedRepository):
    async def add(self, crew: Crew) -> None:
        await self.connection.execute(
            sa.insert(crews).values(
                tenant_id=self.tenant_id,
                crew_id=crew.crew_id,
                name=crew.name,
                data=crew.model_dump(mode="json"),
            )
        )

    async def get(self, crew_id: str) -> Crew | None:
        data = (
            await self.connection.execute(
                self.scoped(crews, crews.c.data).where(crews.c.crew_id == crew_id)
            )
        ).scalar_one_or_none()
        return Crew.model_validate(data) if data is not None else None

    async def all(self) -> list[Crew]:
        rows = await self.connection.execute(
            self.scoped(crews, crews.c.data).order_by(crews.c.name)
        )
        return [Crew.model_validate(data) for data in rows.scalars()]

    async def of_member(self, user_id: str) -> list[str]:
        """The crews an installer belongs to."""
        rows = await self.connection.execute(
            self.scoped(crews, crews.c.crew_id).where(
                crews.c.data["member_ids"].contains([user_id])
            )
        )
        return list(rows.scalars())

    async def busiest_day(self, crew_id: str, days: Sequence[date], *, other_than: str) -> int:
        """The most jobs (other than ``other_than``) the crew has on any one of ``days``.
        Locks the crew's row first, so two assignments to one crew queue and cannot both take
        the last slot of a day."""
        await self.connection.execute(
            self.scoped(crews, crews.c.crew_id).where(crews.c.crew_id == crew_id).with_for_update()
        )
        if not days:
            return 0
        per_day = (
            sa.select(sa.func.count().label("jobs"))
            .where(
                crew_bookings.c.tenant_id == self.tenant_id,
                crew_bookings.c.crew_id == crew_id,
                crew_bookings.c.day.in_(list(days)),
                crew_bookings.c.job_id != other_than,
            )
            .group_by(crew_bookings.c.day)
            .subquery()
        )
        busiest = await self.connection.execute(
            sa.select(sa.func.coalesce(sa.func.max(per_day.c.jobs), 0))
        )
        return int(busiest.scalar_one())

    async def book(self, crew_id: str, job_id: str, days: Sequence[date]) -> None:
        """The job's days on the crew's calendar (replacing any earlier booking of the job)."""
        await self.connection.execute(
            sa.delete(crew_bookings).where(
                crew_bookings.c.tenant_id == self.tenant_id, crew_bookings.c.job_id == job_id
            )
        )
        if days:
            await self.connection.execute(
                sa.insert(crew_bookings),
                [
                    {"tenant_id": self.tenant_id, "crew_id": crew_id, "day": day, "job_id": job_id}
                    for day in days
                ],
            )

    async def calendar(self, start: date, end: date) -> list[tuple[date, str, str]]:
        """(day, crew id, job id) for every booking in [start, end]."""
        rows = await self.connection.execute(
            sa.select(crew_bookings.c.day, crew_bookings.c.crew_id, crew_bookings.c.job_id)
            .where(
                crew_bookings.c.tenant_id == self.tenant_id,
                crew_bookings.c.day.between(start, end),
            )
            .order_by(crew_bookings.c.day, crew_bookings.c.crew_id, crew_bookings.c.job_id)
        )
        return [(row.day, row.crew_id, row.job_id) for row in rows]


def repositories(connection: AsyncConnection, tenant_id: str) -> JobsRepositories:
    """The jobs unit of work's repositories (``TenantUnitOfWorkFactory(..., repositories)``)."""
    return JobsRepositories(
        jobs=JobRepository(connection, tenant_id), crews=CrewRepository(connection, tenant_id)
    )
