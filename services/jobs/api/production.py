"""Production: the hand-off from the office, scheduling, the crew, work started and completed,
and the crews suggested for a job."""

from __future__ import annotations

from collections.abc import Collection

from services.jobs.api.common import FIELD, PRODUCTION, job_answer
from services.jobs.api.deps import AnyCaller, Deps
from services.jobs.api.models import AssignCrew, CrewSuggestionView, JobView, ScheduleJob
from services.jobs.domain import commands
from services.jobs.handlers import production
from shared.platform.http.access import GuardedRouter

ACCESS: dict[str, Collection[str]] = {
    "hand_off": ("csa",),
    "schedule": PRODUCTION,
    "assign_crew": PRODUCTION,
    "start_work": (*PRODUCTION, "project_manager", *FIELD),
    "complete": ("csa", *PRODUCTION, "project_manager"),
    "crew_suggestions": PRODUCTION,
}

router = GuardedRouter(ACCESS, tags=["jobs"])


@router.post("/jobs/{job_id}/handoff", response_model=JobView)
async def hand_off(job_id: str, deps: Deps, caller: AnyCaller) -> JobView:
    """The CSA passes the approved file to Production (policy production_handoff checks it
    is complete; production_schedule sets the scheduling deadline)."""
    command = commands.HandOff(job_id=job_id)
    return await job_answer(deps, caller, await production.hand_off(deps, caller, command))


@router.post("/jobs/{job_id}/schedule", response_model=JobView)
async def schedule(job_id: str, body: ScheduleJob, deps: Deps, caller: AnyCaller) -> JobView:
    command = commands.ScheduleJob(job_id=job_id, **body.model_dump())
    return await job_answer(deps, caller, await production.schedule(deps, caller, command))


@router.post("/jobs/{job_id}/crew", response_model=JobView)
async def assign_crew(job_id: str, body: AssignCrew, deps: Deps, caller: AnyCaller) -> JobView:
    command = commands.AssignCrew(job_id=job_id, crew_id=body.crew_id)
    return await job_answer(deps, caller, await production.assign_crew(deps, caller, command))


@router.post("/jobs/{job_id}/start", response_model=JobView)
async def start_work(job_id: str, deps: Deps, caller: AnyCaller) -> JobView:
    command = commands.StartWork(job_id=job_id)
    return await job_answer(deps, caller, await production.start_work(deps, caller, command))


@router.post("/jobs/{job_id}/complete", response_model=JobView)
async def complete(job_id: str, deps: Deps, caller: AnyCaller) -> JobView:
    """Confirm the work complete (policy completion: the Post Roof Inspection photos, and a
    CSA's confirmation)."""
    command = commands.CompleteJob(job_id=job_id)
    return await job_answer(deps, caller, await production.complete(deps, caller, command))


@router.get("/jobs/{job_id}/crew-suggestions", response_model=list[CrewSuggestionView])
async def crew_suggestions(job_id: str, deps: Deps, caller: AnyCaller) -> list[CrewSuggestionView]:
    """Crews ranked by trade match, complexity and distance from the property."""
    suggestions = await production.crew_suggestions(deps, caller, job_id)
    return [CrewSuggestionView.of(suggestion) for suggestion in suggestions]
