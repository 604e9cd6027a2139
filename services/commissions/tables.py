"""The commissions schema (thin slice): the salesman credited for each job."""

from __future__ import annotations

import sqlalchemy as sa

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


class JobSalesmen(InsertOnceRepository):
    table = job_salesmen
