"""Finance folders: one opened per new lead (answered with ``billing.finance_folder_opened.v1``,
which jobs counts as billing's acknowledgement), kept up to date from jobs' events (the
customer, the contract price, change orders, completion), read by the office."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from services.billing.domain import Balance, Financing, Folder, MoneyRecord
from services.billing.domain.folder import JobLine
from services.billing.domain.ledger import balance_of
from services.billing.handlers.books import book, folder_of, settle_release
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import FinanceFolderOpened
from shared.contracts.jobs import (
    ChangeOrderAdded,
    ContractSigned,
    JobSold,
    LeadCreated,
    MilestoneChanged,
)
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope

COMPLETED = "completed"  # the jobs milestone after which a zero balance is the final payment


class FolderView(BaseModel):
    folder: Folder
    balance: Balance
    records: list[MoneyRecord]


class CustomerBalance(BaseModel):
    customer_key: str
    jobs: list[FolderView]
    balance: Balance


async def open_finance_folder(
    uow: BillingUnitOfWork, envelope: Envelope, lead: LeadCreated
) -> None:
    folder = Folder(
        job_id=lead.job_id,
        customer_name=lead.customer_name,
        customer_email=lead.email,
        customer_phone=lead.phone,
        opened_at=envelope.time,
    )
    if await uow.repos.folders.add(folder):
        uow.record(FinanceFolderOpened(job_id=lead.job_id), subject=lead.job_id, cause=envelope)


async def record_sale(uow: BillingUnitOfWork, envelope: Envelope, sold: JobSold) -> None:
    folder = await uow.repos.folders.get(sold.job_id, for_update=True)
    if folder is None:
        return
    update: dict[str, object] = {
        "customer_email": sold.customer.email or folder.customer_email,
        "customer_phone": sold.customer.phone or folder.customer_phone,
        "line_items": tuple(JobLine.model_validate(i.model_dump()) for i in sold.line_items),
    }
    if folder.contract_price is None and sold.contract_price is not None:
        update["contract_price"] = sold.contract_price
    await uow.repos.folders.save(folder.model_copy(update=update))


async def record_contract(
    uow: BillingUnitOfWork, envelope: Envelope, signed: ContractSigned
) -> None:
    folder = await uow.repos.folders.get(signed.job_id, for_update=True)
    if folder is not None:
        folder = folder.model_copy(update={"contract_price": signed.contract_price})
        await uow.repos.folders.save(folder)
        records = await uow.repos.records.of_job(folder.job_id)
        await settle_release(
            uow, folder, records, signed.signed_on, reason="contract price", cause=envelope
        )


async def record_change_order(
    uow: BillingUnitOfWork, envelope: Envelope, change: ChangeOrderAdded
) -> None:
    folder = await uow.repos.folders.get(change.job_id, for_update=True)
    if folder is None:
        return
    record = MoneyRecord(
        record_id=change.change_order_id,
        kind="change_order",
        amount=change.amount,
        on=change.signed_on,
        description=change.note,
        by=change.by,
        recorded_at=envelope.time,
    )
    await book(uow, folder, record, cause=envelope)


async def record_milestone(
    uow: BillingUnitOfWork, envelope: Envelope, moved: MilestoneChanged
) -> None:
    if moved.to_milestone != COMPLETED:
        return
    folder = await uow.repos.folders.get(moved.job_id, for_update=True)
    if folder is None or folder.completed:
        return
    folder = folder.model_copy(update={"completed": True})
    await uow.repos.folders.save(folder)
    records = await uow.repos.records.of_job(folder.job_id)
    await settle_release(
        uow, folder, records, envelope.time.date(), reason="completed", cause=envelope
    )


async def read_folder(deps: BillingDeps, tenant_id: str, job_id: str) -> FolderView:
    async with deps.unit_of_work(tenant_id) as uow:
        return await _view(uow, await folder_of(uow, job_id))


async def _view(uow: BillingUnitOfWork, folder: Folder) -> FolderView:
    records = await uow.repos.records.of_job(folder.job_id)
    return FolderView(
        folder=folder, balance=balance_of(folder.contract_price, records), records=records
    )


async def customer_balance(deps: BillingDeps, caller: Caller, job_id: str) -> CustomerBalance:
    """Every job of the job's customer, and what they owe in all."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id)
        jobs = [
            await _view(uow, f) for f in await uow.repos.folders.of_customer(folder.customer_key)
        ]
    every = [record for view in jobs for record in view.records]
    contract = sum((view.balance.contract_price for view in jobs), start=Decimal("0.00"))
    return CustomerBalance(
        customer_key=folder.customer_key, jobs=jobs, balance=balance_of(contract, every)
    )


async def put_financing(
    deps: BillingDeps, caller: Caller, job_id: str, financing: Financing
) -> Folder:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        folder = folder.model_copy(update={"financing": financing})
        await uow.repos.folders.save(folder)
        await uow.commit()
    return folder
