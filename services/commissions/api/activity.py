"""Released activity: a job's records (each with its explanation), its salesmen's shares and
freebie flag, and an office user's adjustment."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, status
from pydantic import BaseModel

from services.commissions.api.deps import Deps
from services.commissions.domain.activity import (
    MANAGERS,
    ActivityRecord,
    CommissionJob,
    NewAdjustment,
    Shares,
)
from services.commissions.handlers import activity
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

# Commissions are sales and payroll business; never the field. A salesman reads only their own
# records (the handler filters); admins and the billing manager manage.
READERS = (*MANAGERS, "sales")
ACCESS = {
    "job_activity": READERS,
    "explain_record": READERS,
    "set_shares": MANAGERS,
    "set_freebie": MANAGERS,
    "record_adjustment": MANAGERS,
}

router = GuardedRouter(ACCESS, tags=["commissions"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]


class Freebie(BaseModel):
    freebie: bool


@router.get("/jobs/{job_id}/activity", response_model=list[ActivityRecord])
async def job_activity(job_id: Id, deps: Deps, caller: AnyCaller) -> list[ActivityRecord]:
    """The job's Released and Adjustment records, oldest first, each with the plan file version
    and hash and the explanation that made its amount (a salesman sees their own)."""
    return await activity.activity_of_job(deps, caller, job_id)


@router.get("/activity/{record_id}/explain", response_model=ActivityRecord)
async def explain_record(record_id: Id, deps: Deps, caller: AnyCaller) -> ActivityRecord:
    """Why this amount: the plan (id, version, content hash), the figures (contract, change
    orders, costs, tier reached) in words and as data, the share, and what was credited before."""
    return await activity.explain(deps, caller, record_id)


@router.put("/jobs/{job_id}/shares", response_model=CommissionJob)
async def set_shares(job_id: Id, body: Shares, deps: Deps, caller: AnyCaller) -> CommissionJob:
    """Who sold the job and their split (percentages adding up to 100)."""
    return await activity.set_shares(deps, caller, job_id, body)


@router.put("/jobs/{job_id}/freebie", response_model=CommissionJob)
async def set_freebie(job_id: Id, body: Freebie, deps: Deps, caller: AnyCaller) -> CommissionJob:
    """A freebie is tracked and earns nothing."""
    return await activity.set_freebie(deps, caller, job_id, body.freebie)


@router.post(
    "/jobs/{job_id}/adjustments",
    response_model=ActivityRecord,
    status_code=status.HTTP_201_CREATED,
)
async def record_adjustment(
    job_id: Id, body: NewAdjustment, deps: Deps, caller: AnyCaller
) -> ActivityRecord:
    """An office user's adjustment, with its note."""
    return await activity.record_adjustment(deps, caller, job_id, body)
