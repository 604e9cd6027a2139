"""Read-side handlers: a job, searches and the boards, the calendar, the deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from services.jobs.domain import Crew, Job
from services.jobs.domain.values import PIPELINE, Milestone, ProductionStatus
from services.jobs.handlers.common import load_job
from services.jobs.ports import JobsDeps
from shared.platform.http.auth import Caller, sees_only_own_work


async def get_job(deps: JobsDeps, caller: Caller, job_id: str) -> tuple[Job, dict[str, datetime]]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await load_job(uow, caller, job_id, for_update=False)
        return job, await uow.repos.jobs.acknowledgements(job_id)


async def acknowledgements(deps: JobsDeps, caller: Caller, job_id: str) -> dict[str, datetime]:
    """Which services answered the lead (for a job the caller just changed, so already seen)."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.jobs.acknowledgements(job_id)


async def audit_trail(deps: JobsDeps, caller: Caller, job_id: str) -> list[dict[str, Any]]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await load_job(uow, caller, job_id, for_update=False)
        return await uow.repos.jobs.audit_trail(job_id)


async def search(
    deps: JobsDeps, caller: Caller, text: str | None, *, limit: int, offset: int
) -> list[Job]:
    """By customer, address or job number; an installer only finds their crews' jobs."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        crew_ids = (
            await uow.repos.crews.of_member(caller.user_id) if sees_only_own_work(caller) else None
        )
        return await uow.repos.jobs.find(text=text, crew_ids=crew_ids, limit=limit, offset=offset)


async def board(
    deps: JobsDeps, caller: Caller, column: str
) -> tuple[dict[str, tuple[int, Decimal]], int]:
    """Counts and contract totals per milestone (assigned jobs only: unassigned leads are not in
    the pipeline) or per production status; and the number of unassigned leads."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        rows = await uow.repos.jobs.board(column)
    order = (
        [m.value for m in (*PIPELINE, Milestone.CANCELED)]
        if column == "milestone"
        else [s.value for s in ProductionStatus]
    )
    columns: dict[str, tuple[int, Decimal]] = {name: (0, Decimal("0.00")) for name in order}
    unassigned = 0
    for status, assigned, count, total in rows:
        if status is None:
            continue
        if column == "milestone" and not assigned:
            unassigned += count
            continue
        previous_count, previous_total = columns.get(status, (0, Decimal("0.00")))
        columns[status] = (previous_count + count, previous_total + total)
    return columns, unassigned


async def calendar(
    deps: JobsDeps, caller: Caller, start: date, end: date
) -> list[tuple[date, Crew | None, Job | None, str, str]]:
    """Every crew booking in [start, end]: (day, crew, job, crew id, job id)."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        bookings = await uow.repos.crews.calendar(start, end)
        crews = {crew.crew_id: crew for crew in await uow.repos.crews.all()}
        jobs: dict[str, Job | None] = {}
        for _, _, job_id in bookings:
            if job_id not in jobs:
                jobs[job_id] = await uow.repos.jobs.get(job_id)
    return [
        (day, crews.get(crew_id), jobs[job_id], crew_id, job_id)
        for day, crew_id, job_id in bookings
    ]


async def deadlines(deps: JobsDeps, caller: Caller, within: timedelta) -> list[dict[str, Any]]:
    """Jobs whose (scheduling) deadline is within ``within`` from now, or already past."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        rows = await uow.repos.jobs.deadlines(now + within)
    return [
        {**row, "status": "passed" if row["due_at"] <= now or row["status"] == "passed" else "near"}
        for row in rows
    ]


async def crews(deps: JobsDeps, caller: Caller) -> list[Crew]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.crews.all()
