"""The accounting export (issue 15; seed 003: "push to quick books"): customers, invoices,
payments and tickets' work orders, each queued once as a document for the accounting system in
the transaction that makes it final, then sent by the export worker through an adapter.

A document is kept as billing sees it (``Document``); the adapter maps it to the accounting
system's shape when it is sent, with the ids that system gave the documents it refers to
(``Refs``: its customer, the invoice a payment pays). Each document has a request id that never
changes (``request_id_of``), so a send repeated after a lost answer is recognised as the same.

Statuses: ``pending`` (queued, or waiting for a retry), ``exported`` (with the accounting
system's id), ``failed`` (refused by it, or out of attempts: ``last_error`` says why), and
``refused`` (``accounting.create_record`` denied it, e.g. no line item: never sent).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain.invoices import Invoice
from services.billing.domain.ledger import MoneyRecord
from shared.contracts.billing import AccountingRecord
from shared.contracts.money import to_cents

DocType = Literal["customer", "invoice", "payment", "work_order"]
ExportStatus = Literal["pending", "exported", "failed", "refused"]
EXPORT_STATUSES: tuple[ExportStatus, ...] = get_args(ExportStatus)
SaleEntity = Literal["Invoice", "SalesReceipt"]

# Customers go before the documents that name them, and invoices before the payments that pay
# them: the worker claims due rows in this order.
PRIORITY: dict[str, int] = {"customer": 0, "invoice": 1, "work_order": 1, "payment": 2}

# uuid5 namespace of request ids (fixed forever: a changed namespace would send everything again
# under new ids, and the accounting system could not recognise a repeat).
REQUEST_NAMESPACE = uuid.UUID("5f0c7a52-8d7e-4a63-9c39-0b1f3ad2e6a1")
# QuickBooks keeps DocNumber and PaymentRefNum to 21 characters.
REFERENCE_LENGTH = 21


class CustomerDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    shape: Literal["customer"] = "customer"
    name: str
    email: str | None = None
    phone: str | None = None


class SaleLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal = Field(description="To the cent: what the line bills.")


class SaleDocument(BaseModel):
    """An invoice, or a work order (billed as an invoice, or a sales receipt when paid)."""

    model_config = ConfigDict(frozen=True)

    shape: Literal["sale"] = "sale"
    entity: SaleEntity
    number: str = Field(description="The document's number (DocNumber).")
    on: date
    customer: str = Field(description="The customer document's id (its export is its ref).")
    lines: tuple[SaleLine, ...]
    memo: str = ""

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    def record(self, kind: Literal["invoice", "work_order"]) -> AccountingRecord:
        """The facts ``accounting.create_record`` decides on."""
        return AccountingRecord(kind=kind, line_items=len(self.lines), total=self.total)


class PaymentDocument(BaseModel):
    """A payment received, applied (up to ``applied``) to one of the customer's invoices."""

    model_config = ConfigDict(frozen=True)

    shape: Literal["payment"] = "payment"
    amount: Decimal
    on: date
    customer: str
    reference: str = Field(description="The payment's reference number (PaymentRefNum).")
    invoice: str | None = Field(None, description="The invoice it pays, if one was open.")
    applied: Decimal = Field(Decimal("0.00"), description="How much of it pays that invoice.")
    memo: str = ""


Document = Annotated[
    CustomerDocument | SaleDocument | PaymentDocument, Field(discriminator="shape")
]


class ExportRecord(BaseModel):
    """One document's way to the accounting system."""

    model_config = ConfigDict(frozen=True)

    doc_type: DocType
    doc_id: str
    request_id: str = Field(description="The same on every attempt: a repeat is recognised.")
    status: ExportStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime
    last_error: str | None = None
    note: str | None = Field(None, description="Why a pending document is not sent yet.")
    external_id: str | None = Field(None, description="The accounting system's id for it.")
    document: Document
    created_at: datetime
    updated_at: datetime


class Refs(BaseModel):
    """The accounting system's ids of the documents a document names."""

    model_config = ConfigDict(frozen=True)

    customer: str | None = None
    invoice: str | None = None


class Exported(BaseModel):
    model_config = ConfigDict(frozen=True)

    external_id: str
    resolved: bool = Field(
        False, description="Found after the system reported the request as done before."
    )


class WorkOrder(BaseModel):
    """What billing keeps of a service ticket (tickets' events) to bill its work when done."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    number: str
    job_id: str | None = None
    customer_name: str
    customer_email: str | None = None
    customer_phone: str | None = None
    lines: tuple[SaleLine, ...] = ()
    payment_status: str = "unpaid"
    status: str = "new"
    completed_on: date | None = None

    @property
    def customer_key(self) -> str:
        return customer_key(self.customer_name, self.customer_email)


def request_id_of(tenant_id: str, doc_type: str, doc_id: str) -> str:
    """Stable per document: the accounting system's idempotency key (50 characters at most)."""
    return str(uuid.uuid5(REQUEST_NAMESPACE, f"{tenant_id}/{doc_type}/{doc_id}"))


def customer_key(name: str, email: str | None) -> str:
    """Who the customer is across jobs and tickets: their email, else their name (case folded),
    as billing's finance folders know them."""
    return (email or name).strip().casefold()


def reference_of(record_id: str) -> str:
    """A payment's reference number: its record id without dashes, to QuickBooks' length."""
    return record_id.replace("-", "")[:REFERENCE_LENGTH]


def work_order_document(order: WorkOrder, on: date) -> SaleDocument:
    """A ticket's work billed: a sales receipt if the customer paid it, else an invoice."""
    return SaleDocument(
        entity="SalesReceipt" if order.payment_status == "paid" else "Invoice",
        number=order.number[:REFERENCE_LENGTH],
        on=order.completed_on or on,
        customer=order.customer_key,
        lines=order.lines,
        memo=f"Roofline ticket {order.number}" + (f", job {order.job_id}" if order.job_id else ""),
    )


def invoice_document(invoice: Invoice, customer: str) -> SaleDocument:
    """A sent invoice as the accounting system receives it: its lines, to the cent."""
    assert invoice.sent_at is not None
    return SaleDocument(
        entity="Invoice",
        number=invoice.number[:REFERENCE_LENGTH],
        on=invoice.sent_at.date(),
        customer=customer,
        lines=tuple(
            SaleLine(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
            )
            for line in invoice.lines
        ),
        memo=f"Roofline invoice {invoice.number}, job {invoice.job_id}",
    )


def payment_document(
    payment: MoneyRecord,
    job_id: str,
    customer: str,
    invoice: tuple[str, Decimal] | None,
) -> PaymentDocument:
    """A payment, applied to ``invoice`` (its id and what is still open on it) up to its
    amount; the rest stays unapplied on the customer's account."""
    applied = min(payment.amount, invoice[1]) if invoice else Decimal("0.00")
    return PaymentDocument(
        amount=payment.amount,
        on=payment.on,
        customer=customer,
        reference=reference_of(payment.record_id),
        invoice=invoice[0] if invoice and applied > 0 else None,
        applied=applied if applied > 0 else Decimal("0.00"),
        memo=f"Roofline payment {payment.record_id}, job {job_id}"
        + (f" ({payment.method})" if payment.method else ""),
    )


def sale_line(description: str, quantity: Decimal, unit_price: Decimal, total: Decimal) -> SaleLine:
    return SaleLine(
        description=description, quantity=quantity, unit_price=unit_price, amount=to_cents(total)
    )


def open_on(total: Decimal, applied: Decimal) -> Decimal:
    """What is left to pay of an invoice of ``total`` after ``applied`` (never below zero)."""
    return max(total - applied, Decimal("0.00"))


def after_failure(
    attempts: int,
    max_attempts: int,
    *,
    now: datetime,
    base_s: float,
    max_s: float,
) -> tuple[ExportStatus, datetime | None]:
    """After a send that may succeed later (the system down, busy or unreachable): pending again
    after a doubling wait, or failed once the attempts are spent."""
    if attempts >= max_attempts:
        return "failed", None
    wait = min(base_s * 2 ** max(attempts - 1, 0), max_s)
    return "pending", now + timedelta(seconds=wait)


class ExportRejected(Exception):
    """The accounting system refused the document (a validation fault): retrying the same will
    not help; a person looks at ``last_error``."""


class ExportUnavailable(Exception):
    """The accounting system could not take the document now (down, busy, unreachable, the
    answer lost): retried with backoff."""


class ExportNotFound(LookupError):
    """No such document queued for export in the caller's tenant."""


class ExportNotRetryable(ValueError):
    """Only a failed or refused export is sent again on request."""
