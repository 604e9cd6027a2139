"""Events the jobs service publishes on ``roofline.jobs.events`` (keyed by job id)."""

from __future__ import annotations

from pydantic import EmailStr, Field

from shared.events import EventData, catalogued


@catalogued("jobs.lead_created.v1")
class LeadCreated(EventData):
    job_id: str
    customer_name: str = Field(min_length=1, max_length=200)
    phone: str | None = None
    email: EmailStr | None = None
    property_address: str = Field(min_length=1, max_length=500)
    salesman_id: str = Field(description="User who took the lead; commissions credits them.")
