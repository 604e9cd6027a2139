"""The salesman of each job: credited from jobs' leads (answered with
``commissions.salesman_recorded.v1``, which jobs counts as commissions' acknowledgement)."""

from __future__ import annotations

from services.commissions.domain import JobSalesman, JobSalesmanRecord, SalesmanNotFound
from services.commissions.ports import CommissionsDeps, CommissionsUnitOfWork
from shared.contracts.commissions import SalesmanRecorded
from shared.contracts.jobs import LeadCreated
from shared.platform.messaging.envelope import Envelope


async def record_salesman(
    uow: CommissionsUnitOfWork, envelope: Envelope, lead: LeadCreated
) -> None:
    salesman = JobSalesman(job_id=lead.job_id, salesman_id=lead.salesman_id)
    if await uow.repos.salesmen.add(salesman):
        uow.record(SalesmanRecorded(**salesman.model_dump()), subject=lead.job_id, cause=envelope)


async def read_salesman(deps: CommissionsDeps, tenant_id: str, job_id: str) -> JobSalesmanRecord:
    async with deps.unit_of_work(tenant_id) as uow:
        found = await uow.repos.salesmen.get(job_id)
    if found is None:
        raise SalesmanNotFound(f"no salesman record for job {job_id}")
    return found
