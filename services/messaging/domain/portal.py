"""What an installer or technician sees of the work they are assigned (seed 001, "Installers see
their assigned jobs"): the facts they need on site (address, dates, trades, materials, notes),
built from jobs' and tickets' events, never money."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import EventData
from shared.contracts.jobs import (
    ChangeOrderAdded,
    CrewAssigned,
    HandedOffToProduction,
    JobScheduled,
    JobSold,
    LeadCreated,
    MaterialsRecorded,
    MilestoneChanged,
    ProductionStatusChanged,
)
from shared.contracts.tickets import TicketAssigned, TicketOpened, TicketStatusChanged


class Materials(BaseModel):
    manufacturer: str | None = None
    product: str | None = None
    colour: str | None = None
    quantity_squares: Decimal | None = None
    supplier: str | None = None
    delivery_date: date | None = None


class WorkFacts(BaseModel):
    """A job or ticket as the field sees it. No contract price, payment or balance: ever."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["job", "ticket"]
    subject_id: str
    number: str | None = None
    customer_name: str | None = None
    phone: str | None = None
    customer_email: str | None = Field(None, description="Where the satisfaction survey goes.")
    job_id: str | None = Field(None, description="A ticket's past job, if any.")
    property_address: str | None = None
    status: str | None = None
    trades: tuple[str, ...] = ()
    start_date: date | None = None
    days: tuple[date, ...] = ()
    crew_name: str | None = None
    crew_id: str | None = None
    materials: Materials | None = None
    notes: tuple[str, ...] = Field((), description="Change orders' and status changes' notes.")
    completed_at: datetime | None = None


def apply_work_event(facts: WorkFacts | None, event: EventData) -> WorkFacts | None:
    """The facts after ``event`` (None: the event is not about field work we track yet)."""
    match event:
        case LeadCreated():
            base = facts or WorkFacts(kind="job", subject_id=event.job_id)
            return base.model_copy(
                update={
                    "customer_name": event.customer_name,
                    "phone": event.phone,
                    "customer_email": event.email,
                    "property_address": event.property_address,
                }
            )
        case TicketOpened() | TicketAssigned():
            base = facts or WorkFacts(kind="ticket", subject_id=event.ticket_id)
            update: dict[str, object] = {
                "customer_name": event.customer.name,
                "phone": event.customer.phone,
                "customer_email": event.customer.email,
                "property_address": event.customer.property_address,
                "crew_id": event.assignment.crew_id,
                "job_id": event.job_id,
            }
            if isinstance(event, TicketOpened):
                update |= {
                    "number": event.ticket_number,
                    "status": event.status,
                    "trades": tuple(event.trades),
                }
            return base.model_copy(update=update)
    if facts is None:
        return None
    match event:
        case JobSold():
            return facts.model_copy(
                update={
                    "number": event.job_number,
                    "trades": tuple(event.trades),
                    "customer_email": event.customer.email or facts.customer_email,
                }
            )
        case MilestoneChanged():
            return facts.model_copy(
                update={"status": event.to_milestone, "number": event.job_number or facts.number}
            )
        case HandedOffToProduction():
            return facts.model_copy(update={"trades": tuple(event.trades) or facts.trades})
        case ProductionStatusChanged():
            notes = (*facts.notes, event.reason) if event.reason else facts.notes
            return facts.model_copy(update={"status": event.to_status, "notes": notes})
        case JobScheduled():
            return facts.model_copy(update={"start_date": event.start_date})
        case CrewAssigned():
            return facts.model_copy(
                update={
                    "crew_id": event.crew_id,
                    "crew_name": event.crew_name,
                    "days": tuple(event.days),
                    "start_date": min(event.days, default=facts.start_date),
                }
            )
        case MaterialsRecorded():
            materials = Materials.model_validate(event.model_dump(), from_attributes=False)
            return facts.model_copy(update={"materials": materials})
        case ChangeOrderAdded():
            return facts.model_copy(update={"notes": (*facts.notes, f"Change order: {event.note}")})
        case TicketStatusChanged():
            days = (
                (event.start_date, event.end_date)
                if event.start_date and event.end_date
                else facts.days
            )
            return facts.model_copy(
                update={
                    "status": event.to_status,
                    "start_date": event.start_date or facts.start_date,
                    "days": tuple(dict.fromkeys(days)),
                    "completed_at": event.completed_at or facts.completed_at,
                }
            )
    return facts
