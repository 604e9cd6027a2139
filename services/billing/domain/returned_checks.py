"""Checks sent back to the homeowner (seed 002): not signed, the mortgage company has not signed,
not payable to us, or the insurer sent it to our office. The customer is called, the check is
mailed back tracked (priority mail), and a few days later its delivery is confirmed and the
homeowner called; a check that was posted as a payment is reversed. The order and the follow-up's
timing are the ``returned_checks`` policy's."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain.ledger import PositiveCents

ReturnReason = Literal[
    "not_signed", "mortgage_not_signed", "not_payable_to_us", "sent_to_our_office"
]
FOLLOW_UP = "confirm delivery and call the homeowner"


class NewReturnedCheck(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: ReturnReason
    amount: PositiveCents
    check_number: str | None = Field(None, max_length=50)
    payer: str = Field(min_length=1, max_length=200, examples=["Acme Mutual Insurance"])
    payment_id: str | None = Field(
        None, description="The payment it was posted as, if it was: reversed."
    )


class CustomerCall(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    note: str = Field(min_length=1, max_length=1000)


class MailedBack(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tracking_number: str = Field(min_length=4, max_length=60)
    carrier: str = Field("USPS Priority Mail", max_length=100)


class FollowUp(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    delivered: bool
    outcome: str = Field(min_length=1, max_length=1000)


class ReturnedCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    returned_check_id: str
    job_id: str
    reason: ReturnReason
    amount: Decimal
    check_number: str | None
    payer: str
    payment_id: str | None
    opened_at: datetime
    opened_by: str
    called_at: datetime | None = None
    call_note: str | None = None
    mailed_at: datetime | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    follow_up_by: datetime | None = None
    closed_at: datetime | None = None
    delivered: bool | None = None
    outcome: str | None = None

    @property
    def status(self) -> Literal["to_call", "to_mail", "to_follow_up", "closed"]:
        if self.closed_at is not None:
            return "closed"
        if self.mailed_at is not None:
            return "to_follow_up"
        return "to_mail" if self.called_at is not None else "to_call"


class ReturnedCheckNotFound(LookupError):
    """No such returned check in the caller's tenant."""


class ReturnedCheckStep(ValueError):
    """The step does not fit where the returned check is (mailing one mailed, a closed one)."""
