"""Recompute: a candidate plan file evaluated over a past period's released jobs, beside what the
plans in force credited, per salesman and job. Read only: the books are not touched."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.commissions.domain.activity import ActivityRecord, RecomputeRefused
from services.commissions.domain.figures import Evaluation
from services.commissions.domain.recompute import JobDifference, RecomputeReport, report
from services.commissions.handlers.activity import shares_of
from services.commissions.plans import evaluate, parse_plan
from services.commissions.ports import CommissionsDeps
from shared.platform.http.auth import Caller


async def recompute(
    deps: CommissionsDeps, caller: Caller, content: bytes, start: date, end: date
) -> RecomputeReport:
    """Each salesman's released jobs effective in [start, end), in order, evaluated under the
    candidate with the month's volume as it grew (tiers), beside their due now."""
    candidate = parse_plan(content, "candidate plan", check_examples=True)
    if candidate.tenant != caller.tenant_id:
        raise RecomputeRefused(f"tenant: the candidate plan is for '{candidate.tenant}'")
    async with deps.unit_of_work(caller.tenant_id) as uow:
        released = [
            r for r in await uow.repos.activity.of_period(start, end) if r.kind == "released"
        ]
        ids = sorted({r.job_id for r in released})
        jobs = await uow.repos.jobs.get_many(ids)
        latest: dict[tuple[str, str], ActivityRecord] = {}
        for r in await uow.repos.activity.of_jobs(ids):
            latest[(r.salesman_id, r.job_id)] = r  # oldest first: the last one stays
    volume: dict[tuple[str, int, int], Decimal] = {}
    by_job: dict[str, dict[str, tuple[ActivityRecord, Evaluation]]] = {}
    for record in sorted(released, key=lambda r: (r.effective_on, r.recorded_at, r.record_id)):
        job = jobs.get(record.job_id)
        if job is None:
            continue
        month = (record.salesman_id, record.effective_on.year, record.effective_on.month)
        volume[month] = volume.get(month, Decimal("0.00")) + record.volume
        evaluation = evaluate(candidate, job.figures, volume[month])
        by_job.setdefault(record.job_id, {})[record.salesman_id] = (record, evaluation)
    found = []
    for job_id, evaluated in by_job.items():
        job = jobs[job_id]
        shares = tuple(s for s in job.shares if s.salesman_id in evaluated)
        parts = shares_of(shares, {who: e for who, (_, e) in evaluated.items()})
        for who, (record, evaluation) in evaluated.items():
            now, e = latest[(who, job_id)], record.evaluation
            found.append(
                JobDifference(
                    job_id=job_id,
                    salesman_id=who,
                    released_on=record.effective_on,
                    current=now.due,
                    candidate=parts[who],
                    difference=parts[who] - now.due,
                    current_plan=f"{e.plan_id}@{e.plan_version}#{e.plan_hash}" if e else None,
                    why=evaluation.lines,
                )
            )
    plan = f"{candidate.id}@{candidate.version}#{candidate.hash}"
    return report(plan, start, end, found)
