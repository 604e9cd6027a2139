"""What every change to a job's money shares: the balance derived from its records, and the
release it means (the final payment reported once; undone if a reversal reopens the balance)."""

from __future__ import annotations

from datetime import date

from services.billing.domain import Balance, Folder, FolderNotFound, MoneyRecord
from services.billing.domain.books import entry, release
from services.billing.handlers import exports
from services.billing.ports import BillingUnitOfWork
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
    balance, line, recorded = entry(folder, records, record)
    await uow.repos.timeline.add(folder.job_id, line)
    uow.record(recorded, subject=folder.job_id, cause=cause)
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
    after, released = release(folder, records, on, reason)
    if released is not None:
        uow.record(released, subject=folder.job_id, cause=cause)
        await uow.repos.folders.save(after)
    return after
