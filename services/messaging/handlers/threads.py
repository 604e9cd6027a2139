"""Job threads: one opened per new lead (answered with ``messaging.thread_opened.v1``, which jobs
counts as messaging's acknowledgement); its members follow the job's crew; read by the office
and by the installers on the job."""

from __future__ import annotations

import uuid

from services.messaging.domain import Thread, ThreadNotFound, ThreadRecord
from services.messaging.ports import MessagingDeps, MessagingUnitOfWork
from shared.contracts.jobs import CrewAssigned, LeadCreated
from shared.contracts.messaging import ThreadOpened
from shared.platform.http.auth import Caller, sees_only_own_work
from shared.platform.messaging.envelope import Envelope


async def open_thread(uow: MessagingUnitOfWork, envelope: Envelope, lead: LeadCreated) -> None:
    thread = Thread(job_id=lead.job_id, thread_id=str(uuid.uuid4()))
    if await uow.repos.threads.add(thread):
        uow.record(ThreadOpened(**thread.model_dump()), subject=lead.job_id, cause=envelope)


async def record_crew(uow: MessagingUnitOfWork, envelope: Envelope, assigned: CrewAssigned) -> None:
    await uow.repos.members.replace(assigned.job_id, assigned.member_ids)


async def read_thread(deps: MessagingDeps, caller: Caller, job_id: str) -> ThreadRecord:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        found = await uow.repos.threads.get(job_id)
        if sees_only_own_work(caller) and not await uow.repos.members.includes(
            job_id, caller.user_id
        ):
            found = None  # not their job: as if it did not exist
    if found is None:
        raise ThreadNotFound(f"no message thread for job {job_id}")
    return found
