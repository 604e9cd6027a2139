"""The commissions domain. Pure: no I/O, no framework.

Thin slice: the salesman credited with each job (who took the lead).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class JobSalesman(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    salesman_id: str


class JobSalesmanRecord(JobSalesman):
    """A job's salesman as kept: with when it was recorded."""

    tenant_id: str
    recorded_at: datetime


class SalesmanNotFound(LookupError):
    """No salesman is kept for that job in the caller's tenant."""
