"""Events the billing service publishes on ``roofline.billing.events``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from shared.platform.messaging.envelope import EventData, catalogued


@catalogued("billing.finance_folder_opened.v1")
class FinanceFolderOpened(EventData):
    job_id: str


@catalogued("billing.final_payment_received.v1")
class FinalPaymentReceived(EventData):
    """The job's balance is paid in full: production releases the job (seed 001)."""

    job_id: str
    amount: Decimal
    received_on: date
