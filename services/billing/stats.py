"""The figures billing's gauges show, read across tenants (every replica reports the same)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain.ledger import EFFECT
from services.billing.ports import BillingFigures
from services.billing.tables import (
    escalations,
    finance_folders,
    insurance_claims,
    money_records,
    returned_checks,
)

ZERO = Decimal("0.00")


class BillingStats:
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def figures(self) -> BillingFigures:
        return BillingFigures(
            **await self._held(),
            **await self._escalations(),
            **await self._depreciation(),
            payments_by_method=await self._payments(),
            returned_checks_open=await self._count(returned_checks, ~returned_checks.c.closed),
        )

    async def _held(self) -> dict[str, int | Decimal]:
        """Jobs whose collection is on hold, and their balances (derived from the records as
        everywhere: the contract price plus each record's effect)."""
        f, r = finance_folders, money_records
        effect = sa.case(
            *((r.c.kind == kind, r.c.amount * sign) for kind, sign in EFFECT.items()), else_=0
        )
        balances = (
            sa.select(
                (
                    sa.func.coalesce(f.c.contract_price, 0)
                    + sa.func.coalesce(sa.func.sum(effect), 0)
                ).label("balance")
            )
            .select_from(
                f.outerjoin(r, sa.and_(r.c.tenant_id == f.c.tenant_id, r.c.job_id == f.c.job_id))
            )
            .where(f.c.standing["held_since"].astext.is_not(None))
            .group_by(f.c.tenant_id, f.c.job_id, f.c.contract_price)
            .subquery()
        )
        row = (
            await self.connection.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(balances.c.balance), 0))
            )
        ).one()
        return {"held_jobs": int(row[0]), "held_balance": Decimal(row[1])}

    async def _escalations(self) -> dict[str, int | datetime | None]:
        e = escalations
        row = (
            await self.connection.execute(
                sa.select(sa.func.count(), sa.func.min(e.c.opened_at)).where(e.c.decision.is_(None))
            )
        ).one()
        return {"escalations_open": int(row[0]), "oldest_escalation_at": row[1]}

    async def _depreciation(self) -> dict[str, int | Decimal]:
        c = insurance_claims
        notice = c.c.data["notice"].astext
        row = (
            await self.connection.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(c.c.outstanding), 0),
                    sa.func.count().filter(notice == "notify"),
                    sa.func.count().filter(notice == "escalate"),
                ).where(c.c.outstanding > 0)
            )
        ).one()
        return {
            "depreciation_outstanding": Decimal(row[0]),
            "depreciation_near_deadline": int(row[1]),
            "depreciation_past_deadline": int(row[2]),
        }

    async def _payments(self) -> dict[str, tuple[int, Decimal]]:
        r = money_records
        rows = await self.connection.execute(
            sa.select(r.c.method, sa.func.count(), sa.func.sum(r.c.amount))
            .where(r.c.kind == "payment")
            .group_by(r.c.method)
        )
        return {str(row[0]): (int(row[1]), Decimal(row[2])) for row in rows}

    async def _count(self, table: sa.Table, where: sa.ColumnElement[bool]) -> int:
        query = sa.select(sa.func.count()).select_from(table).where(where)
        return int((await self.connection.execute(query)).scalar_one())
