"""The billing schema (thin slice) and the repositories implementing its ports: one finance
folder per job."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain import FinanceFolder, FinanceFolderRecord
from services.billing.ports import BillingRepositories
from shared.platform.storage.db import PlatformTables
from shared.platform.storage.uow import InsertOnceRepository
from shared.policy.store import PolicyTables

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)
policy_tables = PolicyTables(metadata)

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


class FinanceFolderRepository(InsertOnceRepository):
    table = finance_folders

    async def add(self, folder: FinanceFolder) -> bool:
        return await self.insert_once(folder.job_id, customer_name=folder.customer_name)

    async def get(self, job_id: str) -> FinanceFolderRecord | None:
        row = await self.row(job_id)
        return FinanceFolderRecord.model_validate(row) if row else None


def repositories(connection: AsyncConnection, tenant_id: str) -> BillingRepositories:
    return BillingRepositories(folders=FinanceFolderRepository(connection, tenant_id))
