"""Tickets and work orders: open, schedule, start, complete, decline, cancel, assign, add a line
item; a field issue reported by a technician or installer; read one, list them."""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated

from fastapi import Query

from services.tickets.api import models
from services.tickets.api.common import ANYONE, FIELD, SERVICE_OFFICE
from services.tickets.api.deps import AnyCaller, Deps
from services.tickets.api.models import TicketView
from services.tickets.domain import commands
from services.tickets.domain.values import Queue, TicketStatus, TicketType
from services.tickets.handlers import tickets
from services.tickets.ports import TicketFilter
from shared.platform.http.access import GuardedRouter
from shared.platform.http.edge import Limit, Offset
from shared.platform.text import Day, Identifier

ACCESS: dict[str, Collection[str]] = {
    "open_ticket": SERVICE_OFFICE,
    "report_field_issue": (*FIELD, *SERVICE_OFFICE),
    "schedule": SERVICE_OFFICE,
    "start": (*SERVICE_OFFICE, *FIELD),
    "complete": (*SERVICE_OFFICE, *FIELD),
    "decline": SERVICE_OFFICE,
    "cancel": SERVICE_OFFICE,
    "assign": SERVICE_OFFICE,
    "add_line_item": (*SERVICE_OFFICE, *FIELD),
    "record_estimate": SERVICE_OFFICE,
    "record_waiver": SERVICE_OFFICE,
    "put_payment_on_file": (*SERVICE_OFFICE, "billing", "billing_manager"),
    "read_ticket": ANYONE,
    "list_tickets": ANYONE,
}

router = GuardedRouter(ACCESS, tags=["tickets"])


@router.post("/tickets", response_model=TicketView, status_code=201)
async def open_ticket(body: models.OpenTicket, deps: Deps, caller: AnyCaller) -> TicketView:
    """A ticket or work order. Refused without a line item (policy ``line_items``); a complaint
    (``issue``) goes to the Issues queue and holds collection until its repair is complete."""
    command = commands.OpenTicket(**body.model_dump())
    return TicketView.of(await tickets.open_ticket(deps, caller, command))


@router.post("/field-issues", response_model=TicketView, status_code=201)
async def report_field_issue(
    body: models.ReportFieldIssue, deps: Deps, caller: AnyCaller
) -> TicketView:
    command = commands.OpenTicket(
        type=body.type,
        job_id=body.job_id,
        customer=body.customer,
        line_items=body.line_items,
        technician_ids=[caller.user_id],
        issue=commands.Issue(kind="field_issue", note=body.note),
    )
    return TicketView.of(await tickets.open_ticket(deps, caller, command))


@router.post("/tickets/{ticket_id}/schedule", response_model=TicketView)
async def schedule(
    ticket_id: str, body: models.ScheduleTicket, deps: Deps, caller: AnyCaller
) -> TicketView:
    command = commands.ScheduleTicket(ticket_id=ticket_id, **body.model_dump())
    return TicketView.of(await tickets.schedule(deps, caller, command))


@router.post("/tickets/{ticket_id}/start", response_model=TicketView)
async def start(ticket_id: str, deps: Deps, caller: AnyCaller) -> TicketView:
    """Refused while a waiver is out, or a new service's estimate is not accepted (policy
    ``service_start``), naming each."""
    command = commands.ChangeStatus(ticket_id=ticket_id)
    return TicketView.of(await tickets.start(deps, caller, command))


@router.post("/tickets/{ticket_id}/complete", response_model=TicketView)
async def complete(ticket_id: str, deps: Deps, caller: AnyCaller) -> TicketView:
    """Complete: an issue the ticket was opened for is resolved (billing may collect again)."""
    command = commands.ChangeStatus(ticket_id=ticket_id)
    return TicketView.of(await tickets.complete(deps, caller, command))


@router.post("/tickets/{ticket_id}/decline", response_model=TicketView)
async def decline(
    ticket_id: str, body: models.StatusReason, deps: Deps, caller: AnyCaller
) -> TicketView:
    command = commands.ChangeStatus(ticket_id=ticket_id, reason=body.reason)
    return TicketView.of(await tickets.decline(deps, caller, command))


@router.post("/tickets/{ticket_id}/cancel", response_model=TicketView)
async def cancel(
    ticket_id: str, body: models.StatusReason, deps: Deps, caller: AnyCaller
) -> TicketView:
    command = commands.ChangeStatus(ticket_id=ticket_id, reason=body.reason)
    return TicketView.of(await tickets.cancel(deps, caller, command))


@router.post("/tickets/{ticket_id}/assignment", response_model=TicketView)
async def assign(
    ticket_id: str, body: models.AssignTicket, deps: Deps, caller: AnyCaller
) -> TicketView:
    """Technicians and/or an installer crew; the product admin from the tenant's routing table
    unless named."""
    command = commands.AssignTicket(ticket_id=ticket_id, **body.model_dump())
    return TicketView.of(await tickets.assign(deps, caller, command))


@router.post("/tickets/{ticket_id}/line-items", response_model=TicketView)
async def add_line_item(
    ticket_id: str, body: models.AddLineItem, deps: Deps, caller: AnyCaller
) -> TicketView:
    command = commands.AddLineItem(ticket_id=ticket_id, line_item=body.line_item)
    return TicketView.of(await tickets.add_line_item(deps, caller, command))


@router.post("/tickets/{ticket_id}/estimate", response_model=TicketView)
async def record_estimate(
    ticket_id: str, body: models.RecordEstimate, deps: Deps, caller: AnyCaller
) -> TicketView:
    """The estimate sent for acceptance, then viewed, accepted or declined by the customer."""
    command = commands.RecordEstimate(ticket_id=ticket_id, **body.model_dump())
    return TicketView.of(await tickets.record_estimate(deps, caller, command))


@router.post("/tickets/{ticket_id}/waivers", response_model=TicketView)
async def record_waiver(
    ticket_id: str, body: models.RecordWaiver, deps: Deps, caller: AnyCaller
) -> TicketView:
    """A waiver sent to the customer, or returned: work starts only with every one back."""
    command = commands.RecordWaiver(ticket_id=ticket_id, **body.model_dump())
    return TicketView.of(await tickets.record_waiver(deps, caller, command))


@router.put("/tickets/{ticket_id}/payment-on-file", response_model=TicketView)
async def put_payment_on_file(
    ticket_id: str, body: models.PutPaymentOnFile, deps: Deps, caller: AnyCaller
) -> TicketView:
    """Where the customer's payment information is kept (QuickBooks or the card processor):
    a reference, never a card or account number (refused with 422 if it looks like one)."""
    command = commands.PutPaymentOnFile(ticket_id=ticket_id, payment=body.payment)
    return TicketView.of(await tickets.put_payment_on_file(deps, caller, command))


@router.get("/tickets/{ticket_id}", response_model=TicketView)
async def read_ticket(ticket_id: str, deps: Deps, caller: AnyCaller) -> TicketView:
    return TicketView.of(await tickets.get_ticket(deps, caller, ticket_id))


@router.get("/tickets", response_model=list[TicketView])
async def list_tickets(
    deps: Deps,
    caller: AnyCaller,
    queue: Queue | None = None,
    type: TicketType | None = None,
    status: TicketStatus | None = None,
    technician: Identifier | None = None,
    job_id: Identifier | None = None,
    customer: Annotated[
        str | None, Query(max_length=200, description="Text in the name or address.")
    ] = None,
    scheduled_from: Day | None = None,
    scheduled_to: Day | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[TicketView]:
    """Tickets, the most recently opened first; a technician or installer sees only their own."""
    where = TicketFilter(
        queue=queue,
        type=type,
        status=status,
        technician_id=technician,
        job_id=job_id,
        customer=customer,
        scheduled_from=scheduled_from,
        scheduled_to=scheduled_to,
    )
    found = await tickets.find_tickets(deps, caller, where, limit=limit, offset=offset)
    return [TicketView.of(ticket) for ticket in found]
