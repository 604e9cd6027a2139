"""Jobs subscribers: the other services' answers to a new lead (thin: envelope -> handler)."""

from __future__ import annotations

from services.jobs.domain import ACKNOWLEDGING_SERVICES
from services.jobs.handlers import record_acknowledgement
from shared.catalog.billing import FinanceFolderOpened
from shared.catalog.commissions import SalesmanRecorded
from shared.catalog.messaging import ThreadOpened
from shared.catalog.tickets import CustomerRecorded
from shared.platform import ServicePlatform


def register(platform: ServicePlatform) -> None:
    for event in (FinanceFolderOpened, ThreadOpened, SalesmanRecorded, CustomerRecorded):
        platform.consumer.on(event)(record_acknowledgement)
    settings = platform.settings
    platform.consumer.subscribe(
        platform.broker, *(settings.topic(s) for s in ACKNOWLEDGING_SERVICES)
    )
