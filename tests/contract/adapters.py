"""The adapters of the jobs ports the contract suites run against, each handing out stores by
tenant (``jobs(tenant)``, ``crews(tenant)``) and arranging what no port method writes (the
policy layer's deadlines)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.jobs.ports import CrewStore, JobStore
from services.jobs.tables import CrewRepository, JobRepository, policy_tables
from tests.unit.jobs.fakes import FakeCrews, FakeJobs, Store


class FakeAdapter:
    name = "fake"

    def __init__(self) -> None:
        self.store = Store()
        # What one transaction of each tenant has added or saved and not committed.
        self._staged: dict[str, dict[str, Any]] = {}

    def jobs(self, tenant: str) -> JobStore:
        return FakeJobs(self.store, tenant, self._staged.setdefault(tenant, {}))

    def crews(self, tenant: str) -> CrewStore:
        return FakeCrews(self.store, tenant)

    async def add_deadline(
        self,
        tenant: str,
        subject: str,
        task: str,
        due_at: datetime,
        *,
        status: str = "open",
        escalate_to: str | None = None,
    ) -> None:
        self.store.deadlines.append(
            {
                "tenant_id": tenant,
                "subject": subject,
                "task": task,
                "due_at": due_at,
                "status": status,
                "escalate_to": escalate_to,
            }
        )


class SqlAdapter:
    name = "sql"

    def __init__(self, engine: AsyncEngine, connection: AsyncConnection) -> None:
        self.engine = engine
        self.connection = connection

    def jobs(self, tenant: str) -> JobStore:
        return JobRepository(self.connection, tenant)

    def crews(self, tenant: str) -> CrewStore:
        return CrewRepository(self.connection, tenant)

    async def add_deadline(
        self,
        tenant: str,
        subject: str,
        task: str,
        due_at: datetime,
        *,
        status: str = "open",
        escalate_to: str | None = None,
    ) -> None:
        """A row as the policy layer's ``schedule`` writes it (shared/policy/store.py)."""
        await self.connection.execute(
            sa.insert(policy_tables.deadlines).values(
                tenant_id=tenant,
                subject=subject,
                task=task,
                decision_id=uuid.uuid4(),
                policy="contract",
                rule="contract",
                escalate_to=escalate_to,
                due_at=due_at,
                status=status,
            )
        )


Adapter = FakeAdapter | SqlAdapter


@contextlib.asynccontextmanager
async def in_transaction(engine: AsyncEngine) -> AsyncIterator[SqlAdapter]:
    """Stores on one connection, in one transaction rolled back at the end."""
    async with engine.connect() as connection:
        await connection.begin()
        try:
            yield SqlAdapter(engine, connection)
        finally:
            if connection.in_transaction():
                await connection.rollback()


async def row_is_locked(engine: AsyncEngine, table: sa.Table, key: str, value: str) -> bool:
    """Whether another connection finds this tenant's row locked (``FOR UPDATE NOWAIT``)."""
    async with engine.connect() as other:
        try:
            await other.execute(
                sa.select(table.c[key])
                .where(table.c.tenant_id == "acme", table.c[key] == value)
                .with_for_update(nowait=True)
            )
        except sa.exc.DBAPIError as exc:
            if "could not obtain lock" in str(exc):
                return True
            raise
    return False
