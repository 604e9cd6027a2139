"""The billing schema (thin slice): one finance folder per job."""

from __future__ import annotations

import sqlalchemy as sa

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


class FinanceFolders(InsertOnceRepository):
    table = finance_folders
