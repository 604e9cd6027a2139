"""What tickets knows of jobs, from jobs' events: a ticket for a past job takes its customer,
address and trades from here, and a callback shows which crew did the original work."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.tickets.domain.values import Customer


class PastJob(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    job_id: str
    job_number: str | None = None
    customer: Customer
    trades: tuple[str, ...] = Field(default_factory=tuple)
    crew_id: str | None = Field(None, description="The crew that installed the job.")
    crew_name: str | None = None
