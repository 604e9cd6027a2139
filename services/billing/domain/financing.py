"""Post-install financing through a lender (seed 002, "hearth"): when a homeowner cannot pay the
balance after the install, the office applies for it with the lender, and the lender's link goes
to the customer (email or text) to complete their information. The lender qualifies them or not;
a qualified customer is offered loans to choose from, and once they chose, the lender sends them
a check that they send on to us: those funds are a payment (method ``financing``).

The application's ``status`` is the lender's: pending (sent, the customer has not completed it),
qualified (offers to choose from), not_qualified, offer_selected, funded (the lender sent the
check). ``payment_id`` is set when the funds reached us and were booked.

What an application's state cannot take (choosing an offer it was not made, recording its funds
twice) is checked here, before anything changes.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain.folder import Financing, LoanStatus
from services.billing.domain.ledger import PositiveCents

LenderStatus = Literal["pending", "qualified", "not_qualified", "offer_selected", "funded"]
Channel = Literal["email", "text"]
# Statuses of an application still under way: a job has one at a time.
OPEN: tuple[LenderStatus, ...] = ("pending", "qualified", "offer_selected")
# What the lender's status means for the finance folder's loan status.
LOAN_STATUS: dict[LenderStatus, LoanStatus] = {
    "pending": "applied",
    "qualified": "approved",
    "not_qualified": "declined",
    "offer_selected": "approved",
    "funded": "funded",
}


class Offer(BaseModel):
    """A loan the lender offers: the amount, its APR (percent), term and monthly payment."""

    model_config = ConfigDict(frozen=True)

    offer_id: str
    amount: Decimal
    apr: Decimal = Field(description="Annual percentage rate, in percent (7.99).")
    term_months: int
    monthly_payment: Decimal


class LoanRequest(BaseModel):
    """What the lender is asked: the amount (the job's balance), the applicant, our reference."""

    model_config = ConfigDict(frozen=True)

    amount: Decimal
    reference: str
    customer_name: str
    customer_email: str | None
    customer_phone: str | None


class LoanApplication(BaseModel):
    """The lender's answer to a request: its id for the application and the applicant's link."""

    model_config = ConfigDict(frozen=True)

    lender_ref: str
    link: str
    status: LenderStatus = "pending"


class LoanState(BaseModel):
    """Where the application is at the lender."""

    model_config = ConfigDict(frozen=True)

    status: LenderStatus
    offers: tuple[Offer, ...] = ()
    selected_offer_id: str | None = None


class NewFinancingApplication(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel = Field(description="How the customer gets the lender's link.")


class FundsReceived(BaseModel):
    """The lender's check, sent on by the customer: booked as a payment (method financing)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: PositiveCents
    received_on: date
    reference: str = Field(min_length=1, max_length=100, examples=["check 10452"])


class FinancingApplication(BaseModel):
    model_config = ConfigDict(frozen=True)

    application_id: str = Field(description="Ours; the lender knows it as our reference.")
    job_id: str
    lender: str
    lender_ref: str = Field(description="The lender's id for the application.")
    amount: Decimal = Field(description="The balance when the application was made.")
    link: str = Field(description="Where the customer completes the application.")
    channel: Channel
    status: LenderStatus
    offers: tuple[Offer, ...] = ()
    chosen_offer_id: str | None = None
    payment_id: str | None = Field(None, description="The payment the lender's funds were.")
    created_at: datetime
    updated_at: datetime
    by: str

    @property
    def chosen_offer(self) -> Offer | None:
        return next((o for o in self.offers if o.offer_id == self.chosen_offer_id), None)

    def check_choice(self, offer_id: str) -> Offer:
        """The offer the customer chose, if the application can take the choice."""
        if self.status not in ("qualified", "offer_selected"):
            raise FinancingStep(
                f"financing application {self.application_id} is {_said(self.status)}: "
                "there is no offer to choose"
            )
        if self.payment_id is not None:
            raise FinancingStep(f"the funds of application {self.application_id} are in")
        offer = next((o for o in self.offers if o.offer_id == offer_id), None)
        if offer is None:
            known = ", ".join(o.offer_id for o in self.offers) or "none"
            raise FinancingInputInvalid(
                "offer_id",
                f"the lender made no offer {offer_id!r} on this application (offers: {known})",
                location="path",
            )
        return offer

    def check_funding(self) -> None:
        """Funds can be booked once, and only for a loan the customer chose."""
        if self.payment_id is not None:
            raise FinancingStep(
                f"the funds of application {self.application_id} were recorded already "
                f"(payment {self.payment_id})"
            )
        if self.status not in ("offer_selected", "funded"):
            raise FinancingStep(
                f"financing application {self.application_id} is {_said(self.status)}: funds "
                "come after the customer chose an offer"
            )

    def updated(self, state: LoanState, at: datetime) -> FinancingApplication:
        """The application as the lender now reports it (funded, once its funds are in)."""
        return self.model_copy(
            update={
                "status": "funded" if self.payment_id is not None else state.status,
                "offers": state.offers or self.offers,
                "chosen_offer_id": state.selected_offer_id or self.chosen_offer_id,
                "updated_at": at,
            }
        )


def financing_after(
    financing: Financing, application: FinancingApplication, *, funded: bool = False
) -> Financing:
    """The finance folder's financing as the application moves: the lender, the loan's status,
    the loan amount once an offer is chosen."""
    offer = application.chosen_offer
    update: dict[str, Any] = {
        "lender": application.lender,
        "loan_status": "funded" if funded else LOAN_STATUS[application.status],
    }
    if offer is not None:
        update["loan_amount"] = offer.amount
    return financing.model_copy(update=update)


def check_can_apply(
    balance: Decimal,
    channel: Channel,
    customer_email: str | None,
    under_way: list[FinancingApplication],
) -> None:
    """What refuses an application before the lender is asked: a balance of zero (nothing to
    finance), no contact for the channel, an application under way already."""
    if balance <= 0:
        raise FinancingStep(f"nothing to finance: the job's balance is {balance}")
    if channel == "text":
        # Messaging has no SMS gateway: a text would be dropped silently; refused instead.
        raise FinancingInputInvalid(
            "channel", "no text gateway configured: the application link can be emailed only"
        )
    if not customer_email:
        raise FinancingInputInvalid(
            "channel", "the finance folder has no email for the customer (customer_email)"
        )
    if under_way:
        raise FinancingStep(
            f"financing application {under_way[0].application_id} for this job is "
            f"{_said(under_way[0].status)}: one at a time"
        )


def _said(status: LenderStatus) -> str:
    return status.replace("_", " ")


class FinancingApplicationNotFound(LookupError):
    """No such financing application in the caller's tenant."""


class FinancingStep(ValueError):
    """The step does not fit where the application (or the job's balance) is: 409."""


class FinancingInputInvalid(ValueError):
    """Input the application cannot take (an offer it was not made, a channel with no gateway):
    a 422 naming the field."""

    def __init__(self, field: str, message: str, *, location: str = "body") -> None:
        super().__init__(f"invalid value for {location}.{field}: {message}")
        self.extensions = {"errors": [{"field": f"{location}.{field}", "message": message}]}


class LenderUnavailable(Exception):
    """The lender could not be reached, timed out or failed (5xx): 503, nothing kept."""


class LenderError(Exception):
    """The lender answered, but not as its API says (a refusal, a body we cannot read): 502,
    nothing kept."""


class LenderNotConfigured(Exception):
    """No lender is configured (``ROOFLINE_LENDER_URL`` is not set): 503."""
