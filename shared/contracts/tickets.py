"""The tickets service's contracts: the events it publishes on ``roofline.tickets.events`` (keyed
by ticket id, except the customer record it answers a lead with, keyed by the job) and the facts
of the decision points it owns.

The customer-facing events carry what billing and messaging need so they never call back: the
customer, the job link, the line items and amount due, the assigned technicians and crew.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.base import EventData, Facts, catalogued, decision_point

TicketType = Literal[
    "warranty",  # covered repair
    "service_call",  # paid visit
    "callback",  # an issue from the original install
    "repair_quote",
    "one_time",  # "New 1x Jobs"
    "new_service",
    "weekly_service",  # a recurring plan's visits
]
TicketStatus = Literal["new", "scheduled", "in_progress", "complete", "declined", "canceled"]
PaymentStatus = Literal["unpaid", "partly_paid", "paid", "no_charge"]
Queue = Literal["unapproved_maintenance", "issues", "repair_quotes"]
CallOutcome = Literal["no_answer", "undecided", "approved", "declined"]
# A follow-up's result: a call's outcome, or "missed" when its day passed with no call logged.
FollowUpResult = Literal["no_answer", "undecided", "approved", "declined", "missed"]
IssueKind = Literal["complaint", "field_issue"]
EstimateStatus = Literal["sent", "viewed", "accepted", "declined"]


@catalogued("tickets.customer_recorded.v1")
class CustomerRecorded(EventData):
    """Tickets keeps the customer of a new lead (jobs counts it as tickets' acknowledgement)."""

    job_id: str
    customer_name: str
    property_address: str


class TicketCustomer(BaseModel):
    name: str
    property_address: str
    phone: str | None = None
    email: str | None = None


class TicketLineItem(BaseModel):
    line_item_id: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal


class TicketAssignment(BaseModel):
    technician_ids: list[str] = Field(default_factory=list)
    crew_id: str | None = None
    admin_id: str | None = Field(None, description="The product admin the ticket is routed to.")


@catalogued("tickets.ticket_opened.v1")
class TicketOpened(EventData):
    ticket_id: str
    ticket_number: str
    type: TicketType
    status: TicketStatus
    customer: TicketCustomer
    job_id: str | None = Field(None, description="The past job the ticket is about, if any.")
    installed_by_crew_id: str | None = Field(None, description="The crew of the original job.")
    trades: list[str] = Field(default_factory=list)
    line_items: list[TicketLineItem]
    amount_due: Decimal
    payment_status: PaymentStatus
    assignment: TicketAssignment
    queue: Queue | None = None
    opened_by: str


@catalogued("tickets.ticket_status_changed.v1")
class TicketStatusChanged(EventData):
    ticket_id: str
    job_id: str | None
    from_status: TicketStatus
    to_status: TicketStatus
    by: str
    reason: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    completed_at: datetime | None = None


@catalogued("tickets.ticket_assigned.v1")
class TicketAssigned(EventData):
    """Who works the ticket now (messaging opens and closes its threads from this)."""

    ticket_id: str
    job_id: str | None
    customer: TicketCustomer
    assignment: TicketAssignment
    by: str


@catalogued("tickets.line_items_changed.v1")
class TicketLineItemsChanged(EventData):
    ticket_id: str
    job_id: str | None
    customer: TicketCustomer
    line_items: list[TicketLineItem]
    amount_due: Decimal
    payment_status: PaymentStatus


class BookedVisit(BaseModel):
    day: date
    technician_id: str


@catalogued("tickets.visits_booked.v1")
class VisitsBooked(EventData):
    """Trips booked on the schedule for the ticket (seed 003: every return trip at once, on
    approval, so the schedule cannot be overbooked later)."""

    ticket_id: str
    job_id: str | None
    customer: TicketCustomer
    visits: list[BookedVisit]
    assignment: TicketAssignment
    by: str


@catalogued("tickets.estimate_recorded.v1")
class EstimateRecorded(EventData):
    """The estimate sent for the customer's acceptance, and where it stands (seed 003)."""

    ticket_id: str
    status: EstimateStatus
    amount: Decimal | None
    by: str


@catalogued("tickets.waiver_recorded.v1")
class WaiverRecorded(EventData):
    """A waiver sent to the customer, or returned by them (seed 003: before the job starts)."""

    ticket_id: str
    waiver: str
    returned: bool
    outstanding: list[str]
    by: str


@catalogued("tickets.payment_info_on_file.v1")
class PaymentInfoOnFile(EventData):
    """Where the customer's payment information is kept (a reference, never the number)."""

    ticket_id: str
    customer: TicketCustomer
    kept_in: Literal["quickbooks", "card_processor"]
    reference: str
    by: str


@catalogued("tickets.ticket_queued.v1")
class TicketQueued(EventData):
    """The ticket entered (or left, ``queue`` None) a tracking queue of the service department."""

    ticket_id: str
    queue: Queue | None
    follow_up_due: date | None
    by: str


@catalogued("tickets.follow_up_moved.v1")
class FollowUpMoved(EventData):
    """A follow-up left undone moved to another day (the end-of-day reassignment, seed 003)."""

    ticket_id: str
    queue: Queue
    from_day: date | None
    to_day: date
    by: str


@catalogued("tickets.follow_up_logged.v1")
class FollowUpLogged(EventData):
    ticket_id: str
    call: int = Field(description="Which follow-up call this was (1, 2, ...).")
    outcome: FollowUpResult
    next_due: date | None
    escalated_to: str | None = None
    note: str | None = None
    by: str


@catalogued("tickets.issue_opened.v1")
class IssueOpened(EventData):
    """A complaint or an issue from the field is open on the customer's account: billing's
    collection policy holds collection while it is (``billing.collect_payment``)."""

    ticket_id: str
    kind: IssueKind
    job_id: str | None
    customer: TicketCustomer
    note: str


@catalogued("tickets.issue_resolved.v1")
class IssueResolved(EventData):
    """The repair that an issue opened is complete (or the ticket ended otherwise)."""

    ticket_id: str
    kind: IssueKind
    job_id: str | None
    resolution: TicketStatus


PlanStatus = Literal["proposed", "active", "paused", "declined", "ended"]


@catalogued("tickets.plan_proposed.v1")
class PlanProposed(EventData):
    """A New Weekly customer: the plan on trial, its tracking and tech work orders, the first
    visit (seed 003)."""

    plan_id: str
    customer: TicketCustomer
    job_id: str | None
    weekday: int = Field(ge=0, le=6, description="0 Monday .. 6 Sunday.")
    technician_id: str
    monthly_price: Decimal
    first_visit: date
    tracking_ticket_id: str
    tech_ticket_id: str
    by: str


@catalogued("tickets.plan_approved.v1")
class PlanApproved(EventData):
    """The customer agreed to the service package: billing invoices the first month prorated,
    then the monthly price (it pushes both to accounting)."""

    plan_id: str
    customer: TicketCustomer
    job_id: str | None
    tech_ticket_id: str
    monthly_price: Decimal
    starts_on: date
    first_month: date
    first_month_amount: Decimal
    first_month_visits: str = Field(description="How it is prorated, as the line shows it.")
    by: str


@catalogued("tickets.plan_changed.v1")
class PlanChanged(EventData):
    """Paused, resumed, a visit skipped, the day changed, declined or ended."""

    plan_id: str
    change: Literal["paused", "resumed", "visit_skipped", "day_changed", "declined", "ended"]
    status: PlanStatus
    weekday: int
    day: date | None = Field(None, description="The skipped visit, or the change's first day.")
    by: str


@catalogued("tickets.plan_visits_scheduled.v1")
class PlanVisitsScheduled(EventData):
    """Visits the plan put on the technician's calendar (the rolling horizon kept filled), or
    took off it (``canceled``)."""

    plan_id: str
    tech_ticket_id: str
    technician_id: str
    scheduled: list[date]
    canceled: list[date] = Field(default_factory=list)


# -- decision points ----------------------------------------------------------------------------


class FollowUpState(Facts):
    queue: Queue
    calls_made: int = Field(ge=0, description="Follow-up calls logged or missed so far.")
    last_outcome: FollowUpResult | None = None


@decision_point(
    "tickets.follow_up",
    "Scheduling the next follow-up call on a queued ticket, or escalating it (seed 003).",
)
class FollowUpFacts(Facts):
    ticket_type: TicketType
    follow_up: FollowUpState


class TechnicianLoad(Facts):
    user_id: str
    daily_capacity: int | None = Field(None, ge=0, description="Visits a day; unset: no limit.")
    fullest_day: date = Field(description="The day of the booking with the most visits.")
    visits_on_fullest_day: int = Field(ge=0, description="Visits that day with this booking.")
    room_on_fullest_day: int | None = Field(
        None, description="Capacity left that day after this booking (negative: over)."
    )


@decision_point(
    "tickets.book_visits",
    "Booking a ticket's visits on a technician's days (seed 003: never overbook the schedule).",
)
class BookVisitsFacts(Facts):
    ticket_type: TicketType
    technician: TechnicianLoad


class Waivers(Facts):
    outstanding: list[str] = Field(
        default_factory=list, description="Waivers sent and not yet returned, by name."
    )
    returned: int = Field(0, ge=0)


class PaymentOnFile(Facts):
    on_file: bool = Field(description="Payment information is on file (a reference to it).")


class EstimateState(Facts):
    status: EstimateStatus | None = Field(None, description="Unset: no estimate sent.")


@decision_point(
    "tickets.start_work",
    "Starting the work of a ticket (seed 003: waivers returned before the job starts).",
)
class StartWorkFacts(Facts):
    ticket_type: TicketType
    waivers: Waivers
    estimate: EstimateState
    payment: PaymentOnFile


@decision_point(
    "tickets.end_of_day",
    "Moving a queued ticket's undone follow-up at the end of the day (seed 003).",
)
class EndOfDayFacts(Facts):
    ticket_type: TicketType
    follow_up: FollowUpState
