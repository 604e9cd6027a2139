"""A job's customer: kept from jobs' leads (answered with ``tickets.customer_recorded.v1``, which
jobs counts as tickets' acknowledgement), and read by the office."""

from __future__ import annotations

from services.tickets.domain import CustomerNotFound, JobCustomer, JobCustomerRecord
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.contracts.jobs import LeadCreated
from shared.contracts.tickets import CustomerRecorded
from shared.platform.messaging.envelope import Envelope


async def record_customer(uow: TicketsUnitOfWork, envelope: Envelope, lead: LeadCreated) -> None:
    customer = JobCustomer(
        job_id=lead.job_id,
        customer_name=lead.customer_name,
        property_address=lead.property_address,
    )
    if await uow.repos.customers.add(customer):
        uow.record(CustomerRecorded(**customer.model_dump()), subject=lead.job_id, cause=envelope)


async def read_customer(deps: TicketsDeps, tenant_id: str, job_id: str) -> JobCustomerRecord:
    async with deps.unit_of_work(tenant_id) as uow:
        found = await uow.repos.customers.get(job_id)
    if found is None:
        raise CustomerNotFound(f"no customer record for job {job_id}")
    return found
