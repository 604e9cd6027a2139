"""Tickets subscribers (thin: envelope -> handler, in the consumer's unit of work)."""

from __future__ import annotations

from services.tickets.handlers import customers
from services.tickets.ports import TicketsRepositories
from shared.contracts.jobs import LeadCreated
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(platform: ServicePlatform, uows: TenantUnitOfWorkFactory[TicketsRepositories]) -> None:
    platform.consumer.on(LeadCreated)(uows.handler(customers.record_customer))
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
