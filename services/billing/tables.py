"""The billing schema and the repositories implementing its ports: each job's finance folder,
the money records on it, and the answers to requests made with an Idempotency-Key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.billing.domain import Financing, Folder, MoneyRecord
from services.billing.domain.collections import Escalation, Standing, TimelineLine
from services.billing.domain.costs import Expense
from services.billing.domain.financing import FinancingApplication
from services.billing.domain.insurance import Claim
from services.billing.domain.invoices import Invoice
from services.billing.domain.returned_checks import ReturnedCheck
from services.billing.export_tables import (
    ExportQueueRepository,
    ExportRepository,
    WorkOrderRepository,
    export_tables,
)
from services.billing.ports import BillingRepositories, KeptAnswer
from shared.platform.storage.db import PlatformTables
from shared.platform.storage.queries import counter_table, next_number
from shared.platform.storage.uow import TenantScopedRepository
from shared.policy.store import PolicyTables

metadata = sa.MetaData()
platform_tables = PlatformTables(metadata)
policy_tables = PolicyTables(metadata)
MONEY = sa.Numeric(12, 2)

finance_folders = sa.Table(
    "finance_folders",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("customer_name", sa.Text, nullable=False),
    sa.Column(
        "opened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column("customer_email", sa.Text),
    sa.Column("customer_phone", sa.Text),
    # Who the customer is across jobs (their email, else their name; case folded).
    sa.Column("customer_key", sa.Text, nullable=False, server_default=""),
    sa.Column("contract_price", MONEY),
    sa.Column("financing", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("completed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("released_on", sa.Date),
    # What billing knows of the customer's satisfaction (open issues, rating, hold, refusals).
    sa.Column("standing", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("expenses_entered", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("costs_settled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("payment_on_file", pg.JSONB),
    sa.Column("line_items", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Index("ix_finance_folders_customer", "tenant_id", "customer_key"),
)

invoices = sa.Table(
    "invoices",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("invoice_id", sa.Text, primary_key=True),
    sa.Column("number", sa.Text, nullable=False),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("bill_to", sa.Text, nullable=False),
    sa.Column("lines", pg.JSONB, nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("paid", MONEY, nullable=False),
    sa.Column("due", MONEY, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("detail", pg.JSONB),
    sa.Column("credits", sa.Text),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.UniqueConstraint("tenant_id", "number", name="uq_invoices_number"),
    sa.Index("ix_invoices_job", "tenant_id", "job_id"),
)
invoice_numbers = counter_table("invoice_numbers", metadata)
credit_note_numbers = counter_table("credit_note_numbers", metadata)

# A job's insurance claim (the summary's lines and the supplements in ``data``); what is still
# to claim and the carrier's deadline as columns, for the daily watch and the metrics.
insurance_claims = sa.Table(
    "insurance_claims",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, primary_key=True),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Column("outstanding", MONEY, nullable=False),
    sa.Column("deadline", sa.Date),
    sa.Index(
        "ix_insurance_claims_outstanding",
        "deadline",
        postgresql_where=sa.text("outstanding > 0"),
    ),
)

# Documents for the accounting system, and tickets' work kept until it is billed.
exports = export_tables(metadata)

returned_checks = sa.Table(
    "returned_checks",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("returned_check_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("data", pg.JSONB, nullable=False),
    sa.Column("closed", sa.Boolean, nullable=False),
    sa.Index("ix_returned_checks_open", "tenant_id", "closed"),
)

expenses = sa.Table(
    "expenses",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("expense_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("vendor", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("incurred_on", sa.Date, nullable=False),
    sa.Column("paid_on", sa.Date),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_expenses_job", "tenant_id", "job_id", "recorded_at"),
)

escalations = sa.Table(
    "escalations",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("escalation_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decision", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    # One open escalation per job.
    sa.Index(
        "ux_escalations_open",
        "tenant_id",
        "job_id",
        unique=True,
        postgresql_where=sa.text("decision IS NULL"),
    ),
)

timeline = sa.Table(
    "billing_timeline",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("tenant_id", sa.Text, nullable=False),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Index("ix_billing_timeline_job", "tenant_id", "job_id", "id"),
)

money_records = sa.Table(
    "money_records",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("record_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("on", sa.Date, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("method", sa.Text),
    sa.Column("financing", sa.Boolean, nullable=False),
    sa.Column("reverses", sa.Text),
    sa.Column("by", sa.Text, nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_money_records_job", "tenant_id", "job_id", "recorded_at"),
)

# Post-install financing applications through the lender; offers as the lender last reported.
financing_applications = sa.Table(
    "financing_applications",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("application_id", sa.Text, primary_key=True),
    sa.Column("job_id", sa.Text, nullable=False),
    sa.Column("lender", sa.Text, nullable=False),
    sa.Column("lender_ref", sa.Text, nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("link", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("offers", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("chosen_offer_id", sa.Text),
    sa.Column("payment_id", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("by", sa.Text, nullable=False),
    sa.Index("ix_financing_applications_job", "tenant_id", "job_id", "created_at"),
)

# A request made with an Idempotency-Key, and what it was answered (a retry gets the same).
idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("tenant_id", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("request", sa.Text, nullable=False),  # what was asked: route and body, hashed
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("response", pg.JSONB, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


class FolderRepository(TenantScopedRepository):
    async def add(self, folder: Folder) -> bool:
        """Open the folder; False if the job already has one (a replayed lead)."""
        result = await self.connection.execute(
            pg_insert(finance_folders)
            .values(tenant_id=self.tenant_id, **_row(folder))
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def get(self, job_id: str, *, for_update: bool = False) -> Folder | None:
        query = self.scoped(finance_folders).where(finance_folders.c.job_id == job_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.connection.execute(query)).first()
        return _folder(row._mapping) if row else None

    async def get_many(self, job_ids: list[str], *, for_update: bool = False) -> dict[str, Folder]:
        f = finance_folders
        query = self.scoped(f).where(f.c.job_id.in_(job_ids)).order_by(f.c.job_id)
        if for_update:
            query = query.with_for_update()
        return {row.job_id: _folder(row._mapping) for row in await self.connection.execute(query)}

    async def put_many(self, folders: list[Folder]) -> None:
        if not folders:
            return
        f = finance_folders
        insert = pg_insert(f)
        kept = [c.name for c in f.columns if c.name not in ("tenant_id", "job_id")]
        await self.connection.execute(
            insert.on_conflict_do_update(
                index_elements=[f.c.tenant_id, f.c.job_id],
                set_={name: insert.excluded[name] for name in kept},
            ),
            [{"tenant_id": self.tenant_id, **_row(folder)} for folder in folders],
        )

    async def save(self, folder: Folder) -> None:
        await self.connection.execute(
            sa.update(finance_folders)
            .where(
                finance_folders.c.tenant_id == self.tenant_id,
                finance_folders.c.job_id == folder.job_id,
            )
            .values(**_row(folder))
        )

    async def of_customer(self, customer_key: str) -> list[Folder]:
        query = (
            self.scoped(finance_folders)
            .where(finance_folders.c.customer_key == customer_key)
            .order_by(finance_folders.c.opened_at)
        )
        return [_folder(row._mapping) for row in await self.connection.execute(query)]


def _row(folder: Folder) -> dict[str, Any]:
    return {
        **folder.model_dump(exclude={"financing", "standing", "payment_on_file", "line_items"}),
        "line_items": [line.model_dump(mode="json") for line in folder.line_items],
        "financing": folder.financing.model_dump(mode="json"),
        "payment_on_file": folder.payment_on_file.model_dump(mode="json")
        if folder.payment_on_file
        else None,
        "standing": folder.standing.model_dump(mode="json"),
        "customer_key": folder.customer_key,
    }


def _folder(row: Any) -> Folder:
    values = {k: v for k, v in dict(row).items() if k not in ("tenant_id", "customer_key")}
    values["financing"] = Financing.model_validate(values["financing"] or {})
    values["standing"] = Standing.model_validate(values["standing"] or {})
    return Folder.model_validate(values)


class MoneyRecordRepository(TenantScopedRepository):
    async def add(self, record: MoneyRecord, job_id: str) -> bool:
        """Keep the record once (its id is its own: a change order's, a payment's)."""
        result = await self.connection.execute(
            pg_insert(money_records)
            .values(tenant_id=self.tenant_id, job_id=job_id, **record.model_dump())
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def of_job(self, job_id: str) -> list[MoneyRecord]:
        m = money_records
        query = self.scoped(m).where(m.c.job_id == job_id).order_by(m.c.recorded_at, m.c.record_id)
        return [
            MoneyRecord.model_validate(
                {k: v for k, v in row._mapping.items() if k not in ("tenant_id", "job_id")}
            )
            for row in await self.connection.execute(query)
        ]

    async def add_many(self, records: list[tuple[str, MoneyRecord]]) -> None:
        if records:
            rows = [
                {"tenant_id": self.tenant_id, "job_id": job_id, **record.model_dump()}
                for job_id, record in records
            ]
            await self.connection.execute(pg_insert(money_records).on_conflict_do_nothing(), rows)

    async def of_jobs(self, job_ids: list[str]) -> dict[str, list[MoneyRecord]]:
        m = money_records
        query = (
            self.scoped(m)
            .where(m.c.job_id.in_(job_ids))
            .order_by(m.c.job_id, m.c.recorded_at, m.c.record_id)
        )
        found: dict[str, list[MoneyRecord]] = {}
        for row in await self.connection.execute(query):
            values = {k: v for k, v in row._mapping.items() if k not in ("tenant_id", "job_id")}
            found.setdefault(row.job_id, []).append(MoneyRecord.model_validate(values))
        return found

    async def totals(self, job_id: str) -> dict[str, Decimal]:
        return (await self.totals_of([job_id])).get(job_id, {})

    async def totals_of(self, job_ids: list[str]) -> dict[str, dict[str, Decimal]]:
        m = money_records
        query = (
            self.scoped(m, m.c.job_id, m.c.kind, sa.func.sum(m.c.amount))
            .where(m.c.job_id.in_(job_ids))
            .group_by(m.c.job_id, m.c.kind)
        )
        found: dict[str, dict[str, Decimal]] = {}
        for job_id, kind, total in await self.connection.execute(query):
            found.setdefault(job_id, {})[kind] = Decimal(total)
        return found


class IdempotencyRepository(TenantScopedRepository):
    async def get(self, key: str) -> KeptAnswer | None:
        k = idempotency_keys
        row = (await self.connection.execute(self.scoped(k).where(k.c.key == key))).first()
        if row is None:
            return None
        return KeptAnswer(request=row.request, status=row.status, response=row.response)

    async def put(self, key: str, answer: KeptAnswer, at: Any) -> None:
        await self.connection.execute(
            sa.insert(idempotency_keys).values(
                tenant_id=self.tenant_id,
                key=key,
                request=answer.request,
                status=answer.status,
                response=answer.response,
                at=at,
            )
        )


class ExpenseRepository(TenantScopedRepository):
    async def add(self, job_id: str, expense: Expense) -> None:
        await self.connection.execute(
            sa.insert(expenses).values(
                tenant_id=self.tenant_id, job_id=job_id, **expense.model_dump()
            )
        )

    async def save(self, expense: Expense) -> None:
        await self.connection.execute(
            sa.update(expenses)
            .where(
                expenses.c.tenant_id == self.tenant_id,
                expenses.c.expense_id == expense.expense_id,
            )
            .values(**expense.model_dump())
        )

    async def of_job(self, job_id: str) -> list[Expense]:
        e = expenses
        query = self.scoped(e).where(e.c.job_id == job_id).order_by(e.c.recorded_at, e.c.expense_id)
        return [
            Expense.model_validate(
                {k: v for k, v in row._mapping.items() if k not in ("tenant_id", "job_id")}
            )
            for row in await self.connection.execute(query)
        ]


class InvoiceRepository(TenantScopedRepository):
    async def next_number(self, year: int, *, credit_note: bool = False) -> str:
        prefix, counter = ("CN", credit_note_numbers) if credit_note else ("INV", invoice_numbers)
        return f"{prefix}-{year}-{await next_number(self.connection, counter, self.tenant_id):04d}"

    async def credit_notes_of(self, invoice_number: str) -> list[Invoice]:
        query = self.scoped(invoices).where(invoices.c.credits == invoice_number)
        return [_invoice(row._mapping) for row in await self.connection.execute(query)]

    async def add(self, invoice: Invoice) -> None:
        await self.connection.execute(
            sa.insert(invoices).values(tenant_id=self.tenant_id, **_invoice_row(invoice))
        )

    async def save(self, invoice: Invoice) -> None:
        await self.connection.execute(
            sa.update(invoices)
            .where(
                invoices.c.tenant_id == self.tenant_id,
                invoices.c.invoice_id == invoice.invoice_id,
            )
            .values(**_invoice_row(invoice))
        )

    async def get(self, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
        query = self.scoped(invoices).where(invoices.c.invoice_id == invoice_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.connection.execute(query)).first()
        return _invoice(row._mapping) if row else None

    async def of_job(self, job_id: str) -> list[Invoice]:
        query = self.scoped(invoices).where(invoices.c.job_id == job_id).order_by(invoices.c.number)
        return [_invoice(row._mapping) for row in await self.connection.execute(query)]


def _invoice_row(invoice: Invoice) -> dict[str, Any]:
    return {
        **invoice.model_dump(exclude={"lines", "detail"}),
        "lines": [line.model_dump(mode="json") for line in invoice.lines],
        "detail": invoice.detail.model_dump(mode="json") if invoice.detail else None,
    }


def _invoice(row: Any) -> Invoice:
    return Invoice.model_validate({k: v for k, v in dict(row).items() if k != "tenant_id"})


class ClaimRepository(TenantScopedRepository):
    async def put(self, claim: Claim, deadline: date | None) -> None:
        values = {
            "data": claim.model_dump(mode="json"),
            "outstanding": claim.outstanding,
            "deadline": deadline,
        }
        await self.connection.execute(
            pg_insert(insurance_claims)
            .values(tenant_id=self.tenant_id, job_id=claim.job_id, **values)
            .on_conflict_do_update(
                index_elements=[insurance_claims.c.tenant_id, insurance_claims.c.job_id],
                set_=values,
            )
        )

    async def get(self, job_id: str, *, for_update: bool = False) -> Claim | None:
        c = insurance_claims
        query = self.scoped(c, c.c.data).where(c.c.job_id == job_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return Claim.model_validate(data) if data is not None else None


async def claims_to_watch(connection: AsyncConnection) -> list[tuple[str, str]]:
    """(tenant, job) of every claim with depreciation still to claim and a known deadline, in
    every tenant: the daily deadline watch."""
    c = insurance_claims
    query = (
        sa.select(c.c.tenant_id, c.c.job_id)
        .where(c.c.outstanding > 0, c.c.deadline.is_not(None))
        .order_by(c.c.deadline)
    )
    return [(row.tenant_id, row.job_id) for row in await connection.execute(query)]


class ReturnedCheckRepository(TenantScopedRepository):
    async def put(self, check: ReturnedCheck) -> None:
        values = {"data": check.model_dump(mode="json"), "closed": check.closed_at is not None}
        await self.connection.execute(
            pg_insert(returned_checks)
            .values(
                tenant_id=self.tenant_id,
                returned_check_id=check.returned_check_id,
                job_id=check.job_id,
                **values,
            )
            .on_conflict_do_update(
                index_elements=[returned_checks.c.tenant_id, returned_checks.c.returned_check_id],
                set_=values,
            )
        )

    async def get(
        self, returned_check_id: str, *, for_update: bool = False
    ) -> ReturnedCheck | None:
        r = returned_checks
        query = self.scoped(r, r.c.data).where(r.c.returned_check_id == returned_check_id)
        if for_update:
            query = query.with_for_update()
        data = (await self.connection.execute(query)).scalar_one_or_none()
        return ReturnedCheck.model_validate(data) if data is not None else None

    async def listed(self, *, open_only: bool) -> list[ReturnedCheck]:
        r = returned_checks
        query = self.scoped(r, r.c.data)
        if open_only:
            query = query.where(~r.c.closed)
        checks = [
            ReturnedCheck.model_validate(d)
            for d in (await self.connection.execute(query)).scalars()
        ]
        return sorted(checks, key=lambda c: c.opened_at)


class EscalationRepository(TenantScopedRepository):
    async def open(self, escalation: Escalation) -> bool:
        """False if the job has an open escalation already."""
        result = await self.connection.execute(
            pg_insert(escalations)
            .values(tenant_id=self.tenant_id, **escalation.model_dump())
            .on_conflict_do_nothing()
        )
        return result.rowcount == 1

    async def get(self, escalation_id: str, *, for_update: bool = False) -> Escalation | None:
        query = self.scoped(escalations).where(escalations.c.escalation_id == escalation_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.connection.execute(query)).first()
        return _escalation(row._mapping) if row else None

    async def save(self, escalation: Escalation) -> None:
        await self.connection.execute(
            sa.update(escalations)
            .where(
                escalations.c.tenant_id == self.tenant_id,
                escalations.c.escalation_id == escalation.escalation_id,
            )
            .values(**escalation.model_dump())
        )

    async def listed(self, *, open_only: bool) -> list[Escalation]:
        query = self.scoped(escalations).order_by(escalations.c.opened_at)
        if open_only:
            query = query.where(escalations.c.decision.is_(None))
        return [_escalation(row._mapping) for row in await self.connection.execute(query)]


def _escalation(row: Any) -> Escalation:
    return Escalation.model_validate({k: v for k, v in dict(row).items() if k != "tenant_id"})


class TimelineRepository(TenantScopedRepository):
    async def add(self, job_id: str, line: TimelineLine) -> None:
        await self.add_many([(job_id, line)])

    async def add_many(self, lines: list[tuple[str, TimelineLine]]) -> None:
        if lines:
            rows = [
                {"tenant_id": self.tenant_id, "job_id": job_id, **line.model_dump()}
                for job_id, line in lines
            ]
            # Parameters apart from the statement: one compiled insert, cached, for any run.
            await self.connection.execute(sa.insert(timeline), rows)

    async def of_job(self, job_id: str) -> list[TimelineLine]:
        query = (
            self.scoped(timeline, timeline.c.at, timeline.c.kind, timeline.c.text, timeline.c.by)
            .where(timeline.c.job_id == job_id)
            .order_by(timeline.c.id)
        )
        return [
            TimelineLine.model_validate(row._mapping)
            for row in await self.connection.execute(query)
        ]


class FinancingRepository(TenantScopedRepository):
    async def put(self, application: FinancingApplication) -> None:
        f = financing_applications
        values = application.model_dump(exclude={"application_id", "offers"})
        values["offers"] = [offer.model_dump(mode="json") for offer in application.offers]
        await self.connection.execute(
            pg_insert(f)
            .values(tenant_id=self.tenant_id, application_id=application.application_id, **values)
            .on_conflict_do_update(index_elements=[f.c.tenant_id, f.c.application_id], set_=values)
        )

    async def get(
        self, application_id: str, *, for_update: bool = False
    ) -> FinancingApplication | None:
        f = financing_applications
        query = self.scoped(f).where(f.c.application_id == application_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.connection.execute(query)).first()
        return _application(row._mapping) if row else None

    async def of_job(self, job_id: str) -> list[FinancingApplication]:
        f = financing_applications
        query = (
            self.scoped(f).where(f.c.job_id == job_id).order_by(f.c.created_at, f.c.application_id)
        )
        return [_application(row._mapping) for row in await self.connection.execute(query)]


def _application(row: Any) -> FinancingApplication:
    return FinancingApplication.model_validate(
        {k: v for k, v in dict(row).items() if k != "tenant_id"}
    )


def repositories(connection: AsyncConnection, tenant_id: str) -> BillingRepositories:
    return BillingRepositories(
        folders=FolderRepository(connection, tenant_id),
        records=MoneyRecordRepository(connection, tenant_id),
        idempotency=IdempotencyRepository(connection, tenant_id),
        escalations=EscalationRepository(connection, tenant_id),
        expenses=ExpenseRepository(connection, tenant_id),
        invoices=InvoiceRepository(connection, tenant_id),
        returned_checks=ReturnedCheckRepository(connection, tenant_id),
        timeline=TimelineRepository(connection, tenant_id),
        claims=ClaimRepository(connection, tenant_id),
        financing=FinancingRepository(connection, tenant_id),
        exports=ExportRepository(connection, tenant_id, exports),
        work_orders=WorkOrderRepository(connection, tenant_id, exports),
    )


def export_queue(connection: AsyncConnection) -> ExportQueueRepository:
    """The export worker's queue, across tenants."""
    return ExportQueueRepository(connection, exports)
