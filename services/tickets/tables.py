"""The tickets schema (thin slice) and the repositories implementing its ports: the customer and
property of each job, for service tickets."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tickets.domain import JobCustomer, JobCustomerRecord
from services.tickets.ports import TicketsRepositories
from shared.platform.storage.db import PlatformTables
from shared.platform.storage.uow import InsertOnceRepository
from shared.policy.store import PolicyTables

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)
policy_tables = PolicyTables(metadata)

job_customers = sa.Table(
    "job_customers",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("property_address", sa.Text, nullable=False),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)


class JobCustomerRepository(InsertOnceRepository):
    table = job_customers

    async def add(self, customer: JobCustomer) -> bool:
        return await self.insert_once(
            customer.job_id,
            customer_name=customer.customer_name,
            property_address=customer.property_address,
        )

    async def get(self, job_id: str) -> JobCustomerRecord | None:
        row = await self.row(job_id)
        return JobCustomerRecord.model_validate(row) if row else None


def repositories(connection: AsyncConnection, tenant_id: str) -> TicketsRepositories:
    return TicketsRepositories(customers=JobCustomerRepository(connection, tenant_id))
