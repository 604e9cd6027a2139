"""The accounting export's tables and repositories: one row per document queued for the
accounting system (``accounting_exports``), and tickets' work kept until it is billed
(``work_orders``). ``tables.py`` builds them on billing's metadata and wires the repositories.

The worker's queue (``ExportQueueRepository``) reads across tenants, as messaging's email queue
does: each row carries its tenant, and everything the worker writes is keyed by it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain.exports import (
    PRIORITY,
    ExportRecord,
    ExportStatus,
    WorkOrder,
)
from services.billing.ports import QueuedExport
from shared.platform.storage.uow import TenantScopedRepository


@dataclass(frozen=True)
class ExportTables:
    exports: sa.Table
    work_orders: sa.Table


def export_tables(metadata: sa.MetaData) -> ExportTables:
    exports = sa.Table(
        "accounting_exports",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("doc_type", sa.Text, primary_key=True),
        sa.Column("doc_id", sa.Text, primary_key=True),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        # Customers before invoices before payments (what a document names goes first).
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("external_id", sa.Text),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("request_id", name="uq_accounting_exports_request"),
        sa.Index(
            "ix_accounting_exports_due",
            "priority",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index("ix_accounting_exports_status", "tenant_id", "status", "updated_at"),
    )
    work_orders = sa.Table(
        "work_orders",
        metadata,
        sa.Column("tenant_id", sa.Text, primary_key=True),
        sa.Column("ticket_id", sa.Text, primary_key=True),
        sa.Column("data", pg.JSONB, nullable=False),
    )
    return ExportTables(exports=exports, work_orders=work_orders)


def _row(record: ExportRecord) -> dict[str, Any]:
    return {
        **record.model_dump(exclude={"document"}),
        "priority": PRIORITY[record.doc_type],
        "payload": record.document.model_dump(mode="json"),
    }


def _record(row: Any) -> ExportRecord:
    values = dict(row)
    values["document"] = values.pop("payload")
    return ExportRecord.model_validate(
        {k: v for k, v in values.items() if k not in ("tenant_id", "priority")}
    )


class ExportRepository(TenantScopedRepository):
    def __init__(self, connection: AsyncConnection, tenant_id: str, tables: ExportTables) -> None:
        super().__init__(connection, tenant_id)
        self.table = tables.exports

    async def queue(self, record: ExportRecord) -> bool:
        result = await self.connection.execute(
            pg_insert(self.table)
            .values(tenant_id=self.tenant_id, **_row(record))
            .on_conflict_do_nothing(
                index_elements=[self.table.c.tenant_id, self.table.c.doc_type, self.table.c.doc_id]
            )
        )
        return result.rowcount == 1

    async def save(self, record: ExportRecord) -> None:
        t = self.table
        await self.connection.execute(
            sa.update(t)
            .where(
                t.c.tenant_id == self.tenant_id,
                t.c.doc_type == record.doc_type,
                t.c.doc_id == record.doc_id,
            )
            .values(**_row(record))
        )

    async def get(
        self, doc_type: str, doc_id: str, *, for_update: bool = False
    ) -> ExportRecord | None:
        t = self.table
        query = self.scoped(t).where(t.c.doc_type == doc_type, t.c.doc_id == doc_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.connection.execute(query)).first()
        return _record(row._mapping) if row else None

    async def listed(
        self, status: ExportStatus | None, doc_type: str | None, limit: int, offset: int
    ) -> list[ExportRecord]:
        t = self.table
        query = self.scoped(t)
        if status is not None:
            query = query.where(t.c.status == status)
        if doc_type is not None:
            query = query.where(t.c.doc_type == doc_type)
        query = query.order_by(t.c.updated_at.desc(), t.c.doc_id).limit(limit).offset(offset)
        return [_record(row._mapping) for row in await self.connection.execute(query)]

    async def applied_to(self, invoice_id: str) -> Decimal:
        t = self.table
        query = self.scoped(
            t, sa.func.coalesce(sa.func.sum(t.c.payload["applied"].astext.cast(sa.Numeric)), 0)
        ).where(t.c.doc_type == "payment", t.c.payload["invoice"].astext == invoice_id)
        return Decimal((await self.connection.execute(query)).scalar_one())


class WorkOrderRepository(TenantScopedRepository):
    def __init__(self, connection: AsyncConnection, tenant_id: str, tables: ExportTables) -> None:
        super().__init__(connection, tenant_id)
        self.table = tables.work_orders

    async def get(self, ticket_id: str, *, for_update: bool = False) -> WorkOrder | None:
        t = self.table
        query = self.scoped(t, t.c.data).where(t.c.ticket_id == ticket_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return WorkOrder.model_validate(data) if data is not None else None

    async def put(self, order: WorkOrder) -> None:
        data = order.model_dump(mode="json")
        await self.connection.execute(
            pg_insert(self.table)
            .values(tenant_id=self.tenant_id, ticket_id=order.ticket_id, data=data)
            .on_conflict_do_update(
                index_elements=[self.table.c.tenant_id, self.table.c.ticket_id],
                set_={"data": data},
            )
        )


class ExportQueueRepository:
    """The export worker's queue, across tenants."""

    def __init__(self, connection: AsyncConnection, tables: ExportTables) -> None:
        self.connection = connection
        self.table = tables.exports

    async def next_due(self, now: datetime) -> QueuedExport | None:
        t = self.table
        query = (
            sa.select(t)
            .where(t.c.status == "pending", t.c.next_attempt_at <= now)
            .order_by(t.c.priority, t.c.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        row = (await self.connection.execute(query)).first()
        if row is None:
            return None
        return QueuedExport(tenant_id=row.tenant_id, record=_record(row._mapping))

    async def state_of(
        self, tenant_id: str, doc_type: str, doc_id: str
    ) -> tuple[ExportStatus, str | None] | None:
        t = self.table
        row = (
            await self.connection.execute(
                sa.select(t.c.status, t.c.external_id).where(
                    t.c.tenant_id == tenant_id, t.c.doc_type == doc_type, t.c.doc_id == doc_id
                )
            )
        ).first()
        return (row.status, row.external_id) if row else None

    def _this(self, picked: QueuedExport) -> sa.ColumnElement[bool]:
        t = self.table
        return sa.and_(
            t.c.tenant_id == picked.tenant_id,
            t.c.doc_type == picked.record.doc_type,
            t.c.doc_id == picked.record.doc_id,
        )

    async def defer(self, picked: QueuedExport, until: datetime, note: str) -> None:
        # Not a change of the document's own: updated_at stays (the office's list is by it).
        await self.connection.execute(
            sa.update(self.table).where(self._this(picked)).values(next_attempt_at=until, note=note)
        )

    async def claim(self, picked: QueuedExport, lease_until: datetime, now: datetime) -> int:
        t = self.table
        attempts = await self.connection.execute(
            sa.update(t)
            .where(self._this(picked))
            .values(
                attempts=t.c.attempts + 1, next_attempt_at=lease_until, note=None, updated_at=now
            )
            .returning(t.c.attempts)
        )
        return int(attempts.scalar_one())

    async def settle(
        self,
        picked: QueuedExport,
        attempt: int,
        status: ExportStatus,
        now: datetime,
        *,
        external_id: str | None = None,
        last_error: str | None = None,
        note: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        t = self.table
        values: dict[str, Any] = {
            "status": status,
            "last_error": last_error,
            "note": note,
            "updated_at": now,
        }
        if external_id is not None:
            values["external_id"] = external_id
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        result = await self.connection.execute(
            sa.update(t)
            .where(self._this(picked), t.c.status == "pending", t.c.attempts == attempt)
            .values(**values)
        )
        return result.rowcount == 1

    async def counts(self) -> dict[str, int]:
        t = self.table
        rows = await self.connection.execute(
            sa.select(t.c.status, sa.func.count()).group_by(t.c.status)
        )
        return {status: int(count) for status, count in rows}
