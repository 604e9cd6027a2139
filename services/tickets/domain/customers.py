"""A job's customer as the office reads it (``GET /customers/{job_id}``): kept from jobs' lead,
with when tickets recorded it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class JobCustomerRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    customer_name: str
    property_address: str
    tenant_id: str
    recorded_at: datetime


class CustomerNotFound(LookupError):
    """No customer is kept for that job in the caller's tenant."""
