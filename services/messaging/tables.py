"""The messaging schema (thin slice): one message thread per job."""

from __future__ import annotations

import sqlalchemy as sa

from shared.platform.storage.db import PlatformTables
from shared.platform.storage.uow import InsertOnceRepository, TenantScopedRepository

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


# Who is on the job's crew (from jobs' crew assignments): an installer reads only those threads.
thread_members = sa.Table(
    "thread_members",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Text, primary_key=True),
)


class Threads(InsertOnceRepository):
    table = threads


class ThreadMembers(TenantScopedRepository):
    async def replace(self, job_id: str, user_ids: list[str]) -> None:
        """The job's crew now: a crew assigned again replaces the members before it."""
        await self.connection.execute(
            sa.delete(thread_members).where(
                thread_members.c.tenant_id == self.tenant_id, thread_members.c.job_id == job_id
            )
        )
        if user_ids:
            await self.connection.execute(
                sa.insert(thread_members),
                [
                    {"tenant_id": self.tenant_id, "job_id": job_id, "user_id": user_id}
                    for user_id in dict.fromkeys(user_ids)
                ],
            )

    async def includes(self, job_id: str, user_id: str) -> bool:
        found = await self.connection.execute(
            self.scoped(thread_members).where(
                thread_members.c.job_id == job_id, thread_members.c.user_id == user_id
            )
        )
        return found.first() is not None
