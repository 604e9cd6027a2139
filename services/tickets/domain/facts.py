"""The facts tickets gives the policy layer at each decision point it asks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from services.tickets.domain.ticket import Ticket
from services.tickets.domain.values import FollowUpResult, LineItem, Queue, TicketType
from shared.contracts.billing import AccountingRecord, CreateRecordFacts
from shared.contracts.tickets import (
    BookVisitsFacts,
    EndOfDayFacts,
    EstimateState,
    FollowUpFacts,
    FollowUpState,
    PaymentOnFile,
    StartWorkFacts,
    TechnicianLoad,
    Waivers,
)


def create_record(line_items: Sequence[LineItem]) -> CreateRecordFacts:
    """A ticket or work order goes to accounting (seed 003: never one without a line item)."""
    return CreateRecordFacts(
        record=AccountingRecord(
            kind="work_order",
            line_items=len(line_items),
            total=sum((item.total for item in line_items), Decimal("0.00")),
        )
    )


def follow_up(
    ticket: Ticket, *, entering: Queue | None = None, after: FollowUpResult | None = None
) -> FollowUpFacts:
    """Where ``ticket`` stands in its follow-up calls: ``entering`` a queue (no calls yet), or
    just ``after`` a call's result (counted)."""
    if entering is not None:
        return entering_queue(ticket.type, entering)
    if ticket.queue is None:
        raise ValueError("follow-up facts need the queue the ticket is in or entering")
    state = FollowUpState(
        queue=ticket.queue, calls_made=ticket.follow_up.calls_made + 1, last_outcome=after
    )
    return FollowUpFacts(ticket_type=ticket.type, follow_up=state)


def entering_queue(ticket_type: TicketType, queue: Queue) -> FollowUpFacts:
    """A ticket of ``ticket_type`` entering ``queue``: no calls yet."""
    return FollowUpFacts(
        ticket_type=ticket_type, follow_up=FollowUpState(queue=queue, calls_made=0)
    )


def book_visits(
    ticket_type: TicketType, technician_id: str, capacity: int | None, load: dict[date, int]
) -> BookVisitsFacts:
    """A technician's fullest day of a booking: ``load`` is their visits per day of the booking,
    this booking's included."""
    fullest = max(load, key=lambda day: (load[day], -day.toordinal()))
    return BookVisitsFacts(
        ticket_type=ticket_type,
        technician=TechnicianLoad(
            user_id=technician_id,
            daily_capacity=capacity,
            fullest_day=fullest,
            visits_on_fullest_day=load[fullest],
            room_on_fullest_day=None if capacity is None else capacity - load[fullest],
        ),
    )


def start_work(ticket: Ticket) -> StartWorkFacts:
    return StartWorkFacts(
        ticket_type=ticket.type,
        waivers=Waivers(
            outstanding=ticket.outstanding_waivers,
            returned=len(ticket.waivers) - len(ticket.outstanding_waivers),
        ),
        estimate=EstimateState(status=ticket.estimate.status if ticket.estimate else None),
        payment=PaymentOnFile(on_file=ticket.payment_on_file is not None),
    )


def end_of_day(ticket: Ticket) -> EndOfDayFacts:
    if ticket.queue is None:
        raise ValueError("end-of-day facts are of a queued ticket")
    return EndOfDayFacts(
        ticket_type=ticket.type,
        follow_up=FollowUpState(
            queue=ticket.queue,
            calls_made=ticket.follow_up.calls_made,
            last_outcome=ticket.follow_up.last_outcome,
        ),
    )
