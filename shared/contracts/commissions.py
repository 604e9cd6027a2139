"""Events the commissions service publishes on ``roofline.commissions.events``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from shared.contracts.base import EventData, catalogued


@catalogued("commissions.salesman_recorded.v1")
class SalesmanRecorded(EventData):
    job_id: str
    salesman_id: str


@catalogued("commissions.commission_released.v1")
class CommissionReleased(EventData):
    """A salesman credited for a job billing reported paid (seed 001's Released record)."""

    job_id: str
    salesman_id: str
    record_id: str
    amount: Decimal
    effective_on: date
    freebie: bool
    plan: str | None = Field(None, description="plan id@version#hash that computed it")


@catalogued("commissions.commission_adjusted.v1")
class CommissionAdjusted(EventData):
    """A change after release: a change order, a reversal's claw-back, an office adjustment."""

    job_id: str
    salesman_id: str
    record_id: str
    amount: Decimal
    effective_on: date
    notes: str
    plan: str | None = None


@catalogued("commissions.payout_changed.v1")
class PayoutChanged(EventData):
    """A payout requested, approved by a manager, or paid."""

    payout_id: str
    salesman_id: str
    status: str
    amount: Decimal
    start: date
    end: date
