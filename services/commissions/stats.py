"""The figures commissions' gauges show, read across tenants."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.commissions.ports import CommissionsFigures
from services.commissions.tables import payouts, released_activity


async def figures(connection: AsyncConnection, since: date) -> CommissionsFigures:
    a = released_activity
    month = sa.func.to_char(a.c.effective_on, "YYYY-MM")
    amounts = {
        (m, kind): Decimal(total)
        for m, kind, total in await connection.execute(
            sa.select(month, a.c.kind, sa.func.sum(a.c.amount))
            .where(a.c.effective_on >= since)
            .group_by(month, a.c.kind)
        )
    }
    pending = (
        await connection.execute(
            sa.select(sa.func.count()).select_from(payouts).where(payouts.c.status == "requested")
        )
    ).scalar_one()
    released = (
        sa.select(a.c.tenant_id, a.c.salesman_id, a.c.job_id).where(a.c.kind == "released")
    ).subquery()
    outstanding = (
        await connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(a.c.amount), 0)).where(
                a.c.data["advance"].astext == "true",
                ~sa.exists().where(
                    released.c.tenant_id == a.c.tenant_id,
                    released.c.salesman_id == a.c.salesman_id,
                    released.c.job_id == a.c.job_id,
                ),
            )
        )
    ).scalar_one()
    return CommissionsFigures(
        amounts=amounts, payouts_pending=int(pending), advances_outstanding=Decimal(outstanding)
    )
