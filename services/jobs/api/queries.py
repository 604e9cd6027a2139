"""Queries: search, the deadlines, a job and its audit trail, the pipeline and production boards,
the schedule calendar. Anyone may search and read a job (an installer or technician finds only
the jobs their crew is on); the boards and the audit are the office's."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Query

from services.jobs.api.common import OFFICE
from services.jobs.api.deps import AnyCaller, Deps
from services.jobs.api.models import (
    BoardColumn,
    CalendarEntry,
    DeadlineView,
    JobSearchText,
    JobView,
    PipelineBoard,
    ProductionBoard,
)
from services.jobs.handlers import queries
from shared.contracts.roles import ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.edge import Limit, Offset
from shared.platform.text import Day

ACCESS: dict[str, Collection[str]] = {
    "search": ROLES,
    "deadlines": OFFICE,
    "read_job": ROLES,
    "audit": OFFICE,
    "pipeline_board": OFFICE,
    "production_board": OFFICE,
    "calendar": OFFICE,
}

router = GuardedRouter(ACCESS, tags=["jobs"])


@router.get("/jobs", response_model=list[JobView])
async def search(
    deps: Deps,
    caller: AnyCaller,
    q: JobSearchText = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[JobView]:
    found = await queries.search(deps, caller, q, limit=limit, offset=offset)
    return [JobView.of(job, None) for job in found]


# Before ``/jobs/{job_id}``, which would otherwise take "deadlines" for a job id.
@router.get("/jobs/deadlines", response_model=list[DeadlineView])
async def deadlines(
    deps: Deps,
    caller: AnyCaller,
    within_days: Annotated[int, Query(ge=0, le=60)] = 2,
) -> list[DeadlineView]:
    """Jobs whose scheduling deadline is within ``within_days`` or already past."""
    rows = await queries.deadlines(deps, caller, timedelta(days=within_days))
    return [DeadlineView(**row) for row in rows]


@router.get("/jobs/{job_id}", response_model=JobView)
async def read_job(job_id: str, deps: Deps, caller: AnyCaller) -> JobView:
    job, acknowledged = await queries.get_job(deps, caller, job_id)
    return JobView.of(job, acknowledged)


@router.get("/jobs/{job_id}/audit")
async def audit(job_id: str, deps: Deps, caller: AnyCaller) -> list[dict[str, Any]]:
    """Who changed what, when and why."""
    return await queries.audit_trail(deps, caller, job_id)


@router.get("/pipeline", response_model=PipelineBoard)
async def pipeline_board(deps: Deps, caller: AnyCaller) -> PipelineBoard:
    """Jobs per milestone with counts and contract totals; unassigned leads apart."""
    columns, unassigned = await queries.board(deps, caller, "milestone")
    return PipelineBoard(
        milestones=[
            BoardColumn(status=s, count=c, contract_total=t) for s, (c, t) in columns.items()
        ],
        unassigned_leads=unassigned,
    )


@router.get("/production", response_model=ProductionBoard)
async def production_board(deps: Deps, caller: AnyCaller) -> ProductionBoard:
    columns, _ = await queries.board(deps, caller, "production_status")
    return ProductionBoard(
        statuses=[BoardColumn(status=s, count=c, contract_total=t) for s, (c, t) in columns.items()]
    )


@router.get("/schedule", response_model=list[CalendarEntry])
async def calendar(
    start: Annotated[Day, Query(description="First day (YYYY-MM-DD).")],
    end: Annotated[Day, Query(description="Last day, included.")],
    deps: Deps,
    caller: AnyCaller,
) -> list[CalendarEntry]:
    """The schedule calendar: each day's bookings by crew."""
    entries = await queries.calendar(deps, caller, start, end)
    return [
        CalendarEntry(
            day=day,
            crew_id=crew_id,
            crew_name=crew.name if crew else None,
            job_id=job_id,
            job_number=job.job_number if job else None,
            customer_name=job.customer.name if job else None,
        )
        for day, crew, job, crew_id, job_id in entries
    ]
