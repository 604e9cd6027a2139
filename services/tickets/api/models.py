"""Request and response models of the tickets API: as strict as the domain, bounded for the wire."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.tickets.domain import JobCustomerRecord, LineItem, Ticket
from services.tickets.domain.commands import Issue
from services.tickets.domain.values import (
    CallOutcome,
    Customer,
    EstimateStatus,
    Money,
    PaymentReference,
    PaymentStatus,
    Queue,
    TicketType,
    Visit,
)
from shared.platform.text import Day, Identifier

# Answered as kept: the domain record is the response.
CustomerView = JobCustomerRecord


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TicketMoney(BaseModel):
    amount_due: Decimal = Field(description="The sum of the line items.")
    payment_status: PaymentStatus


class TicketView(Ticket):
    """A ticket as the API shows it: the stored ticket plus what follows from it."""

    money: TicketMoney

    @classmethod
    def of(cls, ticket: Ticket) -> TicketView:
        money = TicketMoney(amount_due=ticket.amount_due, payment_status=ticket.payment_status)
        return cls(**ticket.model_dump(), money=money)


class OpenTicket(Body):
    """The body of ``POST /tickets``: for a past job (``job_id``) or a customer of its own.
    Every ticket needs a line item, even a $0.00 one (policy ``line_items``)."""

    type: TicketType
    job_id: Identifier | None = None
    customer: Customer | None = None
    line_items: list[LineItem] = Field(default_factory=list, max_length=200)
    technician_ids: list[Identifier] = Field(default_factory=list, max_length=20)
    crew_id: Identifier | None = None
    queue: Queue | None = None
    issue: Issue | None = Field(None, description="A complaint: opens it in the Issues queue.")
    note: str | None = Field(None, max_length=4000)


class ReportFieldIssue(Body):
    """The body of ``POST /field-issues``: a technician or installer reports an issue found in
    the field; it opens a work order in the Issues queue, assigned to the reporter."""

    type: TicketType = "service_call"
    job_id: Identifier | None = None
    customer: Customer | None = None
    note: str = Field(min_length=1, max_length=4000)
    line_items: list[LineItem] = Field(default_factory=list, max_length=200)


class ScheduleTicket(Body):
    start_date: Day
    end_date: Day


class StatusReason(Body):
    reason: str | None = Field(None, max_length=1000)


class AssignTicket(Body):
    technician_ids: list[Identifier] = Field(default_factory=list, max_length=20)
    crew_id: Identifier | None = None
    admin_id: Identifier | None = None


class AddLineItem(Body):
    line_item: LineItem


class BookVisits(Body):
    visits: list[Visit] = Field(min_length=1, max_length=60)


class SetCapacity(Body):
    daily_visits: int | None = Field(ge=0, le=50, description="Visits a day; null: no limit.")


class CalendarEntry(BaseModel):
    day: date
    technician_id: str
    daily_visits: int | None
    booked: int
    free: int | None = Field(description="Visits still free that day (null: no limit set).")
    ticket_ids: list[str]


class RecordEstimate(Body):
    status: EstimateStatus
    amount: Money | None = None


class RecordWaiver(Body):
    waiver: str = Field(min_length=1, max_length=200, description="Which waiver, by name.")
    returned: bool = Field(False, description="Back from the customer (else: sent to them).")


class PutPaymentOnFile(Body):
    payment: PaymentReference


class SkipVisit(Body):
    day: Day


class ChangePlanDay(Body):
    weekday: int = Field(ge=0, le=6)


class PlaceInQueue(Body):
    queue: Queue


class LogCall(Body):
    outcome: CallOutcome
    note: str | None = Field(None, max_length=4000)


class Route(Body):
    admin_id: Identifier | None = Field(description="None removes the row.")
