"""What every change to a job's money shares: the balance derived from its records, and the
release it means (the final payment reported once; undone if a reversal reopens the balance)."""

from __future__ import annotations

from datetime import date

from services.billing.domain import Balance, Folder, FolderNotFound, MoneyRecord, balance_of
from services.billing.domain.collections import TimelineLine
from services.billing.handlers import exports
from services.billing.ports import BillingUnitOfWork
from shared.contracts.billing import FinalPaymentReceived, FinalPaymentReversed, MoneyRecorded
from shared.platform.messaging.envelope import Envelope


async def folder_of(uow: BillingUnitOfWork, job_id: str, *, for_update: bool = False) -> Folder:
    """The job's finance folder (``for_update``: held until commit, so changes to one job's
    money take turns), or ``FolderNotFound``."""
    folder = await uow.repos.folders.get(job_id, for_update=for_update)
    if folder is None:
        raise FolderNotFound(f"no finance folder for job {job_id}")
    return folder


async def book(
    uow: BillingUnitOfWork,
    folder: Folder,
    record: MoneyRecord,
    *,
    cause: Envelope | None = None,
) -> Balance | None:
    """Keep the record (once), publish it with the balance after it, and settle the release.
    None if the record was kept before (a replay): nothing changes."""
    if not await uow.repos.records.add(record, folder.job_id):
        return None
    records = await uow.repos.records.of_job(folder.job_id)
    balance = balance_of(folder.contract_price, records)
    text = f"{record.kind.replace('_', ' ')} {record.amount}"
    text += f" ({record.method})" if record.method else ""
    text += f": {record.description}" if record.description else ""
    line = TimelineLine(
        at=record.recorded_at,
        kind=record.kind,
        text=f"{text}; balance {balance.balance}",
        by=record.by,
    )
    await uow.repos.timeline.add(folder.job_id, line)
    uow.record(
        MoneyRecorded(
            job_id=folder.job_id,
            record_id=record.record_id,
            kind=record.kind,
            amount=record.amount,
            on=record.on,
            method=record.method,
            financing=record.financing,
            reverses=record.reverses,
            balance=balance.balance,
        ),
        subject=folder.job_id,
        cause=cause,
    )
    await settle_release(uow, folder, records, record.on, reason=record.description, cause=cause)
    if record.kind == "payment":  # queued for the accounting system with the record
        await exports.queue_payment(uow, folder, record)
    return balance


async def settle_release(
    uow: BillingUnitOfWork,
    folder: Folder,
    records: list[MoneyRecord],
    on: date,
    *,
    reason: str,
    cause: Envelope | None = None,
) -> Folder:
    """Report the final payment of a completed job paid in full, once; or its undoing."""
    balance = balance_of(folder.contract_price, records)
    change = folder.release_after(balance.balance)
    if change == "released":
        folder = folder.model_copy(update={"released_on": on})
        paid = balance.payments - balance.refunds - balance.reversals
        uow.record(
            FinalPaymentReceived(job_id=folder.job_id, amount=paid, received_on=on),
            subject=folder.job_id,
            cause=cause,
        )
    elif change == "unreleased":
        folder = folder.model_copy(update={"released_on": None})
        uow.record(
            FinalPaymentReversed(job_id=folder.job_id, balance=balance.balance, reason=reason),
            subject=folder.job_id,
            cause=cause,
        )
    if change is not None:
        await uow.repos.folders.save(folder)
    return folder
