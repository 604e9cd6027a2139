"""The messaging schema (thin slice): one message thread per job."""

from __future__ import annotations

import sqlalchemy as sa

from shared.db import PlatformTables
from shared.uow import InsertOnceRepository

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)

threads = sa.Table(
    "threads",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("thread_id", sa.Text, nullable=False),
    sa.Column(
        "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)


class Threads(InsertOnceRepository):
    table = threads
