"""What tickets keeps of jobs, from jobs' events: a new lead's customer (answered with
``tickets.customer_recorded.v1``, which jobs counts as tickets' acknowledgement), a sold job's
number, trades and customer, and the crew that installed it (a callback shows it); and reading
a job's customer for the office."""

from __future__ import annotations

from services.tickets.domain import CustomerNotFound, JobCustomerRecord
from services.tickets.domain.values import Customer
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.contracts.jobs import CrewAssigned, CustomerContact, JobSold, LeadCreated
from shared.contracts.tickets import CustomerRecorded
from shared.platform.messaging.envelope import Envelope


def _customer(contact: CustomerContact) -> Customer:
    return Customer(
        name=contact.name,
        property_address=contact.property_address,
        phone=contact.phone,
        email=contact.email,
    )


async def record_customer(uow: TicketsUnitOfWork, envelope: Envelope, lead: LeadCreated) -> None:
    customer = Customer(
        name=lead.customer_name,
        property_address=lead.property_address,
        phone=lead.phone,
        email=lead.email,
    )
    if await uow.repos.jobs.add_lead(lead.job_id, customer):
        uow.record(
            CustomerRecorded(
                job_id=lead.job_id,
                customer_name=lead.customer_name,
                property_address=lead.property_address,
            ),
            subject=lead.job_id,
            cause=envelope,
        )


async def record_sale(uow: TicketsUnitOfWork, envelope: Envelope, sold: JobSold) -> None:
    await uow.repos.jobs.sold(
        sold.job_id,
        job_number=sold.job_number,
        trades=sold.trades,
        customer=_customer(sold.customer),
    )


async def record_crew(uow: TicketsUnitOfWork, envelope: Envelope, assigned: CrewAssigned) -> None:
    await uow.repos.jobs.crew_assigned(
        assigned.job_id,
        crew_id=assigned.crew_id,
        crew_name=assigned.crew_name,
        member_ids=assigned.member_ids,
        customer=_customer(assigned.customer),
    )


async def read_customer(deps: TicketsDeps, tenant_id: str, job_id: str) -> JobCustomerRecord:
    async with deps.unit_of_work(tenant_id) as uow:
        found = await uow.repos.jobs.customer(job_id)
    if found is None:
        raise CustomerNotFound(f"no customer record for job {job_id}")
    return found
