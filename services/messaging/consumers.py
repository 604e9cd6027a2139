"""Messaging subscribers (thin: envelope -> handler, in the consumer's unit of work)."""

from __future__ import annotations

from services.messaging.handlers import threads
from services.messaging.ports import MessagingRepositories
from shared.contracts.jobs import CrewAssigned, LeadCreated
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(
    platform: ServicePlatform, uows: TenantUnitOfWorkFactory[MessagingRepositories]
) -> None:
    platform.consumer.on(LeadCreated)(uows.handler(threads.open_thread))
    platform.consumer.on(CrewAssigned)(uows.handler(threads.record_crew))
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
