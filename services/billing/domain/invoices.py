"""Invoices (seed 002, seed 004): a customer invoice built from the job's line items and change
orders, with what was paid and what is due. Numbered per tenant; a draft until sent, immutable
once sent (a correction is a credit note, its own invoice). Never an invoice without a line item,
even at $0.00 (``accounting.create_record``). Totals are the sum of the lines, to the cent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain.folder import Folder, JobLine
from services.billing.domain.ledger import Balance
from shared.contracts.billing import AccountingRecord
from shared.contracts.money import to_cents

InvoiceKind = Literal["customer", "insurer", "mortgage_company"]
InvoiceStatus = Literal["draft", "sent"]


class InvoiceLine(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    source: str = Field(description="The job's line item or change order it bills.")


class Invoice(BaseModel):
    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str
    job_id: str
    kind: InvoiceKind
    bill_to: str
    lines: tuple[InvoiceLine, ...]
    total: Decimal
    paid: Decimal = Field(description="Received on the job when it was drafted.")
    due: Decimal = Field(description="What this invoice asks for: the balance then.")
    status: InvoiceStatus = "draft"
    created_at: datetime
    sent_at: datetime | None = None
    by: str


class NewInvoice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: InvoiceKind = "customer"
    bill_to: str | None = Field(
        None, max_length=300, description="Unset: the customer (or say the insurer's name)."
    )


def invoice_lines(
    job_lines: list[JobLine], change_orders: list[tuple[str, str, Decimal]]
) -> tuple[InvoiceLine, ...]:
    """The job's line items, then each change order (id, note, amount) as a line of its own."""
    lines = [
        InvoiceLine(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            amount=to_cents(line.total),
            source=line.line_item_id,
        )
        for line in job_lines
    ]
    lines += [
        InvoiceLine(
            description=f"Change order: {note}",
            quantity=Decimal("1"),
            unit_price=amount,
            amount=amount,
            source=change_order_id,
        )
        for change_order_id, note, amount in change_orders
    ]
    return tuple(lines)


def accounting_record(lines: tuple[InvoiceLine, ...]) -> AccountingRecord:
    return AccountingRecord(
        kind="invoice",
        line_items=len(lines),
        total=sum((ln.amount for ln in lines), Decimal("0.00")),
    )


def draft(
    *,
    invoice_id: str,
    number: str,
    folder: Folder,
    new: NewInvoice,
    lines: tuple[InvoiceLine, ...],
    balance: Balance,
    at: datetime,
    by: str,
) -> Invoice:
    paid = balance.payments - balance.refunds - balance.reversals
    return Invoice(
        invoice_id=invoice_id,
        number=number,
        job_id=folder.job_id,
        kind=new.kind,
        bill_to=new.bill_to or folder.customer_name,
        lines=lines,
        total=sum((line.amount for line in lines), Decimal("0.00")),
        paid=paid,
        due=max(balance.balance, Decimal("0.00")),
        created_at=at,
        by=by,
    )


class InvoiceNotFound(LookupError):
    """No such invoice in the caller's tenant."""


class InvoiceSentAlready(ValueError):
    """A sent invoice is immutable: a correction is a credit note."""
