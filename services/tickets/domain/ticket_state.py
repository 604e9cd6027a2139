"""The ticket's state: its fields (seed 001's service ticket, seed 003's tracking), what follows
from them, and the steps its commands share (``ticket.py`` says how the aggregate works)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.tickets.domain.errors import TicketRuleBroken
from services.tickets.domain.values import (
    CLOSED_STATUSES,
    TRANSITIONS,
    Assignment,
    Customer,
    Estimate,
    FollowUp,
    LineItem,
    PaymentReference,
    PaymentStatus,
    Queue,
    StatusChange,
    TicketStatus,
    TicketType,
    Visit,
    Waiver,
)
from shared.contracts import tickets as contract
from shared.contracts.base import EventData
from shared.contracts.tickets import IssueKind


class TicketState(BaseModel):
    """The ticket's data, what follows from it, and the steps every command shares."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    tenant_id: str
    ticket_id: str
    ticket_number: str
    version: int = 0
    type: TicketType
    status: TicketStatus = "new"
    customer: Customer
    job_id: str | None = None
    job_number: str | None = None
    installed_by_crew_id: str | None = None
    installed_by_crew_name: str | None = None
    trades: tuple[str, ...] = ()
    line_items: tuple[LineItem, ...]
    assignment: Assignment = Assignment()
    visits: tuple[Visit, ...] = ()
    estimate: Estimate | None = None
    waivers: tuple[Waiver, ...] = ()
    payment_on_file: PaymentReference | None = None
    plan_id: str | None = None
    queue: Queue | None = None
    follow_up: FollowUp = FollowUp()
    issue: IssueKind | None = None
    note: str | None = Field(None, max_length=4000)
    start_date: date | None = None
    end_date: date | None = None
    completed_at: datetime | None = None
    opened_at: datetime
    opened_by: str
    history: tuple[StatusChange, ...] = ()

    # -- what follows from the data ----------------------------------------------------------

    @property
    def amount_due(self) -> Decimal:
        return sum((item.total for item in self.line_items), Decimal("0.00"))

    @property
    def payment_status(self) -> PaymentStatus:
        # Payments are billing's; until it reports one, a ticket owes its total or nothing.
        return "no_charge" if self.amount_due == 0 else "unpaid"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def first_visit(self) -> date | None:
        """The day of the first trip to the customer: its first booked visit, else its start."""
        days = [visit.day for visit in self.visits] + ([self.start_date] if self.start_date else [])
        return min(days) if days else None

    @property
    def outstanding_waivers(self) -> list[str]:
        return [waiver.name for waiver in self.waivers if waiver.returned_at is None]

    # -- helpers -----------------------------------------------------------------------------

    def check_open(self, action: str) -> None:
        if self.is_closed:
            raise TicketRuleBroken(
                f"cannot {action} ticket {self.ticket_number}: it is {self.status}"
            )

    def check_queued(self) -> None:
        if self.queue is None:
            raise TicketRuleBroken(f"ticket {self.ticket_number} is in no queue to follow up")

    def check_move(self, to: TicketStatus) -> None:
        if to not in TRANSITIONS[self.status]:
            raise TicketRuleBroken(
                f"ticket {self.ticket_number} cannot go from {self.status} to {to}"
            )

    def _move(
        self, to: TicketStatus, *, by: str, at: datetime, reason: str | None = None
    ) -> list[EventData]:
        was = self.status
        self.status = to
        self.history = (
            *self.history,
            StatusChange(from_status=was, to_status=to, at=at, by=by, reason=reason),
        )
        events = self._recorded(
            contract.TicketStatusChanged(
                ticket_id=self.ticket_id,
                job_id=self.job_id,
                from_status=was,
                to_status=to,
                by=by,
                reason=reason,
                start_date=self.start_date,
                end_date=self.end_date,
                completed_at=self.completed_at,
            )
        )
        if self.is_closed:
            events += self._left_open(by)
        return events

    def _left_open(self, by: str) -> list[EventData]:
        """A closed ticket leaves its queue, and an issue it carried is resolved."""
        events: list[EventData] = []
        if self.queue is not None:
            self.queue = None
            self.follow_up = self.follow_up.model_copy(update={"next_due": None})
            events += self._queued(by)
        if self.issue is not None:
            events += self._recorded(
                contract.IssueResolved(
                    ticket_id=self.ticket_id,
                    kind=self.issue,
                    job_id=self.job_id,
                    resolution=self.status,
                )
            )
        return events

    def _queued(self, by: str) -> list[EventData]:
        return self._recorded(
            contract.TicketQueued(
                ticket_id=self.ticket_id,
                queue=self.queue,
                follow_up_due=self.follow_up.next_due,
                by=by,
            )
        )

    def _recorded(self, event: EventData) -> list[EventData]:
        self.version += 1
        return [event]

    def _customer(self) -> contract.TicketCustomer:
        return contract.TicketCustomer(**self.customer.model_dump())

    def _assignment(self) -> contract.TicketAssignment:
        return contract.TicketAssignment(
            technician_ids=list(self.assignment.technician_ids),
            crew_id=self.assignment.crew_id,
            admin_id=self.assignment.admin_id,
        )

    def _line_items(self) -> list[contract.TicketLineItem]:
        return [
            contract.TicketLineItem(**item.model_dump(), total=item.total)
            for item in self.line_items
        ]
