"""Released activity from jobs' and billing's events (seed 001): the job's figures and salesmen
kept; a Released record per salesman when billing reports the final payment, effective that
day; an Adjustment when a change order comes after release, when a reversal claws the release
back (partly or wholly), when the final payment comes again, or when an office user records
one. Every amount carries the plan file version, content hash and explanation that made it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.commissions.domain.activity import (
    ADVANCE,
    CENT,
    MANAGERS,
    ActivityKind,
    ActivityRecord,
    ActivityRefused,
    CommissionJob,
    JobNotKnown,
    NewAdjustment,
    RecordNotFound,
    Share,
    Shares,
    clawback_fraction,
    credited,
)
from services.commissions.domain.figures import Evaluation, JobFigures, PlanInvalid, PlanNotFound
from services.commissions.plans import split
from services.commissions.ports import CommissionsDeps, CommissionsUnitOfWork
from shared.contracts.billing import (
    ExpenseRecorded,
    FinalPaymentReceived,
    FinalPaymentReversed,
    JobCostsSettled,
)
from shared.contracts.commissions import CommissionAdjusted, CommissionReleased
from shared.contracts.jobs import ChangeOrderAdded, ContractSigned, JobSold, LeadCreated
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope

SYSTEM = "commissions"  # who keeps the records billing's and jobs' events cause


async def on_event(
    deps: CommissionsDeps, uow: CommissionsUnitOfWork, envelope: Envelope, event: Any
) -> None:
    """One of jobs' or billing's events, folded into what commissions keeps of the job; a
    release, a reversal, or a change to a released job's figures settles its salesmen."""
    if isinstance(event, LeadCreated):
        if await uow.repos.jobs.get(event.job_id) is None:
            shares = (Share(salesman_id=event.salesman_id, percent=Decimal("100")),)
            await uow.repos.jobs.put(
                CommissionJob(figures=JobFigures(job_id=event.job_id), shares=shares)
            )
        return
    job = await uow.repos.jobs.get(event.job_id, for_update=True)
    if job is None:
        return  # a job whose lead commissions never saw
    figures, on = job.figures, envelope.time.date()
    if isinstance(event, JobSold):
        update: dict[str, Any] = {"approved_on": event.sold_on}
        if event.contract_price is not None and figures.contract_price == 0:
            update["contract_price"] = event.contract_price
        job = job.model_copy(update={"figures": figures.model_copy(update=update)})
        if event.sales_rep_id and not job.shares:
            job = job.model_copy(
                update={"shares": (Share(salesman_id=event.sales_rep_id, percent=Decimal(100)),)}
            )
        await uow.repos.jobs.put(job)
        await draw_advances(deps, uow, job, event.sold_on, cause=envelope)
        return
    elif isinstance(event, ContractSigned):
        job = _figures(job, contract_price=event.contract_price)
        on = event.signed_on
    elif isinstance(event, ChangeOrderAdded):
        job = _figures(job, change_orders=figures.change_orders + event.amount)
        on = event.signed_on
    elif isinstance(event, ExpenseRecorded | JobCostsSettled):
        job = _figures(job, costs=event.total_costs)
    elif isinstance(event, FinalPaymentReceived):
        job = job.model_copy(update={"released_on": event.received_on})
        on = event.received_on
    elif isinstance(event, FinalPaymentReversed):
        await uow.repos.jobs.put(job.model_copy(update={"released_on": None}))
        await _claw_back(deps, uow, job, event.reversed_on or on, event, envelope)
        return
    await uow.repos.jobs.put(job)
    if job.released_on is not None:
        await settle(deps, uow, job, on, notes=_why(event), cause=envelope)


def _figures(job: CommissionJob, **update: Any) -> CommissionJob:
    return job.model_copy(update={"figures": job.figures.model_copy(update=update)})


def _why(event: Any) -> str:
    if isinstance(event, FinalPaymentReceived):
        return "final payment received"
    if isinstance(event, ChangeOrderAdded):
        return f"change order after release: {event.note} ({event.amount})"
    if isinstance(event, ContractSigned):
        return f"contract price after release: {event.contract_price}"
    return "costs changed after release"


async def settle(
    deps: CommissionsDeps,
    uow: CommissionsUnitOfWork,
    job: CommissionJob,
    on: date,
    *,
    notes: str,
    by: str = SYSTEM,
    cause: Envelope | None = None,
) -> list[ActivityRecord]:
    """Credit each salesman the difference between what the plans make them due on the job now
    and what they were credited: their first record is Released (even at 0.00 for a freebie,
    which is tracked), the next ones Adjustments."""
    before = await uow.repos.activity.of_job(job.job_id)
    due = await _due(deps, uow, job, on)
    records = []
    for share in job.shares:
        owed, evaluation = due[share.salesman_id]
        delta = owed - credited(before, share.salesman_id)
        first = not any(r.salesman_id == share.salesman_id and r.kind == "released" for r in before)
        if delta == 0 and not first:
            continue
        kind: ActivityKind = "released" if first else "adjustment"
        record = await _credit(
            deps, uow, job, share, kind, on, delta, owed, notes, by, evaluation, cause
        )
        records.append(record)
    return records


async def draw_advances(
    deps: CommissionsDeps,
    uow: CommissionsUnitOfWork,
    job: CommissionJob,
    on: date,
    *,
    cause: Envelope | None = None,
) -> None:
    """A plan with an advance pays each salesman their share of it when the job is approved
    (once); the release credits what is due less what was advanced, which recovers it."""
    before = await uow.repos.activity.of_job(job.job_id)
    due = await _due(deps, uow, job, on, advance=True)
    for share in job.shares:
        drawn, evaluation = due[share.salesman_id]
        if drawn == 0 or any(r.salesman_id == share.salesman_id for r in before):
            continue
        await _credit(
            deps, uow, job, share, "adjustment", on, drawn, drawn, ADVANCE, SYSTEM, evaluation,
            cause, advance=True,
        )  # fmt: skip


async def _due(
    deps: CommissionsDeps,
    uow: CommissionsUnitOfWork,
    job: CommissionJob,
    on: date,
    *,
    advance: bool = False,
) -> dict[str, tuple[Decimal, Evaluation]]:
    """Each salesman's due on the job (``advance``: the plan's advance instead): their plan's
    evaluation (with their month's volume for tiers) times their share; salesmen under the same
    plan version split its amount to the cent, so the parts add up exactly."""
    month = on.replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    evaluations = {}
    for share in job.shares:
        volume = await uow.repos.activity.volume(share.salesman_id, month, following)
        try:
            evaluations[share.salesman_id] = deps.plans.evaluate(
                uow.tenant_id, share.salesman_id, on, job.figures, volume + _volume(job, share)
            )
        except (PlanNotFound, PlanInvalid) as exc:
            # The event is retried, then dead-lettered with the reason: ops see it counted.
            deps.metrics.evaluation_errors.labels(type(exc).__name__).inc()
            raise
    parts = shares_of(job.shares, evaluations, advance=advance)
    return {who: (parts[who], evaluations[who]) for who in parts}


def shares_of(
    shares: tuple[Share, ...], evaluations: dict[str, Evaluation], *, advance: bool = False
) -> dict[str, Decimal]:
    """Each salesman's part of their evaluation (``advance``: of its advance): when every
    salesman's evaluation came to the same amount under the same plan version, it is split to the
    cent so the parts add up exactly; else each gets their share of their own, rounded."""

    def amount(e: Evaluation) -> Decimal:
        return e.advance if advance else e.amount

    same = {(e.plan_hash, amount(e)) for e in evaluations.values()}
    if len(same) == 1:
        whole = amount(next(iter(evaluations.values())))
        return split(whole, {s.salesman_id: s.percent for s in shares})
    return {s.salesman_id: _part(amount(evaluations[s.salesman_id]), s.percent) for s in shares}


def _part(amount: Decimal, percent: Decimal) -> Decimal:
    return (amount * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _volume(job: CommissionJob, share: Share) -> Decimal:
    return _part(job.figures.contract_total, share.percent)


async def _claw_back(
    deps: CommissionsDeps,
    uow: CommissionsUnitOfWork,
    job: CommissionJob,
    on: date,
    reversed_: FinalPaymentReversed,
    cause: Envelope,
) -> None:
    """Take back the part of each salesman's credit that the reopened balance is of the job."""
    before = await uow.repos.activity.of_job(job.job_id)
    fraction = clawback_fraction(reversed_.balance, job.figures.contract_total)
    for share in job.shares:
        had = credited(before, share.salesman_id)
        back = -_part(had, fraction * 100)
        if back == 0:
            continue
        notes = f"payment reversed, {reversed_.balance} owed again: {reversed_.reason}"
        await _credit(
            deps, uow, job, share, "adjustment", on, back, had + back, notes, SYSTEM, None, cause
        )


async def _credit(
    deps: CommissionsDeps,
    uow: CommissionsUnitOfWork,
    job: CommissionJob,
    share: Share,
    kind: ActivityKind,
    on: date,
    amount: Decimal,
    due: Decimal,
    notes: str,
    by: str,
    evaluation: Evaluation | None,
    cause: Envelope | None,
    *,
    advance: bool = False,
) -> ActivityRecord:
    """One more record of the salesman's activity on the job, kept with its event. A released
    record carries the salesman's share of the contract as the month's volume (tiers)."""
    record = ActivityRecord(
        record_id=str(uuid.uuid4()),
        job_id=job.job_id,
        salesman_id=share.salesman_id,
        kind=kind,
        effective_on=on,
        amount=amount,
        due=due,
        volume=_volume(job, share),
        share=share.percent,
        notes=notes,
        freebie=job.figures.freebie,
        advance=advance,
        evaluation=evaluation,
        by=by,
        recorded_at=deps.clock(),
    )
    await _keep(uow, record, cause)
    return record


async def _keep(uow: CommissionsUnitOfWork, record: ActivityRecord, cause: Envelope | None) -> None:
    await uow.repos.activity.add(record)
    e = record.evaluation
    plan = f"{e.plan_id}@{e.plan_version}#{e.plan_hash}" if e else None
    if record.kind == "released":
        uow.record(
            CommissionReleased(
                job_id=record.job_id,
                salesman_id=record.salesman_id,
                record_id=record.record_id,
                amount=record.amount,
                effective_on=record.effective_on,
                freebie=record.freebie,
                plan=plan,
            ),
            subject=record.job_id,
            cause=cause,
        )
    else:
        uow.record(
            CommissionAdjusted(
                job_id=record.job_id,
                salesman_id=record.salesman_id,
                record_id=record.record_id,
                amount=record.amount,
                effective_on=record.effective_on,
                notes=record.notes,
                plan=plan,
            ),
            subject=record.job_id,
            cause=cause,
        )


# -- what the office does ------------------------------------------------------------------------


async def _job(uow: CommissionsUnitOfWork, job_id: str) -> CommissionJob:
    job = await uow.repos.jobs.get(job_id, for_update=True)
    if job is None:
        raise JobNotKnown(f"no job {job_id} in commissions")
    return job


async def set_shares(
    deps: CommissionsDeps, caller: Caller, job_id: str, new: Shares
) -> CommissionJob:
    """A manager sets who sold the job and their split; a released job's salesmen are settled
    again at once (a salesman taken off is credited back to 0.00 by adjustment)."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await _job(uow, job_id)
        removed = {s.salesman_id for s in job.shares} - {s.salesman_id for s in new.shares}
        job = job.model_copy(update={"shares": new.shares})
        await uow.repos.jobs.put(job)
        if job.released_on is not None:
            on = deps.clock().date()
            if removed:
                raise ActivityRefused(
                    f"job {job_id} is released: {', '.join(sorted(removed))} cannot be taken off "
                    "its shares; record an adjustment instead"
                )
            await settle(deps, uow, job, on, notes="shares changed", by=caller.user_id)
        await uow.commit()
    return job


async def set_freebie(
    deps: CommissionsDeps, caller: Caller, job_id: str, freebie: bool
) -> CommissionJob:
    """A freebie is tracked and earns nothing: a released job is settled again at once."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = _figures(await _job(uow, job_id), freebie=freebie)
        await uow.repos.jobs.put(job)
        if job.released_on is not None:
            notes = "marked a freebie" if freebie else "no longer a freebie"
            await settle(deps, uow, job, deps.clock().date(), notes=notes, by=caller.user_id)
        await uow.commit()
    return job


async def record_adjustment(
    deps: CommissionsDeps, caller: Caller, job_id: str, new: NewAdjustment
) -> ActivityRecord:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job = await _job(uow, job_id)
        share = next((s for s in job.shares if s.salesman_id == new.salesman_id), None)
        if share is None:
            raise ActivityRefused(f"salesman_id: {new.salesman_id} has no share of job {job_id}")
        before = await uow.repos.activity.of_job(job_id)
        due = credited(before, new.salesman_id) + new.amount
        record = await _credit(
            deps, uow, job, share, "adjustment", new.effective_on, new.amount, due, new.notes,
            caller.user_id, None, None,
        )  # fmt: skip
        await uow.commit()
    return record


def _sees_all(caller: Caller) -> bool:
    """Managers see every salesman's records; a salesman only their own."""
    return bool(set(caller.roles) & set(MANAGERS))


async def activity_of_job(
    deps: CommissionsDeps, caller: Caller, job_id: str
) -> list[ActivityRecord]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await _job(uow, job_id)
        records = await uow.repos.activity.of_job(job_id)
    return [r for r in records if _sees_all(caller) or r.salesman_id == caller.user_id]


async def explain(deps: CommissionsDeps, caller: Caller, record_id: str) -> ActivityRecord:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        record = await uow.repos.activity.get(record_id)
    if record is None or not (_sees_all(caller) or record.salesman_id == caller.user_id):
        raise RecordNotFound(f"no activity record {record_id}")
    return record
