"""What tickets keeps of jobs, from jobs' events (a new lead's customer, a sold job's number,
trades and customer, the crew that installed it), and reading a job's customer for the office.

The consumer hands a run of jobs' events over at once: they are folded in order, job by job,
over what was kept (``apply_job_event``), and written with one statement; each new lead is
answered with ``tickets.customer_recorded.v1``, which jobs counts as tickets' acknowledgement.
"""

from __future__ import annotations

from typing import Any

from services.tickets.domain import CustomerNotFound, JobCustomerRecord
from services.tickets.domain.past_jobs import PastJob, apply_job_event
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.contracts.jobs import CrewAssigned, LeadCreated
from shared.contracts.tickets import CustomerRecorded
from shared.platform.messaging.envelope import Envelope


async def project_jobs(uow: TicketsUnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
    kept = await uow.repos.jobs.get_many(sorted({event.job_id for _, event in events}))
    changed: dict[str, PastJob] = {}
    crews: dict[str, list[str]] = {}  # each crew's members as the run last names them
    for envelope, event in events:
        if isinstance(event, CrewAssigned):
            crews[event.crew_id] = list(event.member_ids)
        after = apply_job_event(kept.get(event.job_id), event)
        if after is None:
            continue
        kept[event.job_id] = changed[event.job_id] = after
        if isinstance(event, LeadCreated):
            uow.record(
                CustomerRecorded(
                    job_id=event.job_id,
                    customer_name=event.customer_name,
                    property_address=event.property_address,
                ),
                subject=event.job_id,
                cause=envelope,
            )
    await uow.repos.jobs.put_many(list(changed.values()))
    await uow.repos.jobs.set_crews(crews)


async def read_customer(deps: TicketsDeps, tenant_id: str, job_id: str) -> JobCustomerRecord:
    async with deps.unit_of_work(tenant_id) as uow:
        found = await uow.repos.jobs.customer(job_id)
    if found is None:
        raise CustomerNotFound(f"no customer record for job {job_id}")
    return found
