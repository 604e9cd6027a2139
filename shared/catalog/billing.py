"""Events the billing service publishes on ``roofline.billing.events``."""

from __future__ import annotations

from shared.events import EventData, catalogued


@catalogued("billing.finance_folder_opened.v1")
class FinanceFolderOpened(EventData):
    job_id: str
