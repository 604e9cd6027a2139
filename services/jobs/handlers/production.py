"""Production: hand-off, scheduling, crews, work started and completed (billing's final payment
releases the job: ``billing.py``)."""

from __future__ import annotations

from collections.abc import Sequence

from services.jobs.domain import Crew, CrewNotFound, CrewSuggestion, Job, facts, suggest_crews
from services.jobs.domain.commands import AssignCrew, CompleteJob, HandOff, ScheduleJob, StartWork
from services.jobs.handlers.common import (
    JobChange,
    change_job,
    decide_or_refuse,
    load_job,
)
from services.jobs.ports import JobsDeps, JobsUnitOfWork
from shared.contracts.base import EventData
from shared.platform.http.auth import Caller
from shared.policy.decision import BLOCKING
from shared.policy.service import PolicyRefused


async def hand_off(deps: JobsDeps, caller: Caller, command: HandOff) -> Job:
    """The CSA passes the file to Production: ``jobs.submit_to_production`` refuses an incomplete
    file (every missing item listed) and sets the scheduling deadline."""
    return await change_job(
        deps,
        caller,
        JobChange("hand_off", command.job_id, check=Job.check_hand_off),
        lambda uow, job: _hand_off(deps, caller, uow, job),
    )


async def _hand_off(
    deps: JobsDeps, caller: Caller, uow: JobsUnitOfWork, job: Job
) -> Sequence[EventData]:
    try:
        decision = await decide_or_refuse(
            deps,
            uow,
            "jobs.submit_to_production",
            facts.submit_to_production(job),
            job_id=job.job_id,
        )
    except PolicyRefused as refused:
        for rule in refused.decision.enforced:
            if rule.outcome in BLOCKING:
                deps.metrics.handoffs_denied.labels(rule.policy, rule.rule).inc()
        raise
    due = await deps.policy.schedule(
        uow.transaction, decision, subject=job.job_id, now=deps.clock()
    )
    return job.hand_off(by=caller.user_id, at=deps.clock(), schedule_by=min(due, default=None))


async def schedule(deps: JobsDeps, caller: Caller, command: ScheduleJob) -> Job:
    """Production sets (or moves) the dates: the scheduling deadline is met. Moving the dates
    releases the crew's days (the crew is assigned again, its room checked then)."""
    detail = {"start_date": command.start_date.isoformat(), "duration_days": command.duration_days}
    return await change_job(
        deps,
        caller,
        JobChange("schedule", command.job_id, detail=detail),
        lambda uow, job: _schedule(deps, caller, command, uow, job),
    )


async def _schedule(
    deps: JobsDeps, caller: Caller, command: ScheduleJob, uow: JobsUnitOfWork, job: Job
) -> Sequence[EventData]:
    first_time = job.scheduling.start_date is None
    crew_before = job.team.crew_id
    recorded = job.schedule(
        start_date=command.start_date,
        duration_days=command.duration_days,
        complexity=command.complexity,
        by=caller.user_id,
        at=deps.clock(),
    )
    # Every open deadline of the job is about getting it scheduled (production_schedule).
    await deps.policy.meet(uow.transaction, tenant=uow.tenant_id, subject=job.job_id)
    if crew_before is not None and job.team.crew_id is None:
        await uow.repos.crews.book(crew_before, job.job_id, [])
    if first_time and job.handed_off_at is not None:
        deps.metrics.approval_to_scheduled.observe(
            (deps.clock() - job.handed_off_at).total_seconds()
        )
    return recorded


async def assign_crew(deps: JobsDeps, caller: Caller, command: AssignCrew) -> Job:
    """``jobs.assign_crew`` decides: trades, complexity, room on every day of the schedule, and
    who assigns special trades. The crew's row is locked while its days are counted."""
    return await change_job(
        deps,
        caller,
        JobChange(
            "assign_crew",
            command.job_id,
            detail={"crew_id": command.crew_id},
            check=Job.check_assign_crew,
        ),
        lambda uow, job: _assign_crew(deps, caller, command.crew_id, uow, job),
    )


async def _assign_crew(
    deps: JobsDeps, caller: Caller, crew_id: str, uow: JobsUnitOfWork, job: Job
) -> Sequence[EventData]:
    crew = await uow.repos.crews.get(crew_id)
    if crew is None:
        raise CrewNotFound(f"crew {crew_id} not found")
    busiest = await uow.repos.crews.busiest_day(crew_id, job.work_days, other_than=job.job_id)
    await decide_or_refuse(
        deps,
        uow,
        "jobs.assign_crew",
        facts.assign_crew(job, crew, caller.roles, busiest),
        job_id=job.job_id,
    )
    recorded = job.assign_crew(
        crew_id=crew.crew_id, crew_name=crew.name, member_ids=crew.member_ids, by=caller.user_id
    )
    await uow.repos.crews.book(crew.crew_id, job.job_id, job.work_days)
    return recorded


async def start_work(deps: JobsDeps, caller: Caller, command: StartWork) -> Job:
    return await change_job(
        deps,
        caller,
        JobChange("start_work", command.job_id),
        lambda uow, job: job.start_work(by=caller.user_id, at=deps.clock()),
    )


async def complete(deps: JobsDeps, caller: Caller, command: CompleteJob) -> Job:
    """The work is confirmed complete: ``jobs.complete_job`` requires the project manager's
    Post Roof Inspection photos and that the caller may confirm (a CSA, by default)."""
    return await change_job(
        deps,
        caller,
        JobChange("complete", command.job_id, check=Job.check_complete),
        lambda uow, job: _complete(deps, caller, uow, job),
    )


async def _complete(
    deps: JobsDeps, caller: Caller, uow: JobsUnitOfWork, job: Job
) -> Sequence[EventData]:
    await decide_or_refuse(
        deps, uow, "jobs.complete_job", facts.complete_job(job, caller.roles), job_id=job.job_id
    )
    return job.complete_production(by=caller.user_id, at=deps.clock())


async def add_crew(deps: JobsDeps, caller: Caller, crew: Crew) -> Crew:
    crew = crew.model_copy(update={"tenant_id": caller.tenant_id})
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await uow.repos.crews.add(crew)
        await uow.commit()
    return crew


async def crew_suggestions(deps: JobsDeps, caller: Caller, job_id: str) -> list[CrewSuggestion]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await load_job(uow, caller, job_id, for_update=False)
        crews = await uow.repos.crews.all()
    return suggest_crews(
        crews,
        trades=list(job.trades),
        complexity=job.scheduling.complexity,
        latitude=job.address.latitude,
        longitude=job.address.longitude,
    )
