"""Tickets subscribers (thin: envelope -> handler)."""

from __future__ import annotations

from services.tickets.handlers import record_customer
from shared.contracts.jobs import LeadCreated
from shared.platform.service import ServicePlatform


def register(platform: ServicePlatform) -> None:
    platform.consumer.on(LeadCreated)(record_customer)
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
