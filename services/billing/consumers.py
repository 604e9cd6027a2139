"""Billing subscribers (thin: envelope -> handler, in the consumer's unit of work)."""

from __future__ import annotations

from services.billing.handlers import folders
from services.billing.ports import BillingRepositories
from shared.contracts.jobs import LeadCreated
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(platform: ServicePlatform, uows: TenantUnitOfWorkFactory[BillingRepositories]) -> None:
    platform.consumer.on(LeadCreated)(uows.handler(folders.open_finance_folder))
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
