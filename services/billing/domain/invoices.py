"""Invoices (seed 002, seed 004): a customer invoice built from the job's line items and change
orders, with what was paid and what is due. Numbered per tenant; a draft until sent, immutable
once sent (a correction is a credit note, its own invoice). Never an invoice without a line item,
even at $0.00 (``accounting.create_record``). Totals are the sum of the lines, to the cent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain.folder import Folder, JobLine
from services.billing.domain.insurance import Claim, InsuranceDetail, SummaryLine, job_line_of
from services.billing.domain.ledger import Balance, PositiveCents
from shared.contracts.billing import AccountingRecord
from shared.contracts.money import to_cents

CENT = Decimal("0.01")
InvoiceKind = Literal["customer", "insurer", "mortgage_company", "detailed", "credit_note"]
# What a user may draft: a credit note is made from the invoice it corrects, never drafted.
DraftKind = Literal["customer", "insurer", "mortgage_company", "detailed"]
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
    detail: InsuranceDetail | None = Field(
        None, description="A detailed invoice: each line against the insurance summary's."
    )
    credits: str | None = Field(None, description="A credit note: the invoice it corrects.")
    reason: str = Field("", description="A credit note: why.")


class NewInvoice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DraftKind = "customer"
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


def detailed_lines(
    claim: Claim, job_lines: list[JobLine], change_orders: list[tuple[str, str, Decimal]]
) -> tuple[InvoiceLine, ...]:
    """A detailed invoice's lines: each insurance summary line at its RCV, then the job's line
    items no summary line covers (the customer's own upgrades), then each change order."""
    covered = {
        job_line.line_item_id
        for line in claim.lines
        if (job_line := job_line_of(line, job_lines)) is not None
    }
    summary = [
        InvoiceLine(
            description=f"{line.code} {line.description}",
            quantity=line.quantity,
            unit_price=(line.rcv / line.quantity).quantize(CENT) if line.quantity else line.rcv,
            amount=line.rcv,
            source=f"summary:{line.code}",
        )
        for line in claim.lines
    ]
    extra = [
        line.model_copy(update={"description": f"Not on the insurance summary: {line.description}"})
        for line in invoice_lines(
            [job_line for job_line in job_lines if job_line.line_item_id not in covered], []
        )
    ]
    return (*summary, *extra, *invoice_lines([], change_orders))


def depreciation_lines(lines: Iterable[SummaryLine]) -> tuple[InvoiceLine, ...]:
    """A depreciation release invoice to the carrier: one line per summary line released."""
    return tuple(
        InvoiceLine(
            description=f"Recoverable depreciation: {line.code} {line.description}",
            quantity=Decimal("1"),
            unit_price=line.depreciation,
            amount=line.depreciation,
            source=f"depreciation:{line.code}",
        )
        for line in lines
    )


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
    detail: InsuranceDetail | None = None,
) -> Invoice:
    paid = balance.payments - balance.refunds - balance.reversals
    return Invoice(
        detail=detail,
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


def depreciation_invoice(
    *,
    invoice_id: str,
    number: str,
    claim: Claim,
    lines: tuple[InvoiceLine, ...],
    at: datetime,
    by: str,
) -> Invoice:
    """The carrier's invoice for the recoverable depreciation of the lines released: it owes
    all of it."""
    total = sum((line.amount for line in lines), Decimal("0.00"))
    return Invoice(
        invoice_id=invoice_id,
        number=number,
        job_id=claim.job_id,
        kind="insurer",
        bill_to=f"{claim.carrier} (claim {claim.claim_number})",
        lines=lines,
        total=total,
        paid=Decimal("0.00"),
        due=total,
        created_at=at,
        by=by,
    )


class CreditLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(min_length=1, max_length=100, description="The invoice line's source.")
    amount: PositiveCents


class NewCreditNote(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    lines: list[CreditLine] | None = Field(
        None, description="What to credit, line by line (unset: the whole invoice).", min_length=1
    )


def credit_note_lines(
    invoice: Invoice, new: NewCreditNote, credited: Iterable[Invoice]
) -> tuple[InvoiceLine, ...]:
    """The credit note's lines (negative), each within what its invoice line has left after the
    credit notes before it; ``CreditRefused`` naming the line otherwise."""
    if invoice.status != "sent":
        raise CreditRefused(
            f"invoice {invoice.number} is a draft: only a sent invoice is corrected by a "
            "credit note"
        )
    if invoice.kind == "credit_note":
        raise CreditRefused(f"{invoice.number} is a credit note itself")
    left: dict[str, Decimal] = {}
    for line in invoice.lines:
        left[line.source] = left.get(line.source, Decimal("0.00")) + line.amount
    for note in credited:
        for line in note.lines:
            left[line.source] = left.get(line.source, Decimal("0.00")) + line.amount
    asked = new.lines or [
        CreditLine(source=source, amount=amount) for source, amount in left.items() if amount > 0
    ]
    if not asked:
        raise CreditRefused(f"invoice {invoice.number} is credited in full already")
    by_source = {line.source: line for line in invoice.lines}
    lines = []
    for index, credit in enumerate(asked):
        original = by_source.get(credit.source)
        if original is None:
            raise CreditRefused(
                f"lines[{index}].source: {credit.source} is not on {invoice.number}"
            )
        if credit.amount > left[credit.source]:
            raise CreditRefused(
                f"lines[{index}].amount: {credit.amount} is more than the {left[credit.source]} "
                f"left to credit on '{original.description}'"
            )
        lines.append(
            InvoiceLine(
                description=f"Credit: {original.description}",
                quantity=Decimal("1"),
                unit_price=-credit.amount,
                amount=-credit.amount,
                source=credit.source,
            )
        )
    return tuple(lines)


def credit_note(
    *,
    invoice_id: str,
    number: str,
    of: Invoice,
    new: NewCreditNote,
    lines: tuple[InvoiceLine, ...],
    at: datetime,
    by: str,
) -> Invoice:
    total = sum((line.amount for line in lines), Decimal("0.00"))
    return Invoice(
        invoice_id=invoice_id,
        number=number,
        job_id=of.job_id,
        kind="credit_note",
        bill_to=of.bill_to,
        lines=lines,
        total=total,
        paid=Decimal("0.00"),
        due=total,
        created_at=at,
        by=by,
        credits=of.number,
        reason=new.reason,
    )


class CreditRefused(ValueError):
    """A credit note the invoice cannot take (a draft, more than is left on a line)."""


class InvoiceNotFound(LookupError):
    """No such invoice in the caller's tenant."""


class InvoiceSentAlready(ValueError):
    """A sent invoice is immutable: a correction is a credit note."""
