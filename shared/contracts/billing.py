"""The billing service's contracts: the events it publishes on ``roofline.billing.events``, and
the facts of the decision points it owns (``accounting.create_record`` is asked by jobs and
tickets too: billing owns what goes to the accounting system)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from shared.contracts.base import EventData, Facts, catalogued, decision_point
from shared.contracts.roles import Actor


@catalogued("billing.finance_folder_opened.v1")
class FinanceFolderOpened(EventData):
    job_id: str


@catalogued("billing.final_payment_received.v1")
class FinalPaymentReceived(EventData):
    """The job's balance is paid in full: production releases the job (seed 001)."""

    job_id: str
    amount: Decimal
    received_on: date


@catalogued("billing.money_recorded.v1")
class MoneyRecorded(EventData):
    """An amount on the job's books: a payment, refund, reversal, change order, supplement or
    concession, with the balance after it."""

    job_id: str
    record_id: str
    kind: str
    amount: Decimal
    on: date
    method: str | None = None
    financing: bool = False
    reverses: str | None = Field(None, description="The payment a reversal undoes.")
    balance: Decimal = Field(description="What the customer owes after this record.")


@catalogued("billing.final_payment_reversed.v1")
class FinalPaymentReversed(EventData):
    """A reversal put money back on a released job's balance: the release is undone (jobs,
    commissions' claw-back)."""

    job_id: str
    balance: Decimal
    reason: str
    reversed_on: date | None = Field(None, description="The reversal's date (the record's).")


@catalogued("billing.collection_held.v1")
class CollectionHeld(EventData):
    """The job's collection is on hold (an unhappy customer): the collections policy's reasons."""

    job_id: str
    reasons: list[str]


@catalogued("billing.collection_released.v1")
class CollectionReleased(EventData):
    job_id: str
    reason: str


@catalogued("billing.concession_granted.v1")
class ConcessionGranted(EventData):
    job_id: str
    record_id: str
    amount: Decimal
    reason: str
    approved_by: str


@catalogued("billing.payment_refused.v1")
class PaymentRefusedByCustomer(EventData):
    """The customer refused to pay; ``escalated``: the file went to the billing manager."""

    job_id: str
    note: str
    by: str
    escalated: bool


@catalogued("billing.file_escalated.v1")
class FileEscalated(EventData):
    job_id: str
    escalation_id: str
    reason: str


@catalogued("billing.escalation_decided.v1")
class EscalationDecided(EventData):
    job_id: str
    escalation_id: str
    decision: str
    note: str
    by: str


@catalogued("billing.expense_recorded.v1")
class ExpenseRecorded(EventData):
    """A cost of the job (commissions' gross-profit plans read them)."""

    job_id: str
    expense_id: str
    category: str
    vendor: str
    amount: Decimal
    incurred_on: date
    paid_on: date | None
    total_costs: Decimal


@catalogued("billing.job_costs_settled.v1")
class JobCostsSettled(EventData):
    """Whether every expense of the job is entered and paid (seed 004's condition for Closed);
    published when that changes (a new unpaid expense makes it false again)."""

    job_id: str
    settled: bool
    total_costs: Decimal


@catalogued("billing.payment_info_on_file.v1")
class PaymentInfoRecorded(EventData):
    """Where the customer's payment information is kept (a reference, never a number)."""

    job_id: str
    kept_in: str
    reference: str


@catalogued("billing.invoice_sent.v1")
class InvoiceSent(EventData):
    """An invoice went out (seed 004: "Once the invoice is sent, you would move the job to the
    Invoiced Milestone")."""

    job_id: str
    invoice_id: str
    number: str
    kind: str
    total: Decimal
    due: Decimal


@catalogued("billing.check_returned.v1")
class CheckReturned(EventData):
    """A check is going back to the homeowner (seed 002): why, and the payment it undoes."""

    job_id: str
    returned_check_id: str
    reason: str
    amount: Decimal
    reversed_payment: str | None


@catalogued("billing.check_mailed_back.v1")
class CheckMailedBack(EventData):
    job_id: str
    returned_check_id: str
    tracking_number: str
    follow_up_by: datetime | None


@catalogued("billing.returned_check_closed.v1")
class ReturnedCheckClosed(EventData):
    job_id: str
    returned_check_id: str
    delivered: bool
    outcome: str


@catalogued("billing.financing_application_sent.v1")
class FinancingApplicationSent(EventData):
    """A financing application for the job's balance was made with the lender (seed 002's
    Hearth): messaging sends the customer the lender's link to complete it, by ``channel``."""

    job_id: str
    application_id: str
    lender: str = Field(description="The lender's name, as the customer knows it.")
    link: str = Field(description="Where the customer completes the application.")
    channel: Literal["email", "text"]
    amount: Decimal
    customer_name: str
    customer_email: str | None
    customer_phone: str | None


@catalogued("billing.financing_application_updated.v1")
class FinancingApplicationUpdated(EventData):
    """The application moved: qualified or not, an offer chosen, funded (``payment_id``: the
    payment its funds were booked as)."""

    job_id: str
    application_id: str
    status: str
    chosen_offer_id: str | None = None
    payment_id: str | None = None


# -- decision points ----------------------------------------------------------------------------


class AccountingRecord(Facts):
    kind: Literal["job", "work_order", "invoice"]
    line_items: int = Field(ge=0, description="How many line items the record has.")
    total: Decimal = Field(Decimal("0.00"), description="Sum of the line items.")


@decision_point(
    "accounting.create_record",
    "Creating a job, work order or invoice that the accounting system will receive (seed 003).",
)
class CreateRecordFacts(Facts):
    record: AccountingRecord


class CustomerStanding(Facts):
    open_complaints: int = Field(0, ge=0)
    open_repair_tickets: int = Field(0, ge=0)
    satisfaction_rating: int | None = Field(None, ge=1, le=5, description="Latest survey, 1-5.")
    refused_to_pay: bool = False


class Repairs(Facts):
    complete: bool = Field(description="Every repair the customer raised is done.")


class Concession(Facts):
    offered: bool = False
    amount: Decimal | None = Field(None, ge=0)


@decision_point("billing.collect_payment", "Asking a customer to pay (seed 002).")
class CollectPaymentFacts(Facts):
    customer: CustomerStanding
    repairs: Repairs
    concession: Concession
    balance: Decimal = Field(ge=0, description="What the customer owes now.")


class LineItemState(Facts):
    description: str
    completed: bool
    depreciation: Decimal = Field(Decimal("0.00"), ge=0)


@decision_point(
    "billing.release_depreciation",
    "Releasing recoverable depreciation for one insurance line item (seed 000).",
)
class ReleaseDepreciationFacts(Facts):
    line_item: LineItemState


class ClaimDeadline(Facts):
    carrier: str
    claim_number: str
    outstanding: Decimal = Field(ge=0, description="Recoverable depreciation not yet released.")
    due: date = Field(description="The carrier's last day for claiming it.")
    days_left: int = Field(description="Days until the deadline; negative once it passed.")


@decision_point(
    "billing.watch_depreciation_deadline",
    "A claim's recoverable depreciation against the carrier's deadline for claiming it (seed 000),"
    " checked every day until it is all released.",
)
class DepreciationDeadlineFacts(Facts):
    claim: ClaimDeadline


class ConcessionAsked(Facts):
    amount: Decimal = Field(gt=0)
    reason: str


@decision_point(
    "billing.grant_concession",
    "A concession on a job's balance, negotiated with an unhappy customer (seed 002).",
)
class GrantConcessionFacts(Facts):
    actor: Actor
    concession: ConcessionAsked
    balance: Decimal = Field(description="What the customer owes before it.")
    balance_after: Decimal = Field(description="What they would owe after it.")


ReturnCheckStep = Literal["mail", "follow_up"]


@decision_point(
    "billing.return_check",
    "Sending a check back to the homeowner (seed 002): call first, mail it tracked, follow up.",
)
class ReturnCheckFacts(Facts):
    step: ReturnCheckStep
    reason: str
    customer_called: bool = Field(description="The customer was called and told of the issue.")


@catalogued("billing.claim_recorded.v1")
class ClaimRecorded(EventData):
    """The job's insurance claim and summary as the office recorded them (seed 000)."""

    job_id: str
    carrier: str
    claim_number: str
    rcv: Decimal
    acv: Decimal
    depreciation: Decimal
    deductible: Decimal
    depreciation_deadline: date | None = Field(
        None, description="The carrier's last day for claiming the depreciation, if known."
    )


@catalogued("billing.supplement_requested.v1")
class SupplementRequested(EventData):
    job_id: str
    supplement_id: str
    description: str
    amount: Decimal
    justification: str


@catalogued("billing.supplement_decided.v1")
class SupplementDecided(EventData):
    """The carrier's answer; an approved supplement is also a money record on the job."""

    job_id: str
    supplement_id: str
    approved: bool
    amount: Decimal | None
    note: str


@catalogued("billing.depreciation_released.v1")
class DepreciationReleased(EventData):
    """Recoverable depreciation invoiced to the carrier for completed line items only; the
    others withheld, each with the policy's reason."""

    job_id: str
    invoice_id: str
    number: str
    amount: Decimal
    released: list[str] = Field(description="The summary lines' codes.")
    withheld: list[str]


@catalogued("billing.credit_note_issued.v1")
class CreditNoteIssued(EventData):
    """A sent invoice corrected: the credit note's (negative) total and why."""

    job_id: str
    invoice_id: str
    number: str
    credits: str
    total: Decimal
    reason: str
