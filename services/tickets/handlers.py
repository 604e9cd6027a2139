"""Tickets handlers (thin slice): answer a new lead."""

from __future__ import annotations

from services.tickets.tables import JobCustomers
from shared.contracts.jobs import LeadCreated
from shared.contracts.tickets import CustomerRecorded
from shared.platform.messaging.envelope import Envelope
from shared.platform.storage.uow import UnitOfWork


async def record_customer(uow: UnitOfWork, envelope: Envelope, lead: LeadCreated) -> None:
    row_values = dict(customer_name=lead.customer_name, property_address=lead.property_address)
    if await JobCustomers(uow.connection, envelope.tenant_id).add(lead.job_id, **row_values):
        uow.record(
            CustomerRecorded(
                job_id=lead.job_id,
                customer_name=lead.customer_name,
                property_address=lead.property_address,
            ),
            subject=lead.job_id,
            tenant_id=envelope.tenant_id,
            cause=envelope,
        )
