"""Invoices: drafted from the job's line items and change orders through
``accounting.create_record`` (never one without a line item, even at $0.00), numbered per tenant,
sent once (``billing.invoice_sent.v1``), immutable after."""

from __future__ import annotations

import uuid

from services.billing.domain import balance_of
from services.billing.domain.insurance import ClaimNotFound, insurance_detail
from services.billing.domain.invoices import (
    Invoice,
    InvoiceNotFound,
    InvoiceSentAlready,
    NewCreditNote,
    NewInvoice,
    accounting_record,
    credit_note,
    credit_note_lines,
    detailed_lines,
    draft,
    invoice_lines,
)
from services.billing.handlers import exports
from services.billing.handlers.books import folder_of
from services.billing.ports import BillingDeps
from shared.contracts.billing import CreateRecordFacts, CreditNoteIssued, InvoiceSent
from shared.platform.http.auth import Caller
from shared.policy.asking import decide_or_refuse

CREATE_RECORD = "accounting.create_record"


async def create_invoice(
    deps: BillingDeps, caller: Caller, job_id: str, new: NewInvoice
) -> Invoice:
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        records = await uow.repos.records.of_job(job_id)
        change_orders = [
            (r.record_id, r.description, r.amount) for r in records if r.kind == "change_order"
        ]
        detail = None
        if new.kind == "detailed":  # against the insurance summary, line by line (seed 002)
            claim = await uow.repos.claims.get(job_id)
            if claim is None:
                raise ClaimNotFound(
                    f"job {job_id} has no insurance claim: a detailed invoice maps each line to "
                    "the insurance summary (PUT /jobs/{job_id}/insurance first)"
                )
            lines = detailed_lines(claim, list(folder.line_items), change_orders)
            detail = insurance_detail(claim, list(folder.line_items))
        else:
            lines = invoice_lines(list(folder.line_items), change_orders)
        facts = CreateRecordFacts(record=accounting_record(lines))
        await decide_or_refuse(deps.policy, uow, CREATE_RECORD, facts, subject=job_id)
        invoice = draft(
            invoice_id=str(uuid.uuid4()),
            number=await uow.repos.invoices.next_number(now.year),
            folder=folder,
            new=new,
            lines=lines,
            balance=balance_of(folder.contract_price, records),
            at=now,
            by=caller.user_id,
            detail=detail,
        )
        await uow.repos.invoices.add(invoice)
        await uow.commit()
    return invoice


async def issue_credit_note(
    deps: BillingDeps, caller: Caller, invoice_id: str, new: NewCreditNote
) -> Invoice:
    """Correct a sent invoice: a credit note of its own number (CN-...), issued at once, for
    the lines asked (or all that is left to credit)."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        original = await uow.repos.invoices.get(invoice_id, for_update=True)
        if original is None:
            raise InvoiceNotFound(f"no invoice {invoice_id}")
        before = await uow.repos.invoices.credit_notes_of(original.number)
        lines = credit_note_lines(original, new, before)
        note = credit_note(
            invoice_id=str(uuid.uuid4()),
            number=await uow.repos.invoices.next_number(now.year, credit_note=True),
            of=original,
            new=new,
            lines=lines,
            at=now,
            by=caller.user_id,
        ).model_copy(update={"status": "sent", "sent_at": now})
        await uow.repos.invoices.add(note)
        uow.record(
            CreditNoteIssued(
                job_id=note.job_id,
                invoice_id=note.invoice_id,
                number=note.number,
                credits=original.number,
                total=note.total,
                reason=note.reason,
            ),
            subject=note.job_id,
        )
        await uow.commit()
    return note


async def send_invoice(deps: BillingDeps, caller: Caller, invoice_id: str) -> Invoice:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        invoice = await uow.repos.invoices.get(invoice_id, for_update=True)
        if invoice is None:
            raise InvoiceNotFound(f"no invoice {invoice_id}")
        if invoice.status == "sent":
            raise InvoiceSentAlready(
                f"invoice {invoice.number} was sent on {invoice.sent_at:%Y-%m-%d}: it cannot "
                "change; correct it with a credit note"
            )
        invoice = invoice.model_copy(update={"status": "sent", "sent_at": deps.clock()})
        await uow.repos.invoices.save(invoice)
        # Final now: queued for the accounting system in the same transaction.
        await exports.queue_invoice(deps.policy, uow, await folder_of(uow, invoice.job_id), invoice)
        uow.record(
            InvoiceSent(
                job_id=invoice.job_id,
                invoice_id=invoice.invoice_id,
                number=invoice.number,
                kind=invoice.kind,
                total=invoice.total,
                due=invoice.due,
            ),
            subject=invoice.job_id,
        )
        await uow.commit()
    return invoice


async def invoice(deps: BillingDeps, caller: Caller, invoice_id: str) -> Invoice:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        found = await uow.repos.invoices.get(invoice_id)
    if found is None:
        raise InvoiceNotFound(f"no invoice {invoice_id}")
    return found


async def invoices_of(deps: BillingDeps, caller: Caller, job_id: str) -> list[Invoice]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.invoices.of_job(job_id)
