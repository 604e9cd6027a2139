"""The follow-up calls as the policy layer schedules them (policy ``follow_ups``,
``tickets.follow_up``): when a ticket's next call is due and who it is escalated to, and ending
its pending call's deadline. Used by the queues, the plans and the end-of-day move."""

from __future__ import annotations

from datetime import date

from services.tickets.domain import Ticket, facts
from services.tickets.domain.values import FollowUpResult, Queue
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.policy.asking import decide_or_refuse

TASK = "follow-up call"


async def next_follow_up(
    deps: TicketsDeps,
    uow: TicketsUnitOfWork,
    ticket: Ticket,
    *,
    entering: Queue | None = None,
    after: FollowUpResult | None = None,
) -> tuple[date | None, str | None]:
    """When the next call is due and who it is escalated to, as the policy decides, for a
    ticket ``entering`` a queue or ``after`` a call's result."""
    decision = await decide_or_refuse(
        deps.policy,
        uow,
        "tickets.follow_up",
        facts.follow_up(ticket, entering=entering, after=after),
        subject=ticket.ticket_id,
    )
    due = await deps.policy.schedule(
        uow.transaction, decision, subject=ticket.ticket_id, now=deps.clock()
    )
    escalations = decision.of("escalate")
    return (
        min(due).date() if due else None,
        escalations[0].to if escalations else None,
    )


async def end_pending_call(
    deps: TicketsDeps, uow: TicketsUnitOfWork, ticket: Ticket, *, status: str = "met"
) -> None:
    """The ticket's pending follow-up deadline will not fire: the call was made (``met``), or
    the ticket moved on or the call was moved (``canceled``)."""
    await deps.policy.meet(
        uow.transaction, tenant=uow.tenant_id, subject=ticket.ticket_id, task=TASK, status=status
    )
