"""The commissions schema and the repositories implementing its ports: the salesman credited for
each job (its lead), what commissions keeps of each job, and the released activity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.commissions.domain import JobSalesman, JobSalesmanRecord
from services.commissions.domain.activity import ActivityRecord, CommissionJob
from services.commissions.domain.statements import Payout
from services.commissions.ports import CommissionsRepositories
from shared.platform.storage.db import PlatformTables
from shared.platform.storage.uow import InsertOnceRepository, TenantScopedRepository

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)

job_salesmen = sa.Table(
    "job_salesmen",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("salesman_id", sa.Text, nullable=False),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)


MONEY = sa.Numeric(12, 2)

# What commissions keeps of a job: its figures, its salesmen's shares, its release.
commission_jobs = sa.Table(
    "commission_jobs",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("data", pg.JSONB, nullable=False),
)

released_activity = sa.Table(
    "released_activity",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("salesman_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("volume", MONEY, nullable=False),
    sa.Column("data", pg.JSONB, nullable=False),  # the record whole: its explanation
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("payout_id", sa.Text),
    sa.Index("ix_released_activity_job", "tenant_id", "job_id", "recorded_at"),
    sa.Index("ix_released_activity_salesman", "tenant_id", "salesman_id", "effective_on"),
)


payouts = sa.Table(
    "payouts",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("payout_id", sa.Text, primary_key=True),
    sa.Column("salesman_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Index("ix_payouts_salesman", "tenant_id", "salesman_id"),
)


class PayoutRepository(TenantScopedRepository):
    async def put(self, payout: Payout) -> None:
        values = {"status": payout.status, "data": payout.model_dump(mode="json")}
        await self.connection.execute(
            pg_insert(payouts)
            .values(
                tenant_id=self.tenant_id,
                payout_id=payout.payout_id,
                salesman_id=payout.salesman_id,
                **values,
            )
            .on_conflict_do_update(
                index_elements=[payouts.c.tenant_id, payouts.c.payout_id], set_=values
            )
        )

    async def get(self, payout_id: str, *, for_update: bool = False) -> Payout | None:
        query = self.scoped(payouts, payouts.c.data).where(payouts.c.payout_id == payout_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return Payout.model_validate(data) if data is not None else None

    async def listed(self, salesman_id: str | None) -> list[Payout]:
        query = self.scoped(payouts, payouts.c.data)
        if salesman_id is not None:
            query = query.where(payouts.c.salesman_id == salesman_id)
        found = [Payout.model_validate(d) for d in (await self.connection.execute(query)).scalars()]
        return sorted(found, key=lambda p: (p.requested_at, p.payout_id))

    async def paid(self) -> set[str]:
        query = self.scoped(payouts, payouts.c.payout_id).where(payouts.c.status == "paid")
        return set((await self.connection.execute(query)).scalars())


class CommissionJobRepository(TenantScopedRepository):
    async def get(self, job_id: str, *, for_update: bool = False) -> CommissionJob | None:
        t = commission_jobs
        query = self.scoped(t, t.c.data).where(t.c.job_id == job_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return CommissionJob.model_validate(data) if data is not None else None

    async def get_many(self, job_ids: list[str]) -> dict[str, CommissionJob]:
        t = commission_jobs
        query = self.scoped(t, t.c.data).where(t.c.job_id.in_(job_ids))
        found = (
            CommissionJob.model_validate(d)
            for d in (await self.connection.execute(query)).scalars()
        )
        return {job.job_id: job for job in found}

    async def put(self, job: CommissionJob) -> None:
        data = job.model_dump(mode="json")
        await self.connection.execute(
            pg_insert(commission_jobs)
            .values(tenant_id=self.tenant_id, job_id=job.job_id, data=data)
            .on_conflict_do_update(
                index_elements=[commission_jobs.c.tenant_id, commission_jobs.c.job_id],
                set_={"data": data},
            )
        )


class ActivityRepository(TenantScopedRepository):
    async def add(self, record: ActivityRecord) -> None:
        await self.connection.execute(
            sa.insert(released_activity).values(
                tenant_id=self.tenant_id,
                record_id=record.record_id,
                job_id=record.job_id,
                salesman_id=record.salesman_id,
                kind=record.kind,
                effective_on=record.effective_on,
                amount=record.amount,
                volume=record.volume if record.kind == "released" else Decimal("0.00"),
                data=record.model_dump(mode="json"),
                recorded_at=record.recorded_at,
            )
        )

    async def _records(self, where: sa.ColumnElement[bool]) -> list[ActivityRecord]:
        a = released_activity
        query = self.scoped(a, a.c.data).where(where).order_by(a.c.recorded_at, a.c.record_id)
        return [
            ActivityRecord.model_validate(d)
            for d in (await self.connection.execute(query)).scalars()
        ]

    async def of_job(self, job_id: str) -> list[ActivityRecord]:
        return await self._records(released_activity.c.job_id == job_id)

    async def of_jobs(self, job_ids: list[str]) -> list[ActivityRecord]:
        return await self._records(released_activity.c.job_id.in_(job_ids))

    async def get(self, record_id: str) -> ActivityRecord | None:
        found = await self._records(released_activity.c.record_id == record_id)
        return found[0] if found else None

    async def of_salesman(self, salesman_id: str, start: date, end: date) -> list[ActivityRecord]:
        a = released_activity
        return await self._records(
            sa.and_(
                a.c.salesman_id == salesman_id, a.c.effective_on >= start, a.c.effective_on < end
            )
        )

    async def of_period(self, start: date, end: date) -> list[ActivityRecord]:
        a = released_activity
        return await self._records(sa.and_(a.c.effective_on >= start, a.c.effective_on < end))

    async def assign_payout(self, record_ids: list[str], payout_id: str) -> None:
        a = released_activity
        await self.connection.execute(
            sa.update(a)
            .where(a.c.tenant_id == self.tenant_id, a.c.record_id.in_(record_ids))
            .values(
                payout_id=payout_id,
                data=a.c.data.op("||")(sa.func.jsonb_build_object("payout_id", payout_id)),
            )
        )

    async def volume(self, salesman_id: str, start: date, end: date) -> Decimal:
        """Released records only: an adjustment does not move the tier."""
        a = released_activity
        query = self.scoped(a, sa.func.coalesce(sa.func.sum(a.c.volume), 0)).where(
            a.c.salesman_id == salesman_id, a.c.effective_on >= start, a.c.effective_on < end
        )
        return Decimal((await self.connection.execute(query)).scalar_one())


class JobSalesmanRepository(InsertOnceRepository):
    table = job_salesmen

    async def add(self, salesman: JobSalesman) -> bool:
        return await self.insert_once(salesman.job_id, salesman_id=salesman.salesman_id)

    async def get(self, job_id: str) -> JobSalesmanRecord | None:
        row = await self.row(job_id)
        return JobSalesmanRecord.model_validate(row) if row else None


def repositories(connection: AsyncConnection, tenant_id: str) -> CommissionsRepositories:
    return CommissionsRepositories(
        salesmen=JobSalesmanRepository(connection, tenant_id),
        jobs=CommissionJobRepository(connection, tenant_id),
        activity=ActivityRepository(connection, tenant_id),
        payouts=PayoutRepository(connection, tenant_id),
    )
