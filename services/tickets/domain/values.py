"""Value objects of a service ticket (seed 001 "Service Tickets") and its status scale.

Pure data: no I/O. Money is ``Decimal`` with two places; times are UTC; strings are bounded.
The vocabularies (types, statuses, queues, call outcomes) are the contract's, so the events and
the domain cannot drift apart.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.money import PaymentReference, to_cents
from shared.contracts.tickets import (
    CallOutcome,
    EstimateStatus,
    FollowUpResult,
    PaymentStatus,
    PlanStatus,
    Queue,
    TicketStatus,
    TicketType,
)

Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]

# Where a ticket may go from each status (seed 001: New -> Scheduled -> In Progress -> Complete,
# plus Declined and Canceled, which are kept, never deleted). Scheduled -> Scheduled reschedules.
TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    "new": frozenset({"scheduled", "declined", "canceled"}),
    "scheduled": frozenset({"scheduled", "in_progress", "declined", "canceled"}),
    "in_progress": frozenset({"complete", "canceled"}),
    "complete": frozenset(),
    "declined": frozenset(),
    "canceled": frozenset(),
}
CLOSED_STATUSES: frozenset[TicketStatus] = frozenset({"complete", "declined", "canceled"})

__all__ = [
    "CLOSED_STATUSES",
    "ESTIMATE_STEPS",
    "TRANSITIONS",
    "Assignment",
    "CallOutcome",
    "Customer",
    "Estimate",
    "EstimateStatus",
    "FollowUp",
    "FollowUpResult",
    "LineItem",
    "Money",
    "PaymentReference",
    "PaymentStatus",
    "PlanStatus",
    "Quantity",
    "Queue",
    "StatusChange",
    "TicketStatus",
    "TicketType",
    "Visit",
    "Waiver",
]


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Customer(Value):
    name: str = Field(min_length=1, max_length=200)
    property_address: str = Field(min_length=1, max_length=500)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)


class LineItem(Value):
    line_item_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    description: str = Field(min_length=1, max_length=500)
    quantity: Quantity = Decimal("1")
    unit_price: Money = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return to_cents(self.quantity * self.unit_price)


class Assignment(Value):
    """Who works the ticket: technicians, an installer crew, or both; and the product admin it
    is routed to."""

    technician_ids: tuple[str, ...] = ()
    crew_id: str | None = None
    admin_id: str | None = None

    def includes(self, user_id: str, crew_ids: tuple[str, ...] = ()) -> bool:
        return user_id in self.technician_ids or (
            self.crew_id is not None and self.crew_id in crew_ids
        )


class Visit(Value):
    """A trip to the customer booked on a technician's day."""

    day: date
    technician_id: str = Field(min_length=1, max_length=100)


# Where an estimate may go from each status; a revised estimate is sent again from any.
ESTIMATE_STEPS: dict[EstimateStatus | None, frozenset[EstimateStatus]] = {
    None: frozenset({"sent"}),
    "sent": frozenset({"sent", "viewed", "accepted", "declined"}),
    "viewed": frozenset({"sent", "viewed", "accepted", "declined"}),
    "accepted": frozenset({"sent"}),
    "declined": frozenset({"sent"}),
}


class Estimate(Value):
    status: EstimateStatus
    amount: Money | None = None
    at: datetime


class Waiver(Value):
    """A waiver the customer must return before the work starts (seed 003)."""

    name: str = Field(min_length=1, max_length=200)
    sent_at: datetime
    returned_at: datetime | None = None


class StatusChange(Value):
    from_status: TicketStatus | None
    to_status: TicketStatus
    at: datetime
    by: str
    reason: str | None = None


class FollowUp(Value):
    """The follow-up calls of a queued ticket ("Perform follow up calls ... until declined")."""

    calls_made: int = 0
    next_due: date | None = None
    escalated_to: str | None = None
    last_outcome: FollowUpResult | None = None
