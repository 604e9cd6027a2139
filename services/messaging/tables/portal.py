"""What the field sees of each job and ticket (``portal_work``), kept from jobs' and tickets'
events, and its repository: a field worker's list joins it with the threads they are active on."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.messaging.domain.portal import WorkFacts
from shared.platform.storage.uow import TenantScopedRepository


def portal_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    work = sa.Table(
        "portal_work",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, primary_key=True),
        sa.Column("subject_id", sa.Text, primary_key=True),
        sa.Column("data", pg.JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    return {"work": work}


class PortalRepository(TenantScopedRepository):
    def __init__(
        self,
        connection: AsyncConnection,
        tenant_id: str,
        tables: dict[str, sa.Table],
        threads: dict[str, sa.Table],
    ):
        super().__init__(connection, tenant_id)
        self.work = tables["work"]
        self.threads, self.participants = threads["threads"], threads["participants"]

    async def get(self, kind: str, subject_id: str) -> WorkFacts | None:
        w = self.work
        query = self.scoped(w, w.c.data).where(w.c.kind == kind, w.c.subject_id == subject_id)
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return WorkFacts.model_validate(data) if data is not None else None

    async def get_for_update(self, kind: str, subject_id: str) -> WorkFacts | None:
        w = self.work
        query = (
            self.scoped(w, w.c.data)
            .where(w.c.kind == kind, w.c.subject_id == subject_id)
            .with_for_update()
        )
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return WorkFacts.model_validate(data) if data is not None else None

    async def put(self, facts: WorkFacts, now: datetime) -> None:
        values = {"data": facts.model_dump(mode="json"), "updated_at": now}
        w = self.work
        await self.connection.execute(
            pg_insert(w)
            .values(
                tenant_id=self.tenant_id, kind=facts.kind, subject_id=facts.subject_id, **values
            )
            .on_conflict_do_update(
                index_elements=[w.c.tenant_id, w.c.kind, w.c.subject_id], set_=values
            )
        )

    async def assigned_to(self, user_id: str) -> list[WorkFacts]:
        """The work whose thread the user is active on (their assignments), by start date."""
        w, t, p = self.work, self.threads, self.participants
        query = (
            sa.select(w.c.data)
            .join(
                t,
                sa.and_(
                    t.c.tenant_id == w.c.tenant_id,
                    t.c.kind == w.c.kind,
                    t.c.subject_id == w.c.subject_id,
                ),
            )
            .join(p, sa.and_(p.c.tenant_id == t.c.tenant_id, p.c.thread_id == t.c.thread_id))
            .where(w.c.tenant_id == self.tenant_id, p.c.user_id == user_id, p.c.active)
            .order_by(w.c.data["start_date"].astext.nulls_last(), w.c.subject_id)
        )
        return [
            WorkFacts.model_validate(d) for d in (await self.connection.execute(query)).scalars()
        ]
