"""The commands the tickets handlers take, one per handler, named in the imperative.

What a caller asks of the service, whoever the caller is: the HTTP routes build them from their
request models, tests and other callers build them directly. Who asks (the ``Caller``) is passed
beside the command, not in it. A command on an existing ticket names it by ``ticket_id``.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.tickets.domain.plans import check_first_visit_day
from services.tickets.domain.values import (
    CallOutcome,
    Customer,
    EstimateStatus,
    LineItem,
    Money,
    PaymentReference,
    Queue,
    TicketType,
    Visit,
)
from shared.contracts.tickets import IssueKind
from shared.platform.text import Day, Identifier


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TicketCommand(Command):
    ticket_id: str


class Issue(Command):
    """A complaint or an issue from the field the ticket is opened for (seed 003)."""

    kind: IssueKind
    note: str = Field(min_length=1, max_length=4000)


class OpenTicket(Command):
    """A ticket or work order: for a past job (``job_id``: its customer, address, trades and
    installing crew come from jobs) or a customer of its own."""

    type: TicketType
    job_id: Identifier | None = None
    customer: Customer | None = None
    line_items: list[LineItem] = Field(default_factory=list, max_length=200)
    technician_ids: list[Identifier] = Field(default_factory=list, max_length=20)
    crew_id: Identifier | None = None
    queue: Queue | None = None
    issue: Issue | None = None
    note: str | None = Field(None, max_length=4000)


class ScheduleTicket(TicketCommand):
    start_date: Day
    end_date: Day


class ChangeStatus(TicketCommand):
    """Start, complete, decline or cancel (``reason`` kept with the change)."""

    reason: str | None = Field(None, max_length=1000)


class AssignTicket(TicketCommand):
    """Who works the ticket; with no ``admin_id`` the tenant's routing table picks the product
    admin for the ticket's trades (or keeps the one it has)."""

    technician_ids: list[Identifier] = Field(default_factory=list, max_length=20)
    crew_id: Identifier | None = None
    admin_id: Identifier | None = None


class AddLineItem(TicketCommand):
    line_item: LineItem


class BookVisits(TicketCommand):
    """Every trip the ticket needs, booked at once (seed 003), each on a technician's day."""

    visits: list[Visit] = Field(min_length=1, max_length=60)


class SetCapacity(Command):
    technician_id: Identifier
    daily_visits: int | None = Field(None, ge=0, le=50, description="None: no limit.")


class RecordEstimate(TicketCommand):
    status: EstimateStatus
    amount: Money | None = None


class RecordWaiver(TicketCommand):
    """A waiver sent to the customer, or (``returned``) back from them."""

    waiver: str = Field(min_length=1, max_length=200)
    returned: bool = False


class PlaceInQueue(TicketCommand):
    queue: Queue


class LogCall(TicketCommand):
    outcome: CallOutcome
    note: str | None = Field(None, max_length=4000)


class RouteToAdmin(Command):
    """One row of the tenant's routing table: tickets of ``key`` (a trade or a product) go to
    ``admin_id``; None removes the row."""

    key: Identifier
    admin_id: Identifier | None


# -- weekly plans (seed 003, New Weekly) ---------------------------------------------------------


class ProposePlan(Command):
    """A new weekly customer: a tracking and a tech work order, and the first visit."""

    job_id: Identifier | None = None
    customer: Customer | None = None
    weekday: int = Field(ge=0, le=6, description="0 Monday .. 6 Sunday.")
    technician_id: Identifier
    monthly_price: Money
    first_visit: Day

    @model_validator(mode="after")
    def first_visit_on_the_day(self) -> Self:
        check_first_visit_day(self.first_visit, self.weekday)
        return self


class PlanCommand(Command):
    plan_id: str


class SkipVisit(PlanCommand):
    day: Day


class ChangePlanDay(PlanCommand):
    weekday: int = Field(ge=0, le=6)


class PutPaymentOnFile(TicketCommand):
    payment: PaymentReference
