"""Other services' events, handled in the consumer's unit of work (with its inbox row)."""

from __future__ import annotations

from datetime import datetime

from services.jobs.ports import JobsUnitOfWork


async def record_acknowledgement(
    uow: JobsUnitOfWork, job_id: str, service: str, event_type: str, event_id: str, at: datetime
) -> None:
    """Another service answered a lead: note which one, once (in the consumer's unit of work)."""
    await uow.repos.jobs.acknowledge(job_id, service, event_type, event_id, at)
