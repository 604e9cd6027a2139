"""Events the messaging service publishes on ``roofline.messaging.events``."""

from __future__ import annotations

from shared.contracts.base import EventData, catalogued


@catalogued("messaging.thread_opened.v1")
class ThreadOpened(EventData):
    job_id: str
    thread_id: str
