"""Events the tickets service publishes on ``roofline.tickets.events``."""

from __future__ import annotations

from shared.contracts.base import EventData, catalogued


@catalogued("tickets.customer_recorded.v1")
class CustomerRecorded(EventData):
    job_id: str
    customer_name: str
    property_address: str
