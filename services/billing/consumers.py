"""Billing subscribers (thin: envelope -> handler, in the consumer's unit of work): what billing
keeps of jobs."""

from __future__ import annotations

from services.billing.handlers import folders
from services.billing.ports import BillingRepositories
from shared.contracts.jobs import (
    ChangeOrderAdded,
    ContractSigned,
    JobSold,
    LeadCreated,
    MilestoneChanged,
)
from shared.platform.service import ServicePlatform
from shared.platform.storage.uow import TenantUnitOfWorkFactory


def register(platform: ServicePlatform, uows: TenantUnitOfWorkFactory[BillingRepositories]) -> None:
    consumer = platform.consumer
    consumer.on(LeadCreated)(uows.handler(folders.open_finance_folder))
    consumer.on(JobSold)(uows.handler(folders.record_sale))
    consumer.on(ContractSigned)(uows.handler(folders.record_contract))
    consumer.on(ChangeOrderAdded)(uows.handler(folders.record_change_order))
    consumer.on(MilestoneChanged)(uows.handler(folders.record_milestone))
    consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
