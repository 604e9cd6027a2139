"""The billing schema (thin slice): one finance folder per job."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.db import PlatformTables
from shared.uow import TenantScopedRepository

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)

finance_folders = sa.Table(
    "finance_folders",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column(
        "opened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)


class FinanceFolders(TenantScopedRepository):
    async def open(self, job_id: str, customer_name: str) -> bool:
        """Open the job's folder; False if it was already open."""
        result = await self.connection.execute(
            pg_insert(finance_folders)
            .values(tenant_id=self.tenant_id, job_id=job_id, customer_name=customer_name)
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def get(self, job_id: str) -> dict | None:
        row = (
            await self.connection.execute(
                self.scoped(finance_folders).where(finance_folders.c.job_id == job_id)
            )
        ).one_or_none()
        return dict(row._mapping) if row else None
