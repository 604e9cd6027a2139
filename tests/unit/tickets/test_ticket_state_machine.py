"""The ticket aggregate: no sequence of commands reaches an invalid state (a property test), and
the events it records say what changed."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.tickets.domain import Customer, LineItem, Ticket, TicketRuleBroken
from services.tickets.domain.values import CLOSED_STATUSES, TRANSITIONS
from shared.contracts import tickets as contract

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
CUSTOMER = Customer(name="Dana Reyes", property_address="12 Elm St")


def new_ticket(**fields) -> tuple[Ticket, list]:
    return Ticket.open(
        **{
            "tenant_id": "acme",
            "ticket_id": "t1",
            "ticket_number": "T-2026-0001",
            "type": "service_call",
            "customer": CUSTOMER,
            "job": None,
            "line_items": [LineItem(description="Visit", unit_price=Decimal("95.00"))],
            "opened_by": "sue",
            "at": NOW,
            **fields,
        }
    )


COMMANDS = st.sampled_from(
    [
        "schedule",
        "start",
        "complete",
        "decline",
        "cancel",
        "assign",
        "add_line_item",
        "queue",
        "call_no_answer",
        "call_approved",
        "call_declined",
        "send_waiver",
        "return_waiver",
        "estimate_sent",
        "estimate_accepted",
    ]
)


def run(ticket: Ticket, command: str, at: datetime) -> list:
    day = at.date()
    match command:
        case "schedule":
            return ticket.schedule(day, day + timedelta(days=1), by="sue", at=at)
        case "start":
            return ticket.start(by="tom", at=at)
        case "complete":
            return ticket.complete(by="tom", at=at)
        case "decline":
            return ticket.decline(by="sue", at=at, reason="no")
        case "cancel":
            return ticket.cancel(by="sue", at=at)
        case "assign":
            return ticket.assign(technician_ids=["tom"], crew_id=None, admin_id=None, by="sue")
        case "add_line_item":
            return ticket.add_line_item(LineItem(description="Part", unit_price=Decimal("12.50")))
        case "send_waiver":
            return ticket.send_waiver("HOA", by="sue", at=at)
        case "return_waiver":
            return ticket.return_waiver("HOA", by="sue", at=at)
        case "estimate_sent" | "estimate_accepted":
            status = command.removeprefix("estimate_")
            return ticket.record_estimate(status, amount=None, by="sue", at=at)  # type: ignore[arg-type]
        case "queue":
            return ticket.place_in_queue("issues", follow_up_due=day, by="sue")
        case _:
            result = command.removeprefix("call_")
            return ticket.log_follow_up(
                result,  # type: ignore[arg-type]
                next_due=day + timedelta(days=2),
                escalated_to=None,
                by="sue",
                at=at,
            )


@settings(max_examples=300, deadline=None)
@given(commands=st.lists(COMMANDS, max_size=25), complaint=st.booleans())
def test_no_command_sequence_reaches_an_invalid_state(commands: list[str], complaint: bool) -> None:
    ticket, events = new_ticket(
        issue="complaint" if complaint else None, note="leak" if complaint else None
    )
    for step, command in enumerate(commands):
        before = ticket.model_copy(deep=True)
        try:
            events += run(ticket, command, NOW + timedelta(hours=step))
        except TicketRuleBroken:
            assert ticket == before, f"{command} was refused but changed the ticket"
            continue
        # Every status reached is one its predecessor may go to, and each change is kept.
        changes = ticket.history
        assert changes[0].to_status == "new"
        for earlier, later in itertools.pairwise(changes):
            assert later.from_status == earlier.to_status
            assert later.to_status in TRANSITIONS[earlier.to_status]
        assert ticket.status == changes[-1].to_status
        if ticket.status in CLOSED_STATUSES:
            assert ticket.queue is None and ticket.follow_up.next_due is None
        assert ticket.version == len(events)
        assert ticket.amount_due == sum(item.total for item in ticket.line_items)
        assert len(ticket.outstanding_waivers) <= 1  # one HOA waiver out at a time
    resolved = [e for e in events if isinstance(e, contract.IssueResolved)]
    assert len(resolved) == (1 if complaint and ticket.status in CLOSED_STATUSES else 0)


def test_a_customer_or_a_past_job_is_needed() -> None:
    try:
        new_ticket(customer=None)
    except TicketRuleBroken as exc:
        assert "a customer or a past job" in str(exc)
    else:
        raise AssertionError("a ticket with neither customer nor job was opened")


def test_line_items_total_to_the_cent() -> None:
    ticket, _ = new_ticket(
        line_items=[
            LineItem(
                description="Gutter guard", quantity=Decimal("3.5"), unit_price=Decimal("4.99")
            ),
            LineItem(description="Visit", unit_price=Decimal("0.00")),
        ]
    )
    assert ticket.amount_due == Decimal("17.47")  # 3.5 x 4.99 = 17.465, to the cent
    assert ticket.payment_status == "unpaid"


def test_scheduling_records_the_dates_on_the_event() -> None:
    ticket, _ = new_ticket()
    (changed,) = ticket.schedule(date(2026, 12, 2), date(2026, 12, 3), by="sue", at=NOW)
    assert isinstance(changed, contract.TicketStatusChanged)
    assert (changed.from_status, changed.to_status, changed.start_date, changed.end_date) == (
        "new",
        "scheduled",
        date(2026, 12, 2),
        date(2026, 12, 3),
    )
