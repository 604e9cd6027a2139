"""Figures across tenants for the service's gauges (``MessagingMetrics``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.messaging.ports import SurveyStats


class StatsRepository:
    def __init__(
        self,
        connection: AsyncConnection,
        threads: dict[str, sa.Table],
        surveys: dict[str, sa.Table],
    ) -> None:
        self.connection = connection
        self.participants, self.messages = threads["participants"], threads["messages"]
        self.surveys = surveys["surveys"]

    async def oldest_unread(self) -> dict[str, datetime]:
        """Per participant role, when the oldest message someone has not read was posted."""
        p, m = self.participants, self.messages
        query = (
            sa.select(p.c.role, sa.func.min(m.c.posted_at))
            .join(
                m,
                sa.and_(
                    m.c.tenant_id == p.c.tenant_id,
                    m.c.thread_id == p.c.thread_id,
                    m.c.seq > p.c.read_up_to,
                    m.c.author_id != p.c.user_id,
                ),
            )
            .where(p.c.active)
            .group_by(p.c.role)
        )
        return {role: at for role, at in await self.connection.execute(query)}

    async def surveys_stats(self, now: datetime) -> SurveyStats:
        s = self.surveys
        row = (
            await self.connection.execute(
                sa.select(
                    sa.func.count().filter(s.c.send_at <= now),
                    sa.func.count(s.c.answered_at),
                    sa.func.avg(s.c.rating),
                )
            )
        ).one()
        return SurveyStats(sent=row[0], answered=row[1], average_rating=row[2])
