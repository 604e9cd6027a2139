"""Commissions subscribers (thin: envelope -> handler, in the consumer's unit of work)."""

from __future__ import annotations

from services.commissions.handlers import salesmen
from services.commissions.ports import CommissionsRepositories
from shared.contracts.jobs import LeadCreated
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(
    platform: ServicePlatform, uows: TenantUnitOfWorkFactory[CommissionsRepositories]
) -> None:
    platform.consumer.on(LeadCreated)(uows.handler(salesmen.record_salesman))
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
