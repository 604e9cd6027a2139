"""Commissions handlers (thin slice): answer a new lead."""

from __future__ import annotations

from services.commissions.tables import JobSalesmen
from shared.contracts.commissions import SalesmanRecorded
from shared.contracts.jobs import LeadCreated
from shared.platform.messaging.envelope import Envelope
from shared.platform.storage.uow import UnitOfWork


async def record_salesman(uow: UnitOfWork, envelope: Envelope, lead: LeadCreated) -> None:
    row_values = dict(salesman_id=lead.salesman_id)
    if await JobSalesmen(uow.connection, envelope.tenant_id).add(lead.job_id, **row_values):
        uow.record(
            SalesmanRecorded(job_id=lead.job_id, salesman_id=lead.salesman_id),
            subject=lead.job_id,
            tenant_id=envelope.tenant_id,
            cause=envelope,
        )
