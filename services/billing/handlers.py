"""Billing handlers (thin slice): a new lead gets an empty finance folder."""

from __future__ import annotations

from services.billing.tables import FinanceFolders
from shared.contracts.billing import FinanceFolderOpened
from shared.contracts.jobs import LeadCreated
from shared.platform.messaging.envelope import Envelope
from shared.platform.storage.uow import UnitOfWork


async def open_finance_folder(uow: UnitOfWork, envelope: Envelope, lead: LeadCreated) -> None:
    folders = FinanceFolders(uow.connection, envelope.tenant_id)
    if await folders.add(lead.job_id, customer_name=lead.customer_name):
        uow.record(
            FinanceFolderOpened(job_id=lead.job_id),
            subject=lead.job_id,
            tenant_id=envelope.tenant_id,
            cause=envelope,
        )
