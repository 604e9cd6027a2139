"""Weekly plans and the end-of-day runs; and the cross-tenant reads of the service clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.tickets.domain.end_of_day import EndOfDay, EndOfDayRun
from services.tickets.domain.plans import MaintenancePlan
from services.tickets.tables.schema import end_of_day_runs, end_of_day_settings, plans
from shared.platform.storage.uow import TenantScopedRepository


class PlanRepository(TenantScopedRepository):
    async def add(self, plan: MaintenancePlan) -> None:
        await self.connection.execute(
            sa.insert(plans).values(
                tenant_id=self.tenant_id, plan_id=plan.plan_id, **_plan_columns(plan)
            )
        )

    async def get(self, plan_id: str, *, for_update: bool = False) -> MaintenancePlan | None:
        query = self.scoped(plans, plans.c.data).where(plans.c.plan_id == plan_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return MaintenancePlan.model_validate(data) if data is not None else None

    async def save(self, plan: MaintenancePlan) -> None:
        await self.connection.execute(
            sa.update(plans)
            .where(plans.c.tenant_id == self.tenant_id, plans.c.plan_id == plan.plan_id)
            .values(**_plan_columns(plan))
        )

    async def find(self, *, status: str | None, limit: int, offset: int) -> list[MaintenancePlan]:
        query = self.scoped(plans, plans.c.data)
        if status is not None:
            query = query.where(plans.c.status == status)
        query = (
            query.order_by(plans.c.created_at.desc(), plans.c.plan_id).limit(limit).offset(offset)
        )
        return [
            MaintenancePlan.model_validate(d)
            for d in (await self.connection.execute(query)).scalars()
        ]

    async def save_many(self, many: Sequence[MaintenancePlan]) -> None:
        if not many:
            return
        await self.connection.execute(
            sa.update(plans)
            .where(
                plans.c.tenant_id == sa.bindparam("b_tenant"),
                plans.c.plan_id == sa.bindparam("b_plan"),
            )
            .values(
                status=sa.bindparam("status"),
                generated_through=sa.bindparam("generated_through"),
                data=sa.bindparam("data"),
            ),
            [
                {"b_tenant": self.tenant_id, "b_plan": plan.plan_id, **_plan_columns(plan)}
                for plan in many
            ],
        )

    async def to_fill(self, through: date, *, limit: int) -> list[MaintenancePlan]:
        query = (
            self.scoped(plans, plans.c.data)
            .where(plans.c.status == "active", plans.c.generated_through < through)
            .order_by(plans.c.generated_through, plans.c.plan_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self.connection.execute(query)
        return [MaintenancePlan.model_validate(data) for data in rows.scalars()]


def _plan_columns(plan: MaintenancePlan) -> dict[str, Any]:
    return {
        "status": plan.status,
        "generated_through": plan.generated_through,
        "data": plan.model_dump(mode="json"),
    }


async def tenants_with_plans_to_fill(connection: AsyncConnection, through: date) -> list[str]:
    query = (
        sa.select(plans.c.tenant_id)
        .where(plans.c.status == "active", plans.c.generated_through < through)
        .distinct()
    )
    return list((await connection.execute(query)).scalars())


class EndOfDayRepository(TenantScopedRepository):
    async def config(self) -> EndOfDay | None:
        row = (
            await self.connection.execute(
                self.scoped(
                    end_of_day_settings, end_of_day_settings.c.timezone, end_of_day_settings.c.at
                )
            )
        ).one_or_none()
        return EndOfDay(timezone=row.timezone, at=row.at) if row else None

    async def configure(self, config: EndOfDay) -> None:
        values = {"timezone": config.timezone, "at": config.at}
        await self.connection.execute(
            pg_insert(end_of_day_settings)
            .values(tenant_id=self.tenant_id, **values)
            .on_conflict_do_update(index_elements=[end_of_day_settings.c.tenant_id], set_=values)
        )

    async def claim(self, day: date, *, by: str, at: datetime) -> bool:
        result = await self.connection.execute(
            pg_insert(end_of_day_runs)
            .values(tenant_id=self.tenant_id, day=day, by=by, ran_at=at)
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def finish(self, day: date, moved: int) -> None:
        await self.connection.execute(
            sa.update(end_of_day_runs)
            .where(end_of_day_runs.c.tenant_id == self.tenant_id, end_of_day_runs.c.day == day)
            .values(moved=moved)
        )

    async def run(self, day: date) -> EndOfDayRun | None:
        row = (
            await self.connection.execute(
                self.scoped(end_of_day_runs).where(end_of_day_runs.c.day == day)
            )
        ).one_or_none()
        return (
            EndOfDayRun(day=row.day, by=row.by, ran_at=row.ran_at, moved=row.moved) if row else None
        )


async def end_of_day_configs(connection: AsyncConnection) -> dict[str, EndOfDay]:
    """Every tenant's end of day (the clock that runs the move works across tenants)."""
    rows = await connection.execute(sa.select(end_of_day_settings))
    return {row.tenant_id: EndOfDay(timezone=row.timezone, at=row.at) for row in rows}
