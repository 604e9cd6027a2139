"""The export worker: sends due documents to the accounting system, one at a time, claim then
settle. The claim commits before the send (the attempt counted, the row due again only after
``accounting_export_lease_s``), so nothing is held open across the network; the outcome commits
after it. A crash between the two leaves the row to be sent again once its lease passes, with
the same request id: the accounting system recognises the repeat (or the adapter finds what the
first attempt created), so a document is never created twice.

A document whose customer (or, for a payment, the invoice it pays) is not exported yet waits,
with a note saying for what; customers are claimed before invoices, invoices before payments.
Faults the accounting system will keep refusing (validation) fail at once with its text; the
system down, busy or unreachable is retried with a doubling backoff until the attempts run out.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from services.billing.domain.exports import (
    CustomerDocument,
    Exported,
    ExportRejected,
    ExportStatus,
    ExportUnavailable,
    PaymentDocument,
    Refs,
    after_failure,
)
from services.billing.ports import AccountingExport, ExportQueue, ExportWorkerDeps, QueuedExport

log = logging.getLogger(__name__)

Outcome = Exported | ExportRejected | ExportUnavailable


async def run_exports(deps: ExportWorkerDeps) -> None:
    """The worker's loop (a background task of the billing service): rounds back to back while
    they fill their batch, else one every ``accounting_export_interval_s``. With the export off
    it only keeps the gauges."""
    settings = deps.settings
    try:
        while True:
            handled = 0
            try:
                handled = await export_due(deps)
            except Exception:
                log.exception("accounting export round failed; retrying next round")
            if handled < settings.accounting_export_batch:
                await asyncio.sleep(settings.accounting_export_interval_s)
    finally:
        if deps.accounting is not None:
            await deps.accounting.aclose()


async def export_due(deps: ExportWorkerDeps) -> int:
    """One round: up to ``accounting_export_batch`` due documents, each claimed just before it
    is sent. Returns how many it handled (sent, or put back to wait)."""
    handled = 0
    if deps.accounting is not None:
        for _ in range(deps.settings.accounting_export_batch):
            if not await _export_next(deps, deps.accounting):
                break
            handled += 1
    async with deps.queue() as queue:
        deps.metrics.counted(await queue.counts())
    return handled


async def _export_next(deps: ExportWorkerDeps, accounting: AccountingExport) -> bool:
    settings = deps.settings
    now = deps.clock()
    async with deps.queue() as queue:
        picked = await queue.next_due(now)
        if picked is None:
            return False
        refs, waiting = await _refs(queue, picked)
        if waiting is not None:
            until = now + timedelta(seconds=settings.accounting_export_backoff_s)
            await queue.defer(picked, until, waiting)
            return True
        lease = timedelta(seconds=settings.accounting_export_lease_s)
        attempt = await queue.claim(picked, now + lease, now)
    outcome = await _send(accounting, picked, refs)
    async with deps.queue() as queue:
        await _settle(deps, queue, picked, attempt, outcome)
    return True


async def _refs(queue: ExportQueue, picked: QueuedExport) -> tuple[Refs, str | None]:
    """The accounting system's ids of what the document names, or why it must wait for them."""
    document = picked.record.document
    if isinstance(document, CustomerDocument):
        return Refs(), None
    customer = await queue.state_of(picked.tenant_id, "customer", document.customer)
    if customer is None or customer[0] != "exported":
        state = customer[0] if customer else "not queued"
        return Refs(), f"waiting for its customer {document.customer!r} to be exported ({state})"
    invoice = None
    if isinstance(document, PaymentDocument) and document.invoice is not None:
        paid = await queue.state_of(picked.tenant_id, "invoice", document.invoice)
        if paid is not None and paid[0] in ("pending", "failed"):
            return Refs(), f"waiting for invoice {document.invoice} to be exported ({paid[0]})"
        # An invoice that will never be exported (refused): the payment goes unapplied.
        invoice = paid[1] if paid is not None and paid[0] == "exported" else None
    return Refs(customer=customer[1], invoice=invoice), None


async def _send(accounting: AccountingExport, picked: QueuedExport, refs: Refs) -> Outcome:
    record = picked.record
    try:
        return await accounting.export(record.document, refs, record.request_id)
    except (ExportRejected, ExportUnavailable) as exc:
        return exc
    except Exception as exc:  # a bug in a mapping: kept visible, tried again, then failed
        log.exception("exporting %s %s failed", record.doc_type, record.doc_id)
        return ExportUnavailable(f"{exc.__class__.__name__}: {exc}")


async def _settle(
    deps: ExportWorkerDeps,
    queue: ExportQueue,
    picked: QueuedExport,
    attempt: int,
    outcome: Outcome,
) -> None:
    settings = deps.settings
    now = deps.clock()
    doc_type = picked.record.doc_type
    if isinstance(outcome, Exported):
        note = (
            f"an earlier attempt landed and its answer was lost: found as Id {outcome.external_id}"
            if outcome.resolved
            else None
        )
        await queue.settle(
            picked, attempt, "exported", now, external_id=outcome.external_id, note=note
        )
        return
    status: ExportStatus = "failed"
    retry_at: datetime | None = None
    if isinstance(outcome, ExportUnavailable):
        status, retry_at = after_failure(
            attempt,
            settings.accounting_export_max_attempts,
            now=now,
            base_s=settings.accounting_export_backoff_s,
            max_s=settings.accounting_export_backoff_max_s,
        )
    settled = await queue.settle(
        picked, attempt, status, now, last_error=str(outcome), next_attempt_at=retry_at
    )
    if not settled:
        return
    if status == "failed":
        deps.metrics.failures.labels(doc_type).inc()
        log.warning("export of %s %s failed: %s", doc_type, picked.record.doc_id, outcome)
    else:
        deps.metrics.retries.inc()
