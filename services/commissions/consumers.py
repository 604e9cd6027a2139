"""Commissions subscribers (thin: envelope -> handler)."""

from __future__ import annotations

from services.commissions.handlers import record_salesman
from shared.contracts.jobs import LeadCreated
from shared.platform.service import ServicePlatform


def register(platform: ServicePlatform) -> None:
    platform.consumer.on(LeadCreated)(record_salesman)
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
