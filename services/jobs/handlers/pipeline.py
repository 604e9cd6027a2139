"""Leads and the milestone pipeline: create, assign, move, approval requests, cancel."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from services.jobs.domain import Job, Milestone, facts
from services.jobs.domain.values import (
    Address,
    Customer,
)
from services.jobs.handlers.common import (
    change_job,
    decide_or_refuse,
    load_job,
    store_change,
)
from services.jobs.ports import JobsDeps, JobsUnitOfWork
from shared.auth import Caller
from shared.events import EventData


class CreateLead(BaseModel):
    customer: Customer
    address: Address
    sales_rep_id: str | None = None
    branch: str | None = None
    lead_source: str | None = None
    trades: list[str] | None = None


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
        trades=command.trades,  # type: ignore[arg-type]
    )
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await uow.jobs.add(job)
        await uow.jobs.audit(
            job.job_id, actor=caller.user_id, action="create_lead", at=job.created_at, detail={}
        )
        uow.record(job, recorded)
        await uow.commit()
    return job


async def assign_team(
    deps: JobsDeps, caller: Caller, job_id: str, people: dict[str, str | None], *, source: str
) -> Job:
    async def change(uow: JobsUnitOfWork, job: Job) -> Sequence[EventData]:
        return job.assign(by=caller.user_id, **people)

    return await change_job(deps, caller, job_id, "assign", change, source=source, detail=people)


async def move_milestone(
    deps: JobsDeps,
    caller: Caller,
    job_id: str,
    to: Milestone,
    *,
    reason: str | None,
    source: str,
) -> Job:
    """Move the job along the pipeline: ``jobs.change_job`` decides who may (a Sales user needs
    an approval), and reaching Approved first passes ``accounting.create_record`` (a sold job has
    at least one line item) and takes the tenant's next job number."""

    async def change(uow: JobsUnitOfWork, job: Job) -> Sequence[EventData]:
        return await _move(deps, uow, caller, job, to, reason=reason, source=source)

    return await change_job(
        deps,
        caller,
        job_id,
        "move_milestone",
        change,
        source=source,
        to_milestone=to,
        reason=reason,
        check=lambda job: job.check_move(to),
    )


async def _move(
    deps: JobsDeps,
    uow: JobsUnitOfWork,
    caller: Caller,
    job: Job,
    to: Milestone,
    *,
    reason: str | None,
    source: str,
) -> Sequence[EventData]:
    number = None
    if to == Milestone.APPROVED and job.job_number is None:
        await decide_or_refuse(
            deps,
            uow,
            "accounting.create_record",
            facts.create_record(job),
            job_id=job.job_id,
            source=source,
        )
        number = await uow.jobs.next_job_number(deps.clock().year)
    recorded = job.move_milestone(
        to, by=caller.user_id, at=deps.clock(), reason=reason, job_number=number
    )
    if to == Milestone.CANCELED:
        # A dead job holds no crew days and owes no scheduling.
        if job.team.crew_id is not None:
            await uow.crews.book(job.team.crew_id, job.job_id, [])
        await deps.policy.meet(
            uow.platform, tenant=uow.tenant_id, subject=job.job_id, status="canceled"
        )
    return recorded


async def request_approval(
    deps: JobsDeps, caller: Caller, job_id: str, to: Milestone, note: str | None, *, source: str
) -> Job:
    async def change(uow: JobsUnitOfWork, job: Job) -> Sequence[EventData]:
        return job.request_approval(to, by=caller.user_id, at=deps.clock(), note=note)

    return await change_job(
        deps,
        caller,
        job_id,
        "request_approval",
        change,
        source=source,
        to_milestone=to,
        reason=note,
        check=lambda job: job.check_move(to),
    )


async def decide_approval(
    deps: JobsDeps,
    caller: Caller,
    job_id: str,
    request_id: str,
    *,
    approve: bool,
    note: str | None,
    source: str,
) -> Job:
    """An approver answers a Sales user's request; approving performs the move as the approver
    (so ``jobs.change_job`` decides with the approver's roles)."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await load_job(uow, caller, job_id, for_update=True)
        request = job.pending_approval(request_id)
        to = request.to_milestone if approve else None
        await decide_or_refuse(
            deps,
            uow,
            "jobs.change_job",
            facts.change_job(job, caller.roles, "decide_approval", to_milestone=to, reason=note),
            job_id=job_id,
            source=source,
        )
        recorded = list(
            job.decide_approval(
                request_id, approve=approve, by=caller.user_id, at=deps.clock(), note=note
            )
        )
        if approve:
            recorded += await _move(
                deps, uow, caller, job, request.to_milestone, reason=note, source=source
            )
        await store_change(
            deps,
            uow,
            job,
            recorded,
            caller=caller,
            action="decide_approval",
            reason=note,
            detail={"request_id": request_id, "approved": approve},
        )
        await uow.commit()
    return job


async def cancel(
    deps: JobsDeps, caller: Caller, job_id: str, reason: str | None, *, source: str
) -> Job:
    return await move_milestone(
        deps, caller, job_id, Milestone.CANCELED, reason=reason, source=source
    )
