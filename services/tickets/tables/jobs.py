"""What tickets keeps of jobs, many rows at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.tickets.domain import JobCustomerRecord, PastJob
from services.tickets.domain.values import Customer
from services.tickets.tables.schema import crew_members, past_jobs
from shared.platform.storage.uow import InsertOnceRepository


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

    async def set_crews(self, members: Mapping[str, Sequence[str]]) -> None:
        if not members:
            return
        await self.connection.execute(
            sa.delete(crew_members).where(
                crew_members.c.tenant_id == self.tenant_id,
                crew_members.c.crew_id.in_(list(members)),
            )
        )
        rows = [
            {"tenant_id": self.tenant_id, "crew_id": crew, "user_id": user}
            for crew, users in members.items()
            for user in dict.fromkeys(users)
        ]
        if rows:
            await self.connection.execute(sa.insert(crew_members), rows)

    async def crews_of(self, user_id: str) -> tuple[str, ...]:
        query = self.scoped(crew_members, crew_members.c.crew_id).where(
            crew_members.c.user_id == user_id
        )
        return tuple((await self.connection.execute(query)).scalars())
