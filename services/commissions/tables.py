"""The commissions schema (thin slice): the salesman credited for each job."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.db import PlatformTables
from shared.uow import TenantScopedRepository

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


class JobSalesmen(TenantScopedRepository):
    async def add(self, job_id: str, **values: Any) -> bool:
        """Record the job once; False if it was already recorded."""
        result = await self.connection.execute(
            pg_insert(job_salesmen)
            .values(tenant_id=self.tenant_id, job_id=job_id, **values)
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def get(self, job_id: str) -> dict[str, Any] | None:
        row = (
            await self.connection.execute(
                self.scoped(job_salesmen).where(job_salesmen.c.job_id == job_id)
            )
        ).one_or_none()
        return dict(row._mapping) if row else None
