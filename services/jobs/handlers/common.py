"""What every jobs handler shares: loading a job the caller may see, asking the policy layer,
storing a change with its events and audit row, and the common shape of a command.

A command handler loads the job through the unit of work (locked for the change), asks the
policy layer (every change first passes ``jobs.change_job``: closed jobs are read-only, who may
move what), calls the domain, and commits the job, its events, its audit row and the decisions
together. Every command that would change the job's milestone (a direct move, an approval
request, its approval) passes the same decisions in ``decide_change``.
A refusal by policy commits only the decision log, then raises ``PolicyRefused`` naming every
rule that refused. Handlers raise domain errors only; ``api/errors.py`` answers them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from services.jobs.domain import Job, JobNotFound, Milestone, facts
from services.jobs.ports import JobsDeps, JobsUnitOfWork
from shared.contracts.base import EventData
from shared.platform.http.auth import Caller, sees_only_own_work
from shared.platform.storage.uow import record_versioned
from shared.policy.asking import decide_or_refuse as ask_policy
from shared.policy.decision import Decision


async def load_job(uow: JobsUnitOfWork, caller: Caller, job_id: str, *, for_update: bool) -> Job:
    job = await uow.repos.jobs.get(job_id, for_update=for_update)
    if job is None:
        raise JobNotFound(f"job {job_id} not found")
    if sees_only_own_work(caller) and job.team.crew_id not in await uow.repos.crews.of_member(
        caller.user_id
    ):
        raise JobNotFound(f"job {job_id} not found")  # not theirs: as if it did not exist
    return job


async def decide_or_refuse(
    deps: JobsDeps, uow: JobsUnitOfWork, point: str, facts_: BaseModel, *, job_id: str
) -> Decision:
    """Ask the policy layer about the job (``shared.policy.asking.decide_or_refuse``)."""
    return await ask_policy(deps.policy, uow, point, facts_, subject=job_id)


@dataclass(frozen=True)
class JobChange:
    """A command on one job as ``change_job`` runs it.

    ``command`` names it (the audit row's action and the ``command`` fact of ``jobs.change_job``);
    ``detail`` is what the audit row keeps of it; ``to_milestone`` is where it would move the job
    (``decide_change``) and ``reason`` why; ``check`` tests the job's own preconditions first (a
    command the job cannot take is a conflict, not a policy matter)."""

    command: str
    job_id: str
    detail: dict[str, Any] | None = None
    to_milestone: Milestone | None = None
    reason: str | None = None
    check: Callable[[Job], None] | None = None


# What a command does to the loaded, allowed job: the events it recorded. It may use the unit of
# work (to book a crew, ask a further decision) and so may be async.
Apply = Callable[[JobsUnitOfWork, Job], Sequence[EventData] | Awaitable[Sequence[EventData]]]


async def change_job(deps: JobsDeps, caller: Caller, change: JobChange, apply: Apply) -> Job:
    """The common shape of a command on a job: lock; ``check``; ``decide_change``; apply;
    store; commit."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await load_job(uow, caller, change.job_id, for_update=True)
        if change.check is not None:
            change.check(job)
        await decide_change(
            deps, uow, caller, job, change.command, change.to_milestone, reason=change.reason
        )
        applied = apply(uow, job)
        recorded = applied if isinstance(applied, Sequence) else await applied
        await store_change(
            deps,
            uow,
            job,
            recorded,
            caller=caller,
            action=change.command,
            detail=change.detail,
            reason=change.reason,
        )
        await uow.commit()
    return job


async def decide_change(
    deps: JobsDeps,
    uow: JobsUnitOfWork,
    caller: Caller,
    job: Job,
    command: str,
    to_milestone: Milestone | None,
    *,
    reason: str | None = None,
) -> None:
    """The decisions a change of ``job`` passes before it is made, the same on every path.

    Every change passes ``jobs.change_job``. A command that would move the job to
    ``to_milestone`` (``move_milestone``, ``request_approval``, ``decide_approval`` approving)
    is first checked against the job's structure (``check_move``: a conflict, not a policy
    matter), and when the move would make the sale also passes ``accounting.create_record`` (the
    sold job goes to accounting). A request is checked when it is made and again when it is
    approved: the job may have changed in between."""
    if to_milestone is not None:
        job.check_move(to_milestone)
    await decide_or_refuse(
        deps,
        uow,
        "jobs.change_job",
        facts.change_job(job, caller.roles, command, to_milestone=to_milestone, reason=reason),
        job_id=job.job_id,
    )
    if to_milestone is not None and job.sells_by_moving_to(to_milestone):
        await decide_or_refuse(
            deps, uow, "accounting.create_record", facts.create_record(job), job_id=job.job_id
        )


async def store_change(
    deps: JobsDeps,
    uow: JobsUnitOfWork,
    job: Job,
    recorded: Sequence[EventData],
    *,
    caller: Caller,
    action: str,
    detail: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    now = deps.clock()
    await uow.repos.jobs.save(job, at=now)
    await uow.repos.jobs.audit(
        job.job_id,
        actor=caller.user_id,
        action=action,
        at=now,
        reason=reason,
        detail={"events": [event.event_type for event in recorded], **(detail or {})},
    )
    record_events(uow, job, recorded)


def record_events(uow: JobsUnitOfWork, job: Job, events: Sequence[EventData]) -> None:
    """Record a change's events, keyed by the job (``sequence`` = the job's versions)."""
    record_versioned(uow, events, subject=job.job_id, version=job.version)
