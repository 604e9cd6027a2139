"""Jobs handlers: load through the unit of work, call the domain, record events, commit."""

from __future__ import annotations

from pydantic import BaseModel, EmailStr, Field

from services.jobs.domain import Lead
from services.jobs.tables import JobRepository
from shared.auth import Caller
from shared.events import Envelope
from shared.uow import UnitOfWork, UnitOfWorkFactory


class CreateLead(BaseModel):
    """A new lead: who the customer is, how to reach them, and where the roof is."""

    customer_name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: EmailStr | None = None
    property_address: str = Field(min_length=1, max_length=500)


async def create_lead(uow_factory: UnitOfWorkFactory, caller: Caller, command: CreateLead) -> Lead:
    lead, event = Lead.create(
        tenant_id=caller.tenant_id,
        customer_name=command.customer_name,
        property_address=command.property_address,
        salesman_id=caller.user_id,
        phone=command.phone,
        email=str(command.email) if command.email else None,
    )
    async with uow_factory() as uow:
        await JobRepository(uow.connection, caller.tenant_id).add(lead)
        uow.record(event, subject=lead.job_id, tenant_id=caller.tenant_id, sequence=1)
        await uow.commit()
    return lead


async def get_job(uow_factory: UnitOfWorkFactory, caller: Caller, job_id: str) -> Lead | None:
    async with uow_factory() as uow:
        return await JobRepository(uow.connection, caller.tenant_id).get(job_id)


async def record_acknowledgement(uow: UnitOfWork, envelope: Envelope, event: object) -> None:
    """Another service answered a lead: note which one, once."""
    await JobRepository(uow.connection, envelope.tenant_id).acknowledge(
        job_id=envelope.subject,
        service=envelope.source,
        event_type=envelope.type,
        event_id=str(envelope.id),
        at=envelope.time,
    )
