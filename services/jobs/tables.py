"""The jobs schema: jobs and the acknowledgements other services sent for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from services.jobs.domain import Lead
from shared.db import PlatformTables
from shared.policy.store import PolicyTables
from shared.uow import TenantScopedRepository

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)
policy_tables = PolicyTables(metadata)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column("phone", sa.Text),
    sa.Column("email", sa.Text),
    sa.Column("property_address", sa.Text, nullable=False),
    sa.Column("salesman_id", sa.Text, nullable=False),
    sa.Column("milestone", sa.Text, nullable=False),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
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


class JobRepository(TenantScopedRepository):
    async def add(self, lead: Lead) -> None:
        await self.connection.execute(
            sa.insert(jobs).values(
                tenant_id=self.tenant_id,
                job_id=lead.job_id,
                customer_name=lead.customer_name,
                phone=lead.phone,
                email=lead.email,
                property_address=lead.property_address,
                salesman_id=lead.salesman_id,
                milestone=lead.milestone,
            )
        )

    async def get(self, job_id: str) -> Lead | None:
        row = (
            await self.connection.execute(self.scoped(jobs).where(jobs.c.job_id == job_id))
        ).one_or_none()
        if row is None:
            return None
        acks = await self.connection.execute(
            self.scoped(acknowledgements).where(acknowledgements.c.job_id == job_id)
        )
        values: dict[str, Any] = dict(row._mapping)
        return Lead(
            **values,
            acknowledged_by={ack.service: ack.acknowledged_at for ack in acks},
        )

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
