"""Messaging subscribers (thin: envelope -> handler)."""

from __future__ import annotations

from services.messaging.handlers import open_thread, record_crew
from shared.contracts.jobs import CrewAssigned, LeadCreated
from shared.platform.service import ServicePlatform


def register(platform: ServicePlatform) -> None:
    platform.consumer.on(LeadCreated)(open_thread)
    platform.consumer.on(CrewAssigned)(record_crew)
    platform.consumer.subscribe(platform.broker, platform.settings.topic("jobs"))
