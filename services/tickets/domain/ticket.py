"""The service ticket aggregate: a ticket or work order, its status flow with the date of every
change, who works it, its line items and money, and its place in the service department's
tracking queues (seed 003).

Every command checks the ticket's own rules (a command it cannot take raises
``TicketRuleBroken``), changes it, and returns the events it recorded; ``version`` counts the
events, so the n events of a command are its last n versions. Business rules that owners tune
(line items before accounting, the follow-up cadence) are the policy layer's; the handlers ask
it before calling these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from services.tickets.domain.errors import TicketRuleBroken
from services.tickets.domain.past_jobs import PastJob
from services.tickets.domain.ticket_state import TicketState
from services.tickets.domain.values import (
    ESTIMATE_STEPS,
    Assignment,
    Customer,
    Estimate,
    EstimateStatus,
    FollowUp,
    FollowUpResult,
    LineItem,
    PaymentReference,
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

# Call outcomes that end the follow-ups: the customer decided.
DECIDED: dict[FollowUpResult, TicketStatus | None] = {"approved": None, "declined": "declined"}


class Ticket(TicketState):
    """The aggregate: the commands on a ticket (its state and shared steps in ``TicketState``)."""

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        tenant_id: str,
        ticket_id: str,
        ticket_number: str,
        type: TicketType,
        customer: Customer | None,
        job: PastJob | None,
        line_items: Sequence[LineItem],
        opened_by: str,
        at: datetime,
        queue: Queue | None = None,
        follow_up_due: date | None = None,
        issue: IssueKind | None = None,
        note: str | None = None,
        plan_id: str | None = None,
    ) -> tuple[Ticket, list[EventData]]:
        """A new ticket, for a past job (its customer, address, trades and installing crew) or a
        customer of its own; ``queue`` places it in a tracking queue with its first follow-up."""
        if customer is None:
            if job is None:
                raise TicketRuleBroken("a ticket needs a customer or a past job to take one from")
            customer = job.customer
        ticket = cls(
            tenant_id=tenant_id,
            ticket_id=ticket_id,
            ticket_number=ticket_number,
            type=type,
            customer=customer,
            job_id=job.job_id if job else None,
            job_number=job.job_number if job else None,
            installed_by_crew_id=job.crew_id if job else None,
            installed_by_crew_name=job.crew_name if job else None,
            trades=job.trades if job else (),
            line_items=tuple(line_items),
            queue=queue,
            follow_up=FollowUp(next_due=follow_up_due if queue else None),
            issue=issue,
            note=note,
            plan_id=plan_id,
            opened_at=at,
            opened_by=opened_by,
            history=(StatusChange(from_status=None, to_status="new", at=at, by=opened_by),),
        )
        events: list[EventData] = [ticket._opened()]
        if issue is not None:
            events.append(
                contract.IssueOpened(
                    ticket_id=ticket_id,
                    kind=issue,
                    job_id=ticket.job_id,
                    customer=ticket._customer(),
                    note=note or "",
                )
            )
        ticket.version = len(events)
        return ticket, events

    # -- status ------------------------------------------------------------------------------

    def schedule(self, start: date, end: date, *, by: str, at: datetime) -> list[EventData]:
        if end < start:
            raise TicketRuleBroken(f"end_date {end} is before start_date {start}")
        self.check_move("scheduled")
        self.start_date, self.end_date = start, end
        return self._move("scheduled", by=by, at=at)

    def start(self, *, by: str, at: datetime) -> list[EventData]:
        self.check_move("in_progress")
        return self._move("in_progress", by=by, at=at)

    def complete(self, *, by: str, at: datetime) -> list[EventData]:
        self.check_move("complete")
        self.completed_at = at
        return self._move("complete", by=by, at=at)

    def decline(self, *, by: str, at: datetime, reason: str | None = None) -> list[EventData]:
        self.check_move("declined")
        return self._move("declined", by=by, at=at, reason=reason)

    def cancel(self, *, by: str, at: datetime, reason: str | None = None) -> list[EventData]:
        self.check_move("canceled")
        return self._move("canceled", by=by, at=at, reason=reason)

    def check_not_planned(self, action: str) -> None:
        """A weekly plan's work orders close with the plan (end or decline it), never alone."""
        if self.plan_id is not None:
            raise TicketRuleBroken(
                f"ticket {self.ticket_number} belongs to weekly plan {self.plan_id}: end or "
                f"decline the plan instead of trying to {action} the ticket"
            )

    def end_recurring(self, *, by: str, at: datetime, reason: str) -> list[EventData]:
        """A weekly plan ended or was declined: its work order is complete if its visits had
        begun, else canceled."""
        if self.is_closed:
            return []
        if self.status == "in_progress":
            return self.complete(by=by, at=at)
        return self.cancel(by=by, at=at, reason=reason)

    # -- who works it ------------------------------------------------------------------------

    def assign(
        self,
        *,
        technician_ids: Sequence[str],
        crew_id: str | None,
        admin_id: str | None,
        by: str,
    ) -> list[EventData]:
        self.check_open("assign")
        if not technician_ids and crew_id is None and admin_id is None:
            raise TicketRuleBroken("assign at least one technician, a crew or a product admin")
        self.assignment = Assignment(
            technician_ids=tuple(dict.fromkeys(technician_ids)), crew_id=crew_id, admin_id=admin_id
        )
        return self._recorded(
            contract.TicketAssigned(
                ticket_id=self.ticket_id,
                job_id=self.job_id,
                customer=self._customer(),
                assignment=self._assignment(),
                by=by,
            )
        )

    def book_visits(
        self, visits: Sequence[Visit], *, by: str, booked: Sequence[Visit] = ()
    ) -> list[EventData]:
        """Book trips on technicians' days (all at once, seed 003); their technicians join the
        ticket's assignment so they see it. ``booked``: what the calendar already holds for the
        ticket (a plan's tech work order has the plan's visits there)."""
        self.check_open("book visits on")
        if not visits:
            raise TicketRuleBroken("book at least one visit")
        taken = set(self.visits) | set(booked)
        doubled = {v for v in visits if visits.count(v) > 1} | set(visits) & taken
        if doubled:
            first = min(doubled, key=lambda v: (v.day, v.technician_id))
            raise TicketRuleBroken(
                f"{first.technician_id} is already booked on {first.day} for this ticket"
            )
        self.visits = tuple(sorted((*self.visits, *visits), key=lambda v: (v.day, v.technician_id)))
        technicians = dict.fromkeys(
            (*self.assignment.technician_ids, *(v.technician_id for v in visits))
        )
        self.assignment = self.assignment.model_copy(update={"technician_ids": tuple(technicians)})
        return self._recorded(
            contract.VisitsBooked(
                ticket_id=self.ticket_id,
                job_id=self.job_id,
                customer=self._customer(),
                visits=[contract.BookedVisit(**v.model_dump()) for v in visits],
                assignment=self._assignment(),
                by=by,
            )
        )

    # -- estimate and waivers (seed 003, New Service) -----------------------------------------

    def record_estimate(
        self, status: EstimateStatus, *, amount: Decimal | None, by: str, at: datetime
    ) -> list[EventData]:
        self.check_open("record an estimate on")
        was = self.estimate.status if self.estimate else None
        if status not in ESTIMATE_STEPS[was]:
            raise TicketRuleBroken(
                f"the estimate of ticket {self.ticket_number} cannot go from {was or 'none'} "
                f"to {status}"
            )
        kept = amount if amount is not None else (self.estimate.amount if self.estimate else None)
        self.estimate = Estimate(status=status, amount=kept, at=at)
        return self._recorded(
            contract.EstimateRecorded(ticket_id=self.ticket_id, status=status, amount=kept, by=by)
        )

    def send_waiver(self, name: str, *, by: str, at: datetime) -> list[EventData]:
        self.check_open("send a waiver for")
        if name in self.outstanding_waivers:
            raise TicketRuleBroken(f"waiver {name!r} is already out with the customer")
        self.waivers = (*self.waivers, Waiver(name=name, sent_at=at))
        return self._waiver_recorded(name, returned=False, by=by)

    def return_waiver(self, name: str, *, by: str, at: datetime) -> list[EventData]:
        self.check_open("return a waiver for")
        if name not in self.outstanding_waivers:
            raise TicketRuleBroken(f"no waiver {name!r} is out with the customer")
        self.waivers = tuple(
            waiver.model_copy(update={"returned_at": at})
            if waiver.name == name and waiver.returned_at is None
            else waiver
            for waiver in self.waivers
        )
        return self._waiver_recorded(name, returned=True, by=by)

    def put_payment_on_file(self, reference: PaymentReference, *, by: str) -> list[EventData]:
        self.check_open("put payment information on")
        self.payment_on_file = reference
        return self._recorded(
            contract.PaymentInfoOnFile(
                ticket_id=self.ticket_id,
                customer=self._customer(),
                kept_in=reference.kept_in,
                reference=reference.reference,
                by=by,
            )
        )

    def _waiver_recorded(self, name: str, *, returned: bool, by: str) -> list[EventData]:
        return self._recorded(
            contract.WaiverRecorded(
                ticket_id=self.ticket_id,
                waiver=name,
                returned=returned,
                outstanding=self.outstanding_waivers,
                by=by,
            )
        )

    # -- money -------------------------------------------------------------------------------

    def add_line_item(self, item: LineItem) -> list[EventData]:
        self.check_open("add a line item to")
        self.line_items = (*self.line_items, item)
        return self._recorded(
            contract.TicketLineItemsChanged(
                ticket_id=self.ticket_id,
                job_id=self.job_id,
                customer=self._customer(),
                line_items=self._line_items(),
                amount_due=self.amount_due,
                payment_status=self.payment_status,
            )
        )

    # -- the tracking queues (seed 003) --------------------------------------------------------

    def place_in_queue(
        self, queue: Queue, *, follow_up_due: date | None, by: str
    ) -> list[EventData]:
        self.check_open("queue")
        self.queue = queue
        self.follow_up = FollowUp(next_due=follow_up_due)
        return self._queued(by)

    def move_follow_up(self, to_day: date, *, by: str) -> list[EventData]:
        """The undone follow-up moves to ``to_day`` (the end-of-day reassignment)."""
        self.check_queued()
        assert self.queue is not None
        was = self.follow_up.next_due
        self.follow_up = self.follow_up.model_copy(update={"next_due": to_day})
        return self._recorded(
            contract.FollowUpMoved(
                ticket_id=self.ticket_id, queue=self.queue, from_day=was, to_day=to_day, by=by
            )
        )

    def log_follow_up(
        self,
        result: FollowUpResult,
        *,
        next_due: date | None,
        escalated_to: str | None,
        by: str,
        at: datetime,
        note: str | None = None,
    ) -> list[EventData]:
        """A follow-up call's outcome (or a missed one): the customer approving takes the ticket
        out of its queue, declining declines it, anything else leaves it queued with its next
        follow-up on ``next_due``."""
        self.check_queued()
        then = DECIDED.get(result)
        if then is not None:
            self.check_move(then)  # before anything changes: a refusal leaves the ticket as it was
        decided = result in DECIDED
        self.follow_up = FollowUp(
            calls_made=self.follow_up.calls_made + 1,
            next_due=None if decided else next_due,
            escalated_to=escalated_to or self.follow_up.escalated_to,
            last_outcome=result,
        )
        events: list[EventData] = self._recorded(
            contract.FollowUpLogged(
                ticket_id=self.ticket_id,
                call=self.follow_up.calls_made,
                outcome=result,
                next_due=self.follow_up.next_due,
                escalated_to=escalated_to,
                note=note,
                by=by,
            )
        )
        if decided:
            self.queue = None
            events += self._queued(by)
            if then is not None:
                reason = f"declined on follow-up call {self.follow_up.calls_made}"
                events += self.decline(by=by, at=at, reason=reason)
        return events

    def _opened(self) -> contract.TicketOpened:
        return contract.TicketOpened(
            ticket_id=self.ticket_id,
            ticket_number=self.ticket_number,
            type=self.type,
            status=self.status,
            customer=self._customer(),
            job_id=self.job_id,
            installed_by_crew_id=self.installed_by_crew_id,
            trades=list(self.trades),
            line_items=self._line_items(),
            amount_due=self.amount_due,
            payment_status=self.payment_status,
            assignment=self._assignment(),
            queue=self.queue,
            opened_by=self.opened_by,
        )
