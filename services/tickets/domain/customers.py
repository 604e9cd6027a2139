"""The customer and property of a new lead, kept so that a service ticket for the job can be
opened later (answered with ``tickets.customer_recorded.v1``, which jobs counts as tickets'
acknowledgement)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class JobCustomer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    customer_name: str
    property_address: str


class JobCustomerRecord(JobCustomer):
    """A job's customer as kept: with when it was recorded."""

    tenant_id: str
    recorded_at: datetime


class CustomerNotFound(LookupError):
    """No customer is kept for that job in the caller's tenant."""
