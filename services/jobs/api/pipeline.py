"""Leads and the milestone pipeline: create, assign, move, approval requests, cancel."""

from __future__ import annotations

from collections.abc import Collection

from services.jobs.api.common import APPROVERS, LEAD_TAKERS, PIPELINE_MOVERS, job_answer
from services.jobs.api.deps import AnyCaller, Deps
from services.jobs.api.models import (
    AssignTeam,
    Cancel,
    CreateLead,
    DecideApproval,
    JobView,
    MoveMilestone,
    RequestApproval,
)
from services.jobs.domain import commands
from services.jobs.handlers import pipeline
from shared.platform.http.access import GuardedRouter

ACCESS: dict[str, Collection[str]] = {
    "create_lead": LEAD_TAKERS,
    "assign": APPROVERS,
    "move_milestone": PIPELINE_MOVERS,
    "request_approval": PIPELINE_MOVERS,
    "decide_approval": PIPELINE_MOVERS,
    "cancel": PIPELINE_MOVERS,
}

router = GuardedRouter(ACCESS, tags=["jobs"])


@router.post("/jobs", status_code=201, response_model=JobView)
async def create_lead(body: CreateLead, deps: Deps, caller: AnyCaller) -> JobView:
    """Create a lead (customer, property, trades). A Sales user's lead is assigned to them."""
    lead = await pipeline.create_lead(deps, caller, commands.CreateLead(**dict(body)))
    return JobView.of(lead, {})  # no service has answered it yet


@router.post("/jobs/{job_id}/assign", response_model=JobView)
async def assign(job_id: str, body: AssignTeam, deps: Deps, caller: AnyCaller) -> JobView:
    """Assign the lead to a sales rep (it enters the pipeline); the CSA and managers."""
    command = commands.AssignTeam(job_id=job_id, **body.model_dump())
    return await job_answer(deps, caller, await pipeline.assign_team(deps, caller, command))


@router.post("/jobs/{job_id}/milestone", response_model=JobView)
async def move_milestone(
    job_id: str, body: MoveMilestone, deps: Deps, caller: AnyCaller
) -> JobView:
    """Move the job to another milestone (policy milestone_moves decides who may)."""
    command = commands.MoveMilestone(job_id=job_id, to=body.to, reason=body.reason)
    return await job_answer(deps, caller, await pipeline.move_milestone(deps, caller, command))


@router.post("/jobs/{job_id}/approval-requests", response_model=JobView, status_code=201)
async def request_approval(
    job_id: str, body: RequestApproval, deps: Deps, caller: AnyCaller
) -> JobView:
    """A Sales user submits the job for approval to move it to Approved (or beyond)."""
    command = commands.RequestApproval(job_id=job_id, to=body.to, note=body.note)
    return await job_answer(deps, caller, await pipeline.request_approval(deps, caller, command))


@router.post("/jobs/{job_id}/approval-requests/{request_id}/decision", response_model=JobView)
async def decide_approval(
    job_id: str, request_id: str, body: DecideApproval, deps: Deps, caller: AnyCaller
) -> JobView:
    """A CSA, production manager or admin approves (the move happens) or rejects it."""
    command = commands.DecideApproval(
        job_id=job_id, request_id=request_id, approve=body.approve, note=body.note
    )
    return await job_answer(deps, caller, await pipeline.decide_approval(deps, caller, command))


@router.post("/jobs/{job_id}/cancel", response_model=JobView)
async def cancel(job_id: str, body: Cancel, deps: Deps, caller: AnyCaller) -> JobView:
    """Mark the job Canceled/Dead, with the reason (it is kept, never deleted)."""
    command = commands.Cancel(job_id=job_id, reason=body.reason)
    return await job_answer(deps, caller, await pipeline.cancel(deps, caller, command))
