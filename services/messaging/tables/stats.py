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
        emails: sa.Table,
    ) -> None:
        self.connection = connection
        self.threads = threads["threads"]
        self.participants, self.messages = threads["participants"], threads["messages"]
        self.surveys, self.emails = surveys["surveys"], emails

    async def oldest_unread(self) -> dict[str, datetime]:
        """Per role (installer: the field on a job or direct thread; technician: on a ticket's;
        office), when the oldest message someone has not read was posted."""
        p, m, t = self.participants, self.messages, self.threads
        role = sa.case(
            (p.c.role == "office", "office"),
            (t.c.kind == "ticket", "technician"),
            else_="installer",
        )
        query = (
            sa.select(role, sa.func.min(m.c.posted_at))
            .select_from(p)
            .join(t, sa.and_(t.c.tenant_id == p.c.tenant_id, t.c.thread_id == p.c.thread_id))
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
            .group_by(role)
        )
        return {role: at for role, at in await self.connection.execute(query)}

    async def surveys_stats(self, now: datetime) -> SurveyStats:
        """Sent: the survey's email was accepted by the mail server (its id is the survey's)."""
        s, e = self.surveys, self.emails
        row = (
            await self.connection.execute(
                sa.select(
                    sa.func.count(e.c.email_id).filter(e.c.status == "sent"),
                    sa.func.count(s.c.answered_at),
                    sa.func.avg(s.c.rating),
                ).select_from(s.outerjoin(e, e.c.email_id == s.c.survey_id))
            )
        ).one()
        return SurveyStats(sent=row[0], answered=row[1], average_rating=row[2])
