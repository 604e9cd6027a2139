"""Billing subscribers (thin: envelope -> handler)."""

from __future__ import annotations

from services.billing.handlers import open_finance_folder
from shared.contracts.jobs import LeadCreated
from shared.platform.service import ServicePlatform


def register(platform: ServicePlatform) -> None:
    platform.consumer.on(LeadCreated)(open_finance_folder)
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
