"""Tickets subscribers (thin: envelope -> handler, in the consumer's unit of work): what tickets
keeps of jobs."""

from __future__ import annotations

from services.tickets.handlers import past_jobs
from services.tickets.ports import TicketsRepositories
from shared.contracts.jobs import CrewAssigned, JobSold, LeadCreated
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(platform: ServicePlatform, uows: TenantUnitOfWorkFactory[TicketsRepositories]) -> None:
    # One handler for the three: a run of them is folded in order and written at once.
    platform.consumer.on_batch(LeadCreated, JobSold, CrewAssigned)(
        uows.batch_handler(past_jobs.project_jobs)
    )
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
