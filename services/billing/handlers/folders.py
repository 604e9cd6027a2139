"""Finance folders: one opened per new lead (answered with ``billing.finance_folder_opened.v1``,
which jobs counts as billing's acknowledgement), kept up to date from jobs' events (the
customer, the contract price, the line items, change orders, completion), read by the office."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from services.billing.domain import Balance, Financing, Folder, MoneyRecord
from services.billing.domain.books import entry, release
from services.billing.domain.collections import TimelineLine
from services.billing.domain.folder import job_lines
from services.billing.domain.ledger import balance_from, balance_of
from services.billing.handlers.books import folder_of
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import FinanceFolderOpened
from shared.contracts.jobs import (
    ChangeOrderAdded,
    ContractSigned,
    JobSold,
    LeadCreated,
    LineItemsChanged,
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


async def project_jobs(uow: BillingUnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
    """A run of jobs' events, folded in order over the folders and the money records they touch,
    then written at once (a run of hundreds of events is a handful of statements).

    A new lead opens the job's folder (answered with ``billing.finance_folder_opened.v1``); a
    sale, a contract, the line items and completion update it; a change order is a record of its
    own (kept once: a replay changes nothing). A contract price, a change order or completion
    may make a completed job's balance its final payment (reported once)."""
    ids = sorted({event.job_id for _, event in events})
    folders = await uow.repos.folders.get_many(ids, for_update=True)
    records = await uow.repos.records.of_jobs(ids)
    changed: dict[str, Folder] = {}
    new_records: list[tuple[str, MoneyRecord]] = []
    lines: list[tuple[str, TimelineLine]] = []
    for envelope, event in events:
        job_id, folder = event.job_id, folders.get(event.job_id)
        if isinstance(event, LeadCreated):
            if folder is None:  # else a replayed lead: the folder is kept as it is
                folders[job_id] = changed[job_id] = Folder.opened_by(event, envelope.time)
                uow.record(FinanceFolderOpened(job_id=job_id), subject=job_id, cause=envelope)
            continue
        if folder is None:  # a job whose lead billing never saw
            continue
        settle: tuple[date, str] | None = None
        kept = records.setdefault(job_id, [])
        if isinstance(event, JobSold):
            folder = folder.sold(event)
        elif isinstance(event, LineItemsChanged):
            folder = folder.model_copy(update={"line_items": job_lines(event.line_items)})
        elif isinstance(event, ContractSigned):
            folder = folder.model_copy(update={"contract_price": event.contract_price})
            settle = (event.signed_on, "contract price")
        elif isinstance(event, MilestoneChanged):
            if event.to_milestone != COMPLETED or folder.completed:
                continue
            folder = folder.model_copy(update={"completed": True})
            settle = (envelope.time.date(), "completed")
        elif isinstance(event, ChangeOrderAdded):
            record = change_order_record(event, envelope.time)
            if any(r.record_id == record.record_id for r in kept):
                continue  # a replay: kept once
            kept.append(record)
            new_records.append((job_id, record))
            _, line, recorded = entry(folder, kept, record)
            lines.append((job_id, line))
            uow.record(recorded, subject=job_id, cause=envelope)
            settle = (record.on, record.description)
        if settle is not None:
            folder, released = release(folder, kept, *settle)
            if released is not None:
                uow.record(released, subject=job_id, cause=envelope)
        folders[job_id] = changed[job_id] = folder
    await uow.repos.folders.put_many(list(changed.values()))
    await uow.repos.records.add_many(new_records)
    await uow.repos.timeline.add_many(lines)


def change_order_record(change: ChangeOrderAdded, at: datetime) -> MoneyRecord:
    """A change order on the books: its own record, signed (a credit is negative)."""
    return MoneyRecord(
        record_id=change.change_order_id,
        kind="change_order",
        amount=change.amount,
        on=change.signed_on,
        description=change.note,
        by=change.by,
        recorded_at=at,
    )


async def read_folder(deps: BillingDeps, tenant_id: str, job_id: str) -> FolderView:
    async with deps.unit_of_work(tenant_id) as uow:
        return await _view(uow, await folder_of(uow, job_id))


async def read_balance(deps: BillingDeps, tenant_id: str, job_id: str) -> Balance:
    """The job's balance, summed by the database (a job may have a thousand records)."""
    async with deps.unit_of_work(tenant_id) as uow:
        folder = await folder_of(uow, job_id)
        return balance_from(folder.contract_price, await uow.repos.records.totals(job_id))


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
