"""The tickets schema (thin slice): the customer and property of each job, for service tickets."""

from __future__ import annotations

import sqlalchemy as sa

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


class JobCustomers(InsertOnceRepository):
    table = job_customers
