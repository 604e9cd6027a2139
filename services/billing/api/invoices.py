"""Invoices: drafted from the job, sent once, read as JSON or a printable page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, status
from fastapi.responses import HTMLResponse

from services.billing.api.deps import Deps
from services.billing.api.invoice_page import invoice_page
from services.billing.domain.invoices import Invoice, NewCreditNote, NewInvoice
from services.billing.handlers import invoices
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

BILLING = ("billing", "billing_manager")
READERS = (*BILLING, "csa", "production_manager")
ACCESS = {
    "create_invoice": BILLING,
    "send_invoice": BILLING,
    "read_invoice": READERS,
    "print_invoice": READERS,
    "job_invoices": READERS,
    "issue_credit_note": BILLING,
}

router = GuardedRouter(ACCESS, tags=["invoices"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]


@router.post("/jobs/{job_id}/invoices", response_model=Invoice, status_code=status.HTTP_201_CREATED)
async def create_invoice(job_id: Id, body: NewInvoice, deps: Deps, caller: AnyCaller) -> Invoice:
    """A draft from the job's line items and change orders, with what was paid and is due.
    Refused (409, ``at-least-one-line-item``) for a job with no line item."""
    return await invoices.create_invoice(deps, caller, job_id, body)


@router.post("/invoices/{invoice_id}/send", response_model=Invoice)
async def send_invoice(invoice_id: Id, deps: Deps, caller: AnyCaller) -> Invoice:
    """Sent: immutable from now on (``billing.invoice_sent.v1``); a second send is 409."""
    return await invoices.send_invoice(deps, caller, invoice_id)


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    response_model=Invoice,
    status_code=status.HTTP_201_CREATED,
)
async def issue_credit_note(
    invoice_id: Id, body: NewCreditNote, deps: Deps, caller: AnyCaller
) -> Invoice:
    """Correct a sent invoice: a credit note (CN-...) for the lines given by their ``source``
    (or all that is left), issued at once (``billing.credit_note_issued.v1``). It corrects the
    document; what the customer owes changes with a concession or a change order."""
    return await invoices.issue_credit_note(deps, caller, invoice_id, body)


@router.get("/invoices/{invoice_id}", response_model=Invoice)
async def read_invoice(invoice_id: Id, deps: Deps, caller: AnyCaller) -> Invoice:
    return await invoices.invoice(deps, caller, invoice_id)


@router.get(
    "/invoices/{invoice_id}/page",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def print_invoice(invoice_id: Id, deps: Deps, caller: AnyCaller) -> HTMLResponse:
    """The invoice as a printable page."""
    return HTMLResponse(invoice_page(await invoices.invoice(deps, caller, invoice_id)))


@router.get("/jobs/{job_id}/invoices", response_model=list[Invoice])
async def job_invoices(job_id: Id, deps: Deps, caller: AnyCaller) -> list[Invoice]:
    return await invoices.invoices_of(deps, caller, job_id)
