"""Events the commissions service publishes on ``roofline.commissions.events``."""

from __future__ import annotations

from shared.contracts.base import EventData, catalogued


@catalogued("commissions.salesman_recorded.v1")
class SalesmanRecorded(EventData):
    job_id: str
    salesman_id: str
