"""The follow-up calls as the policy layer schedules them (policy ``follow_ups``,
``tickets.follow_up``): when a ticket's next call is due and who it is escalated to, and ending
its pending call's deadline. Used by the queues, the plans and the end-of-day move."""

from __future__ import annotations

from datetime import date

from services.tickets.domain import Ticket, facts
from services.tickets.domain.values import FollowUpResult, Queue
from services.tickets.ports import TicketsDeps, TicketsUnitOfWork
from shared.contracts.tickets import FollowUpFacts
from shared.policy.asking import decide_or_refuse
from shared.policy.decision import Decision

TASK = "follow-up call"


async def decide_follow_up(
    deps: TicketsDeps, uow: TicketsUnitOfWork, subject: str, facts_: FollowUpFacts
) -> Decision:
    """Ask ``tickets.follow_up`` (before anything is written: a refusal commits the unit of work
    as it stands)."""
    return await decide_or_refuse(deps.policy, uow, "tickets.follow_up", facts_, subject=subject)


async def schedule_follow_up(
    deps: TicketsDeps, uow: TicketsUnitOfWork, subject: str, decision: Decision
) -> tuple[date | None, str | None]:
    """The pending call's deadline ends and the decided one is stored: when the next call is
    due, and who the case is escalated to."""
    await end_pending_call(deps, uow, subject)
    due = await deps.policy.schedule(uow.transaction, decision, subject=subject, now=deps.clock())
    escalations = decision.of("escalate")
    return (
        min(due).date() if due else None,
        escalations[0].to if escalations else None,
    )


async def next_follow_up(
    deps: TicketsDeps,
    uow: TicketsUnitOfWork,
    ticket: Ticket,
    *,
    entering: Queue | None = None,
    after: FollowUpResult | None = None,
) -> tuple[date | None, str | None]:
    """When the next call is due and who it is escalated to, as the policy decides, for a
    ticket ``entering`` a queue or ``after`` a call's result; the pending call's deadline ends."""
    facts_ = facts.follow_up(ticket, entering=entering, after=after)
    decision = await decide_follow_up(deps, uow, ticket.ticket_id, facts_)
    return await schedule_follow_up(deps, uow, ticket.ticket_id, decision)


async def end_pending_call(
    deps: TicketsDeps, uow: TicketsUnitOfWork, ticket_id: str, *, status: str = "met"
) -> None:
    """The ticket's pending follow-up deadline will not fire: the call was made (``met``), or
    the ticket moved on or the call was moved (``canceled``)."""
    await deps.policy.meet(
        uow.transaction, tenant=uow.tenant_id, subject=ticket_id, task=TASK, status=status
    )
