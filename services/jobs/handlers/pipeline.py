"""Leads and the milestone pipeline: create, assign, move, approval requests, cancel.

Three commands change a job's milestone: a direct move (``cancel`` is one), an approval request
(checked when it is made) and its approval (which performs the move as the approver). Each passes
the same decisions, in ``common.decide_change``: the job can move there, ``jobs.change_job``
(``milestone_moves``), and on the sale ``accounting.create_record`` (``line_items``)."""

from __future__ import annotations

from collections.abc import Sequence

from services.jobs.domain import Job, Milestone
from services.jobs.domain.commands import (
    AssignTeam,
    Cancel,
    CreateLead,
    DecideApproval,
    MoveMilestone,
    RequestApproval,
)
from services.jobs.handlers.common import (
    JobChange,
    change_job,
    decide_change,
    load_job,
    record_events,
    store_change,
)
from services.jobs.ports import JobsDeps, JobsUnitOfWork
from shared.contracts.base import EventData
from shared.platform.http.auth import Caller


async def create_lead(deps: JobsDeps, caller: Caller, command: CreateLead) -> Job:
    """A new lead. A Sales user's own lead is assigned to them; anyone else's stays unassigned
    (kept, but not in the pipeline) unless they name the sales rep."""
    sales_rep = command.sales_rep_id or (caller.user_id if "sales" in caller.roles else None)
    job, recorded = Job.create_lead(
        tenant_id=caller.tenant_id,
        customer=command.customer,
        address=command.address,
        by=caller.user_id,
        at=deps.clock(),
        sales_rep_id=sales_rep,
        branch=command.branch,
        lead_source=command.lead_source,
        trades=command.trades,
    )
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await uow.repos.jobs.add(job)
        await uow.repos.jobs.audit(
            job.job_id, actor=caller.user_id, action="create_lead", at=job.created_at, detail={}
        )
        record_events(uow, job, recorded)
        await uow.commit()
    return job


async def assign_team(deps: JobsDeps, caller: Caller, command: AssignTeam) -> Job:
    people = command.people()
    return await change_job(
        deps,
        caller,
        JobChange("assign", command.job_id, detail=people),
        lambda uow, job: job.assign(by=caller.user_id, **people),
    )


async def move_milestone(deps: JobsDeps, caller: Caller, command: MoveMilestone) -> Job:
    """Move the job along the pipeline: ``jobs.change_job`` decides who may (a Sales user needs
    an approval), and reaching Approved first passes ``accounting.create_record`` (a sold job has
    at least one line item) and takes the tenant's next job number."""
    to, reason = command.to, command.reason
    return await change_job(
        deps,
        caller,
        JobChange("move_milestone", command.job_id, to_milestone=to, reason=reason),
        lambda uow, job: _move(deps, uow, caller, job, to, reason=reason),
    )


async def _move(
    deps: JobsDeps,
    uow: JobsUnitOfWork,
    caller: Caller,
    job: Job,
    to: Milestone,
    *,
    reason: str | None,
) -> Sequence[EventData]:
    """Make a move that passed ``decide_change``: the sale takes the tenant's next job number;
    a canceled job frees its crew and owes no scheduling."""
    number = None
    if job.sells_by_moving_to(to):
        number = await uow.repos.jobs.next_job_number(deps.clock().year)
    recorded = job.move_milestone(
        to, by=caller.user_id, at=deps.clock(), reason=reason, job_number=number
    )
    if to == Milestone.CANCELED:
        # A dead job holds no crew days and owes no scheduling.
        if job.team.crew_id is not None:
            await uow.repos.crews.book(job.team.crew_id, job.job_id, [])
        await deps.policy.meet(
            uow.transaction, tenant=uow.tenant_id, subject=job.job_id, status="canceled"
        )
    return recorded


async def request_approval(deps: JobsDeps, caller: Caller, command: RequestApproval) -> Job:
    """A Sales user submits a move for approval. The move's rules are decided now (an unassigned
    lead, a sale with no line item are refused at once) and again when it is approved."""
    to, note = command.to, command.note
    return await change_job(
        deps,
        caller,
        JobChange("request_approval", command.job_id, to_milestone=to, reason=note),
        lambda uow, job: job.request_approval(to, by=caller.user_id, at=deps.clock(), note=note),
    )


async def decide_approval(deps: JobsDeps, caller: Caller, command: DecideApproval) -> Job:
    """An approver answers a Sales user's request; approving performs the move as the approver,
    after the same decisions as a direct move (``decide_change``, with the approver's roles, on
    the job as it is now). Rejecting moves nothing: only who may decide is asked."""
    note = command.note
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await load_job(uow, caller, command.job_id, for_update=True)
        request = job.pending_approval(command.request_id)
        to = request.to_milestone if command.approve else None
        await decide_change(deps, uow, caller, job, "decide_approval", to, reason=note)
        recorded = list(
            job.decide_approval(
                command.request_id,
                approve=command.approve,
                by=caller.user_id,
                at=deps.clock(),
                note=note,
            )
        )
        if to is not None:
            recorded += await _move(deps, uow, caller, job, to, reason=note)
        await store_change(
            deps,
            uow,
            job,
            recorded,
            caller=caller,
            action="decide_approval",
            reason=note,
            detail={"request_id": command.request_id, "approved": command.approve},
        )
        await uow.commit()
    return job


async def cancel(deps: JobsDeps, caller: Caller, command: Cancel) -> Job:
    """Canceled/Dead is a move like any other (kept, never deleted)."""
    move = MoveMilestone(job_id=command.job_id, to=Milestone.CANCELED, reason=command.reason)
    return await move_milestone(deps, caller, move)
