"""The messaging schema (thin slice) and the repositories implementing its ports: one message
thread per job, and who is on each job's crew."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.messaging.domain import Thread, ThreadRecord
from services.messaging.notifications_store import (
    DirectoryRepository,
    MailQueueRepository,
    NoticeRepository,
    notification_tables,
)
from services.messaging.ports import MessagingRepositories
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


# The directory, the inbox and the email queue (``notifications_store``).
notices = notification_tables(metadata)


class ThreadRepository(InsertOnceRepository):
    table = threads

    async def add(self, thread: Thread) -> bool:
        return await self.insert_once(thread.job_id, thread_id=thread.thread_id)

    async def get(self, job_id: str) -> ThreadRecord | None:
        row = await self.row(job_id)
        return ThreadRecord.model_validate(row) if row else None


class ThreadMemberRepository(TenantScopedRepository):
    async def replace(self, job_id: str, user_ids: Sequence[str]) -> None:
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


def repositories(connection: AsyncConnection, tenant_id: str) -> MessagingRepositories:
    return MessagingRepositories(
        threads=ThreadRepository(connection, tenant_id),
        members=ThreadMemberRepository(connection, tenant_id),
        directory=DirectoryRepository(connection, tenant_id, notices),
        notices=NoticeRepository(connection, tenant_id, notices),
    )


def mail_queue(connection: AsyncConnection) -> MailQueueRepository:
    return MailQueueRepository(connection, notices)
