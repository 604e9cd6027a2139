"""The tickets domain. Pure: no I/O, no framework.

Thin slice: what a service ticket will need to know about a past job, its customer and property,
kept from jobs' leads.
"""

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
