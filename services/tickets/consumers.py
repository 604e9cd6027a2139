"""Tickets subscribers (thin: envelope -> handler, in the consumer's unit of work): what tickets
keeps of jobs."""

from __future__ import annotations

from services.tickets.handlers import past_jobs
from services.tickets.ports import TicketsRepositories
from shared.contracts.jobs import CrewAssigned, JobSold, LeadCreated
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(platform: ServicePlatform, uows: TenantUnitOfWorkFactory[TicketsRepositories]) -> None:
    platform.consumer.on(LeadCreated)(uows.handler(past_jobs.record_customer))
    platform.consumer.on(JobSold)(uows.handler(past_jobs.record_sale))
    platform.consumer.on(CrewAssigned)(uows.handler(past_jobs.record_crew))
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
