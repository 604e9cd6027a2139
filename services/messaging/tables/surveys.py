"""Survey forms (versioned per tenant) and surveys, and their repository."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.messaging.domain.surveys import DEFAULT_FORM, FormQuestions, Survey, SurveyForm
from shared.platform.storage.uow import TenantScopedRepository


def survey_tables(metadata: sa.MetaData) -> dict[str, sa.Table]:
    forms = sa.Table(
        "survey_forms",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("questions", pg.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
    )
    surveys = sa.Table(
        "surveys",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("survey_id", sa.Text, primary_key=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text, nullable=False),
        sa.Column("job_id", sa.Text),
        sa.Column("crew_id", sa.Text),
        sa.Column("contact_name", sa.Text),
        sa.Column("contact_email", sa.Text, nullable=False),
        sa.Column("send_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("form_version", sa.Integer),
        sa.Column("rating", sa.SmallInteger),
        sa.Column("answers", pg.JSONB),
        # Once per job (and per ticket).
        sa.UniqueConstraint("tenant_id", "subject", "subject_id", name="uq_surveys_subject"),
    )
    return {"forms": forms, "surveys": surveys}


class SurveyRepository(TenantScopedRepository):
    def __init__(self, connection: AsyncConnection, tenant_id: str, tables: dict[str, sa.Table]):
        super().__init__(connection, tenant_id)
        self.forms, self.surveys = tables["forms"], tables["surveys"]

    async def form(self, version: int | None = None) -> SurveyForm | None:
        """The form of ``version``, or the latest (the default when none was defined)."""
        f = self.forms
        query = self.scoped(f)
        if version is None:
            query = query.order_by(f.c.version.desc()).limit(1)
        else:
            query = query.where(f.c.version == version)
        row = (await self.connection.execute(query)).first()
        if row is None:
            return DEFAULT_FORM if version in (None, 0) else None
        return SurveyForm(
            version=row.version,
            questions=row.questions,
            created_at=row.created_at,
            created_by=row.created_by,
        )

    async def new_form(self, questions: FormQuestions, by: str, now: datetime) -> SurveyForm:
        f = self.forms
        # One new version at a time per tenant (two at once would both take max + 1).
        await self.connection.execute(
            sa.select(
                sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"survey_forms:{self.tenant_id}"))
            )
        )
        latest = await self.connection.execute(
            self.scoped(f, sa.func.coalesce(sa.func.max(f.c.version), 0))
        )
        version = int(latest.scalar_one()) + 1
        await self.connection.execute(
            sa.insert(f).values(
                tenant_id=self.tenant_id,
                version=version,
                questions=questions.model_dump(mode="json")["questions"],
                created_at=now,
                created_by=by,
            )
        )
        return SurveyForm(
            version=version, questions=questions.questions, created_at=now, created_by=by
        )

    async def add(self, survey: Survey) -> bool:
        """False if the job (or ticket) has its survey already."""
        result = await self.connection.execute(
            pg_insert(self.surveys)
            .values(tenant_id=self.tenant_id, **survey.model_dump())
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def get(self, survey_id: str) -> Survey | None:
        s = self.surveys
        row = (
            await self.connection.execute(self.scoped(s).where(s.c.survey_id == survey_id))
        ).first()
        return _survey(row._mapping) if row else None

    async def answer(
        self, survey_id: str, *, rating: int, answers: dict[str, Any], at: datetime
    ) -> bool:
        """Record the answers once: False if the survey was answered meanwhile."""
        s = self.surveys
        result = await self.connection.execute(
            sa.update(s)
            .where(
                s.c.tenant_id == self.tenant_id,
                s.c.survey_id == survey_id,
                s.c.answered_at.is_(None),
            )
            .values(answered_at=at, rating=rating, answers=answers)
        )
        return result.rowcount == 1

    async def ratings(self, by: str) -> list[dict[str, Any]]:
        """Answered surveys grouped by job, crew or month: count and average rating."""
        s = self.surveys
        key = {
            "job": s.c.job_id,
            "crew": s.c.crew_id,
            "month": sa.func.to_char(s.c.answered_at, "YYYY-MM"),
        }[by]
        query = (
            self.scoped(
                s,
                key.label("key"),
                sa.func.count().label("answered"),
                sa.func.avg(s.c.rating).label("average"),
                sa.func.min(s.c.rating).label("lowest"),
            )
            .where(s.c.answered_at.is_not(None))
            .group_by(key)
            .order_by(key)
        )
        return [dict(row._mapping) for row in await self.connection.execute(query)]


def _survey(row: Any) -> Survey:
    return Survey.model_validate({k: v for k, v in dict(row).items() if k != "tenant_id"})
