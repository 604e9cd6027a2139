"""A job's finance folder (seed 001, "Finance"): the customer, the contract price as jobs last
reported it, how it is paid (the cash / loan split, the lender, the loan's status, notes), and
whether the job is completed and released.

Released means paid in full (seed 001: "release tracking when jobs are paid"): once a completed
job's balance is zero or less, billing reports the final payment, once; if a reversal later puts
money back on the balance, it reports that the release is undone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain.collections import Standing
from services.billing.domain.ledger import PositiveCents
from shared.contracts.jobs import JobSold, LeadCreated, LineItemData
from shared.contracts.money import PaymentReference

LoanStatus = Literal["none", "applied", "approved", "declined", "funded"]
Release = Literal["released", "unreleased"]


class Financing(BaseModel):
    """How the job is paid for: cash and loan shares, the lender, the loan's status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cash_amount: PositiveCents | None = None
    loan_amount: PositiveCents | None = None
    lender: str | None = Field(None, max_length=200)
    loan_status: LoanStatus = "none"
    notes: str = Field("", max_length=2000)


class JobLine(BaseModel):
    """A line item of the job, as jobs reports it."""

    model_config = ConfigDict(frozen=True)

    line_item_id: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    insurance_line_ref: str | None = None
    completed: bool = False


def job_lines(items: Iterable[LineItemData]) -> tuple[JobLine, ...]:
    """The job's line items as jobs reports them (the whole list each time)."""
    return tuple(JobLine.model_validate(item.model_dump()) for item in items)


class Folder(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    customer_name: str
    customer_email: str | None = None
    customer_phone: str | None = None
    contract_price: Decimal | None = None
    financing: Financing = Financing()
    completed: bool = False
    released_on: date | None = None
    standing: Standing = Standing()
    expenses_entered: bool = Field(False, description="Billing confirmed every expense is in.")
    costs_settled: bool = Field(False, description="Entered and paid, as last published.")
    payment_on_file: PaymentReference | None = None
    line_items: tuple[JobLine, ...] = Field((), description="The job's, as jobs last reported.")
    opened_at: datetime

    @property
    def customer_key(self) -> str:
        """Who the customer is across jobs: their email, else their name (case folded)."""
        return (self.customer_email or self.customer_name).strip().casefold()

    @classmethod
    def opened_by(cls, lead: LeadCreated, at: datetime) -> Folder:
        return cls(
            job_id=lead.job_id,
            customer_name=lead.customer_name,
            customer_email=lead.email,
            customer_phone=lead.phone,
            opened_at=at,
        )

    def sold(self, sold: JobSold) -> Folder:
        """The sale: the customer's contact, the line items, the price if no contract set it."""
        update: dict[str, object] = {
            "customer_email": sold.customer.email or self.customer_email,
            "customer_phone": sold.customer.phone or self.customer_phone,
            "line_items": job_lines(sold.line_items),
        }
        if self.contract_price is None and sold.contract_price is not None:
            update["contract_price"] = sold.contract_price
        return self.model_copy(update=update)

    def release_after(self, balance: Decimal) -> Release | None:
        """What the balance now means for the release, if it changes it."""
        if self.completed and self.released_on is None and balance <= 0:
            return "released"
        if self.released_on is not None and balance > 0:
            return "unreleased"
        return None


class FolderNotFound(LookupError):
    """No finance folder for that job in the caller's tenant."""


class PaymentRefused(ValueError):
    """A money command the books cannot take (reversing a payment twice, an unknown one)."""


class IdempotencyKeyReused(ValueError):
    """The same Idempotency-Key came with a different request."""
