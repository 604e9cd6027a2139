"""Finance folders: one opened per new lead (answered with ``billing.finance_folder_opened.v1``,
which jobs counts as billing's acknowledgement), read by the office."""

from __future__ import annotations

from services.billing.domain import FinanceFolder, FinanceFolderRecord, FolderNotFound
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import FinanceFolderOpened
from shared.contracts.jobs import LeadCreated
from shared.platform.messaging.envelope import Envelope


async def open_finance_folder(
    uow: BillingUnitOfWork, envelope: Envelope, lead: LeadCreated
) -> None:
    folder = FinanceFolder(job_id=lead.job_id, customer_name=lead.customer_name)
    if await uow.repos.folders.add(folder):
        uow.record(FinanceFolderOpened(job_id=lead.job_id), subject=lead.job_id, cause=envelope)


async def read_folder(deps: BillingDeps, tenant_id: str, job_id: str) -> FinanceFolderRecord:
    async with deps.unit_of_work(tenant_id) as uow:
        found = await uow.repos.folders.get(job_id)
    if found is None:
        raise FolderNotFound(f"no finance folder for job {job_id}")
    return found
