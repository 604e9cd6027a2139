"""The accounting export's queue: documents are queued in the transaction that makes them final
(an invoice when it is sent, a payment when it is recorded, a ticket's work order when tickets
reports it complete), each customer with their first document. Invoices and work orders ask
``accounting.create_record`` first: one the policy denies (no line item) is kept ``refused``
with the policy's reason and never sent. The export worker (``export_worker``) sends the rest.

Also what the office reads and does: each document's status, attempts, last error and the
accounting system's id; a failed (or refused) one sent again on request."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from services.billing.domain import Folder, MoneyRecord
from services.billing.domain.exports import (
    CustomerDocument,
    DocType,
    Document,
    ExportNotFound,
    ExportNotRetryable,
    ExportRecord,
    ExportStatus,
    SaleDocument,
    SaleLine,
    WorkOrder,
    customer_key,
    invoice_document,
    open_on,
    payment_document,
    request_id_of,
    sale_line,
    work_order_document,
)
from services.billing.domain.invoices import Invoice
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import CreateRecordFacts
from shared.contracts.tickets import (
    TicketCustomer,
    TicketLineItem,
    TicketLineItemsChanged,
    TicketOpened,
    TicketStatusChanged,
)
from shared.platform.context import request_source
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope
from shared.policy.asking import SOURCE_OUTSIDE_HTTP, decide_or_refuse
from shared.policy.decider import Decider
from shared.policy.decision import BLOCKING

CREATE_RECORD = "accounting.create_record"
COMPLETE = "complete"  # tickets' status once the work is done
EXPORT_OFF = (
    "accounting export is off (ROOFLINE_QUICKBOOKS_URL is not set): the document waits here "
    "and goes once it is on"
)

log = logging.getLogger(__name__)


class ExportView(BaseModel):
    """A document's way to the accounting system, as the office reads it."""

    doc_type: DocType
    doc_id: str
    entity: str
    status: ExportStatus
    attempts: int
    last_error: str | None
    note: str | None
    external_id: str | None
    request_id: str
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    document: Document


def view(record: ExportRecord, *, export_on: bool) -> ExportView:
    document = record.document
    entity = (
        document.entity
        if isinstance(document, SaleDocument)
        else "Customer"
        if isinstance(document, CustomerDocument)
        else "Payment"
    )
    pending = record.status == "pending"
    note = EXPORT_OFF if pending and not export_on else record.note
    return ExportView(
        **record.model_dump(exclude={"note", "next_attempt_at", "document"}),
        entity=entity,
        note=note,
        next_attempt_at=record.next_attempt_at if pending else None,
        document=document,
    )


# -- queueing, in the transaction that makes a document final -----------------------------------


def _new(
    tenant_id: str,
    doc_type: DocType,
    doc_id: str,
    document: Document,
    at: datetime,
) -> ExportRecord:
    return ExportRecord(
        doc_type=doc_type,
        doc_id=doc_id,
        request_id=request_id_of(tenant_id, doc_type, doc_id),
        next_attempt_at=at,
        document=document,
        created_at=at,
        updated_at=at,
    )


async def _queue_customer(
    uow: BillingUnitOfWork, key: str, customer: CustomerDocument, at: datetime
) -> None:
    """The customer goes with their first document (once: later ones find it queued)."""
    await uow.repos.exports.queue(_new(uow.tenant_id, "customer", key, customer, at))


def _folder_customer(folder: Folder) -> CustomerDocument:
    return CustomerDocument(
        name=folder.customer_name, email=folder.customer_email, phone=folder.customer_phone
    )


async def _queue_sale(
    policy: Decider,
    uow: BillingUnitOfWork,
    kind: Literal["invoice", "work_order"],
    doc_id: str,
    document: SaleDocument,
    *,
    subject: str,
    at: datetime,
    replacing: ExportRecord | None = None,
) -> ExportRecord:
    """Queue an invoice or work order as ``accounting.create_record`` decides: pending, or
    refused with the policy's reasons (never sent)."""
    decision = await policy.decide(
        uow.transaction,
        CREATE_RECORD,
        CreateRecordFacts(record=document.record(kind)),
        tenant=uow.tenant_id,
        subject=subject,
        source=request_source() or SOURCE_OUTSIDE_HTTP,
    )
    record = _new(uow.tenant_id, kind, doc_id, document, at)
    if not decision.allowed:
        reasons = " ".join(r.reason for r in decision.enforced if r.outcome in BLOCKING)
        record = record.model_copy(update={"status": "refused", "last_error": reasons})
    if replacing is None:
        await uow.repos.exports.queue(record)
    else:
        await uow.repos.exports.save(record.model_copy(update={"created_at": replacing.created_at}))
    return record


async def queue_invoice(
    policy: Decider, uow: BillingUnitOfWork, folder: Folder, invoice: Invoice
) -> ExportRecord:
    """A sent invoice, billed to the job's customer (or to the insurer or mortgage company it
    names, a customer of its own)."""
    at = invoice.sent_at or invoice.created_at
    if invoice.kind == "customer":
        key, customer = folder.customer_key, _folder_customer(folder)
    else:
        key, customer = customer_key(invoice.bill_to, None), CustomerDocument(name=invoice.bill_to)
    await _queue_customer(uow, key, customer, at)
    return await _queue_sale(
        policy,
        uow,
        "invoice",
        invoice.invoice_id,
        invoice_document(invoice, key),
        subject=invoice.job_id,
        at=at,
    )


async def queue_payment(uow: BillingUnitOfWork, folder: Folder, payment: MoneyRecord) -> None:
    """A payment, applied to the job's oldest customer invoice still open (sent and queued for
    export, and not paid by the payments queued before it); the rest stays unapplied."""
    key = folder.customer_key
    await _queue_customer(uow, key, _folder_customer(folder), payment.recorded_at)
    target = None
    sent = [i for i in await uow.repos.invoices.of_job(folder.job_id) if i.kind == "customer"]
    for invoice in sorted((i for i in sent if i.sent_at is not None), key=_sent_at):
        queued = await uow.repos.exports.get("invoice", invoice.invoice_id)
        if queued is None or queued.status == "refused":
            continue
        left = open_on(invoice.total, await uow.repos.exports.applied_to(invoice.invoice_id))
        if left > 0:
            target = (invoice.invoice_id, left)
            break
    document = payment_document(payment, folder.job_id, key, target)
    await uow.repos.exports.queue(
        _new(uow.tenant_id, "payment", payment.record_id, document, payment.recorded_at)
    )


def _sent_at(invoice: Invoice) -> datetime:
    assert invoice.sent_at is not None
    return invoice.sent_at


# -- tickets' work orders ---------------------------------------------------------------------


def _lines(items: list[TicketLineItem]) -> tuple[SaleLine, ...]:
    return tuple(sale_line(i.description, i.quantity, i.unit_price, i.total) for i in items)


def _customer_of(customer: TicketCustomer) -> dict[str, str | None]:
    return {
        "customer_name": customer.name,
        "customer_email": customer.email,
        "customer_phone": customer.phone,
    }


async def on_ticket_opened(
    uow: BillingUnitOfWork, envelope: Envelope, opened: TicketOpened
) -> None:
    """Keep the ticket's customer and lines until its work is billed."""
    if await uow.repos.work_orders.get(opened.ticket_id) is not None:
        return  # a replay: later events may have changed it since
    await uow.repos.work_orders.put(
        WorkOrder(
            ticket_id=opened.ticket_id,
            number=opened.ticket_number,
            job_id=opened.job_id,
            lines=_lines(opened.line_items),
            payment_status=opened.payment_status,
            status=opened.status,
            **_customer_of(opened.customer),
        )
    )


async def on_ticket_lines(
    policy: Decider, uow: BillingUnitOfWork, envelope: Envelope, changed: TicketLineItemsChanged
) -> None:
    order = await uow.repos.work_orders.get(changed.ticket_id, for_update=True)
    if order is None:
        return
    order = order.model_copy(
        update={
            "lines": _lines(changed.line_items),
            "payment_status": changed.payment_status,
            **_customer_of(changed.customer),
        }
    )
    await uow.repos.work_orders.put(order)
    if order.status == COMPLETE:
        # Lines added to a completed ticket: a work order refused for having none goes now.
        await _queue_work_order(policy, uow, order, envelope.time)


async def on_ticket_status(
    policy: Decider, uow: BillingUnitOfWork, envelope: Envelope, moved: TicketStatusChanged
) -> None:
    order = await uow.repos.work_orders.get(moved.ticket_id, for_update=True)
    if order is None:
        log.warning("ticket %s changed status but billing never saw it opened", moved.ticket_id)
        return
    update: dict[str, object] = {"status": moved.to_status}
    if moved.to_status == COMPLETE:
        update["completed_on"] = (moved.completed_at or envelope.time).date()
    order = order.model_copy(update=update)
    await uow.repos.work_orders.put(order)
    if moved.to_status == COMPLETE:
        await _queue_work_order(policy, uow, order, envelope.time)


async def _queue_work_order(
    policy: Decider, uow: BillingUnitOfWork, order: WorkOrder, at: datetime
) -> None:
    """Queue the completed ticket's work order; one not exported yet is rebuilt from the
    ticket as it is now (and asked again). Once exported, later changes are not sent."""
    queued = await uow.repos.exports.get("work_order", order.ticket_id, for_update=True)
    document = work_order_document(order, at.date())
    if queued is not None and (queued.status == "exported" or queued.document == document):
        return
    await _queue_customer(
        uow,
        order.customer_key,
        CustomerDocument(
            name=order.customer_name, email=order.customer_email, phone=order.customer_phone
        ),
        at,
    )
    await _queue_sale(
        policy,
        uow,
        "work_order",
        order.ticket_id,
        document,
        subject=order.ticket_id,
        at=at,
        replacing=queued,
    )


# -- what the office reads and does -------------------------------------------------------------


async def exports_listed(
    deps: BillingDeps,
    caller: Caller,
    *,
    status: ExportStatus | None,
    doc_type: DocType | None,
    limit: int,
    offset: int,
) -> list[ExportView]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        records = await uow.repos.exports.listed(status, doc_type, limit, offset)
    return [view(r, export_on=deps.accounting is not None) for r in records]


async def export_of(
    deps: BillingDeps, caller: Caller, doc_type: DocType, doc_id: str
) -> ExportView:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        record = await uow.repos.exports.get(doc_type, doc_id)
    if record is None:
        raise ExportNotFound(f"no {doc_type} {doc_id} queued for the accounting system")
    return view(record, export_on=deps.accounting is not None)


async def retry_export(
    deps: BillingDeps, caller: Caller, doc_type: DocType, doc_id: str
) -> ExportView:
    """Send a failed document again (its attempts counted afresh, the same request id, so a
    copy that did land is recognised); a refused one is asked again first (409 while the policy
    still refuses it). A pending one is left as it is; an exported one is 409."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        record = await uow.repos.exports.get(doc_type, doc_id, for_update=True)
        if record is None:
            raise ExportNotFound(f"no {doc_type} {doc_id} queued for the accounting system")
        if record.status == "exported":
            raise ExportNotRetryable(
                f"{doc_type} {doc_id} was exported already (QuickBooks Id {record.external_id})"
            )
        if record.status == "pending":
            return view(record, export_on=deps.accounting is not None)
        document = record.document
        if isinstance(document, SaleDocument) and doc_type in ("invoice", "work_order"):
            kind: Literal["invoice", "work_order"] = (
                "invoice" if doc_type == "invoice" else "work_order"
            )
            facts = CreateRecordFacts(record=document.record(kind))
            await decide_or_refuse(deps.policy, uow, CREATE_RECORD, facts, subject=doc_id)
        now = deps.clock()
        record = record.model_copy(
            update={"status": "pending", "attempts": 0, "next_attempt_at": now, "updated_at": now}
        )
        await uow.repos.exports.save(record)
        await uow.commit()
    return view(record, export_on=deps.accounting is not None)
