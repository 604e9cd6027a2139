"""Trying a candidate plan on a past period before it is adopted (the books are not touched)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends
from pydantic import BaseModel, Field

from services.commissions.api.deps import Deps
from services.commissions.domain.activity import MANAGERS
from services.commissions.domain.recompute import RecomputeReport
from services.commissions.handlers import recompute as recomputing
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

router = GuardedRouter({"recompute": MANAGERS}, tags=["commissions"])


class Candidate(BaseModel):
    plan: str = Field(
        min_length=1, max_length=100_000, description="The candidate plan file's YAML text."
    )
    start: date
    end: date = Field(description="Exclusive: the first day after the period.")


@router.post("/recompute", response_model=RecomputeReport)
async def recompute(
    body: Candidate, deps: Deps, caller: Annotated[Caller, Depends(current_caller)]
) -> RecomputeReport:
    """The period's released jobs under the candidate plan beside what the plans in force made
    each salesman due, per salesman and job, with the candidate's reasons; a candidate refused
    by the validator is 422 naming each problem with its line."""
    return await recomputing.recompute(deps, caller, body.plan.encode(), body.start, body.end)
