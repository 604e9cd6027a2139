"""The commissions schema (thin slice) and the repositories implementing its ports: the salesman
credited for each job."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.commissions.domain import JobSalesman, JobSalesmanRecord
from services.commissions.ports import CommissionsRepositories
from shared.platform.storage.db import PlatformTables
from shared.platform.storage.uow import InsertOnceRepository

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


class JobSalesmanRepository(InsertOnceRepository):
    table = job_salesmen

    async def add(self, salesman: JobSalesman) -> bool:
        return await self.insert_once(salesman.job_id, salesman_id=salesman.salesman_id)

    async def get(self, job_id: str) -> JobSalesmanRecord | None:
        row = await self.row(job_id)
        return JobSalesmanRecord.model_validate(row) if row else None


def repositories(connection: AsyncConnection, tenant_id: str) -> CommissionsRepositories:
    return CommissionsRepositories(salesmen=JobSalesmanRepository(connection, tenant_id))
