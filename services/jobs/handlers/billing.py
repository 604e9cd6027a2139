"""Billing's events on the job, each in the consumer's unit of work (with its inbox row): the
invoice sent, the final payment received and reversed, the costs settled (``domain/billing.py``
says what each does to the job). A fact billing had already reported changes nothing.

After a new fact, an Invoiced job may be Closed (seed 004: "When the balance has been received
and all expenses have been entered and paid, you move the job to the Closed Milestone"), as the
Invoiced milestone follows the invoice sent: jobs asks ``jobs.change_job`` as a user's move is
asked (``auto_close``, to Closed, the actor ``billing``) and closes the job when the policy
allows it. Refused, the job waits for billing's next fact; the decision is logged with what is
missing, and an office user moving it to Closed is refused with the same items.

A reversal of a Closed job's final payment is a move back (``reverse_final_payment``, to
Invoiced, with billing's reason), asked the same way; refused, the job stays as it is and its
audit trail says which rules kept it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from services.jobs.domain import Job, Milestone, facts
from services.jobs.domain.billing import BILLING, CLOSED_ON_BILLING, reversal_reason
from services.jobs.handlers.common import record_events
from services.jobs.ports import JobsDeps, JobsUnitOfWork
from shared.contracts.base import EventData
from shared.contracts.billing import (
    FinalPaymentReceived,
    FinalPaymentReversed,
    InvoiceSent,
    JobCostsSettled,
)
from shared.policy.decision import BLOCKING, Decision

BillingEvent = InvoiceSent | FinalPaymentReceived | FinalPaymentReversed | JobCostsSettled
# What a billing fact does to the loaded job (at the time given): the events it recorded.
Apply = Callable[[Job, datetime], Sequence[EventData]]

# The roles the policy layer sees for billing's changes (``actor.roles``).
BILLING_ROLES = (BILLING,)


async def receive_invoice_sent(deps: JobsDeps, uow: JobsUnitOfWork, event: InvoiceSent) -> None:
    """A Completed job is Invoiced (and Closed, should billing's facts already allow it)."""
    await _receive(
        deps,
        uow,
        event,
        "receive_invoice_sent",
        {"invoice": event.number},
        lambda job, at: job.receive_invoice_sent(event.number, at=at),
    )


async def receive_final_payment(
    deps: JobsDeps, uow: JobsUnitOfWork, event: FinalPaymentReceived
) -> None:
    """The job is Released (now, or when it completes); an Invoiced job may close."""
    await _receive(
        deps,
        uow,
        event,
        "receive_final_payment",
        {"amount": str(event.amount), "received_on": event.received_on.isoformat()},
        lambda job, at: job.receive_final_payment(at=at),
    )


async def receive_costs_settled(
    deps: JobsDeps, uow: JobsUnitOfWork, event: JobCostsSettled
) -> None:
    """Whether every expense is entered and paid, kept on the job; an Invoiced job may close."""
    await _receive(
        deps,
        uow,
        event,
        "receive_costs_settled",
        {"settled": event.settled, "total_costs": str(event.total_costs)},
        lambda job, at: job.receive_costs_settled(event.settled, event.total_costs, at=at),
    )


async def receive_final_payment_reversed(
    deps: JobsDeps, uow: JobsUnitOfWork, event: FinalPaymentReversed
) -> None:
    """The release is undone: a Closed job goes back to Invoiced if the policy allows the move
    back; production is Complete again. A job with no final payment recorded is left alone."""
    job = await uow.repos.jobs.get(event.job_id, for_update=True)
    if job is None or not job.final_payment_received:
        return  # not a job of ours, or nothing to undo (never paid, or reversed already)
    now = deps.clock()
    detail: dict[str, Any] = {"balance": str(event.balance)}
    if job.reopens_on_reversal:
        reason = reversal_reason(event.reason)
        decision = await _decide(
            deps, uow, job, event, "reverse_final_payment", Milestone.INVOICED, reason=reason
        )
        if not decision.allowed:
            refused = [rule.rule for rule in decision.enforced if rule.outcome in BLOCKING]
            await _audit(
                uow,
                job,
                [],
                action="receive_final_payment_reversed",
                at=now,
                detail=detail | {"kept_closed_by": refused},
                reason=event.reason,
            )
            return
    recorded = job.receive_final_payment_reversed(event.reason, at=now)
    await _store(
        uow,
        job,
        recorded,
        action="receive_final_payment_reversed",
        at=now,
        detail=detail,
        reason=event.reason,
    )


async def _receive(
    deps: JobsDeps,
    uow: JobsUnitOfWork,
    event: BillingEvent,
    action: str,
    detail: dict[str, Any],
    apply: Apply,
) -> None:
    """Keep a fact of billing's on the job; if it is new, the job may close on it."""
    job = await uow.repos.jobs.get(event.job_id, for_update=True)
    if job is None:
        return  # not a job of ours
    now = deps.clock()
    before = job.model_copy(deep=True)
    recorded = list(apply(job, now))
    if job == before:
        return  # a fact billing had already reported
    recorded += await _close_if_due(deps, uow, job, event, now)
    await _store(uow, job, recorded, action=action, at=now, detail=detail)


async def _close_if_due(
    deps: JobsDeps, uow: JobsUnitOfWork, job: Job, event: BillingEvent, at: datetime
) -> list[EventData]:
    """An Invoiced job is Closed when ``jobs.change_job`` allows it on billing's facts."""
    if not job.awaits_payment:
        return []
    decision = await _decide(
        deps, uow, job, event, "auto_close", Milestone.CLOSED, reason=CLOSED_ON_BILLING
    )
    return list(job.close_on_billing(at=at)) if decision.allowed else []


async def _decide(
    deps: JobsDeps,
    uow: JobsUnitOfWork,
    job: Job,
    event: BillingEvent,
    command: str,
    to: Milestone,
    *,
    reason: str,
) -> Decision:
    """Ask about billing's move (logged in this unit of work, with the event that asked); a
    refusal is an answer here, not an error: the event is handled either way."""
    return await deps.policy.decide(
        uow.transaction,
        "jobs.change_job",
        facts.change_job(job, BILLING_ROLES, command, to_milestone=to, reason=reason),
        tenant=uow.tenant_id,
        subject=job.job_id,
        source=event.event_type,
    )


async def _store(
    uow: JobsUnitOfWork,
    job: Job,
    recorded: Sequence[EventData],
    *,
    action: str,
    at: datetime,
    detail: dict[str, Any],
    reason: str | None = None,
) -> None:
    await uow.repos.jobs.save(job, at=at)
    await _audit(uow, job, recorded, action=action, at=at, detail=detail, reason=reason)
    record_events(uow, job, recorded)


async def _audit(
    uow: JobsUnitOfWork,
    job: Job,
    recorded: Sequence[EventData],
    *,
    action: str,
    at: datetime,
    detail: dict[str, Any],
    reason: str | None = None,
) -> None:
    await uow.repos.jobs.audit(
        job.job_id,
        actor=BILLING,
        action=action,
        at=at,
        reason=reason,
        detail={**detail, "events": [event.event_type for event in recorded]},
    )
