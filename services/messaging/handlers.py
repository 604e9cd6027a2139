"""Messaging handlers (thin slice): answer a new lead; keep who is on each job's crew."""

from __future__ import annotations

import uuid

from services.messaging.tables import ThreadMembers, Threads
from shared.contracts.jobs import CrewAssigned, LeadCreated
from shared.contracts.messaging import ThreadOpened
from shared.platform.messaging.envelope import Envelope
from shared.platform.storage.uow import UnitOfWork


async def open_thread(uow: UnitOfWork, envelope: Envelope, lead: LeadCreated) -> None:
    row_values = dict(thread_id=str(uuid.uuid4()))
    if await Threads(uow.connection, envelope.tenant_id).add(lead.job_id, **row_values):
        uow.record(
            ThreadOpened(job_id=lead.job_id, thread_id=row_values["thread_id"]),
            subject=lead.job_id,
            tenant_id=envelope.tenant_id,
            cause=envelope,
        )


async def record_crew(uow: UnitOfWork, envelope: Envelope, assigned: CrewAssigned) -> None:
    await ThreadMembers(uow.connection, envelope.tenant_id).replace(
        assigned.job_id, assigned.member_ids
    )
