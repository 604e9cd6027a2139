"""Trying a candidate plan on the past before it is adopted: per salesman and job, what they were
credited under the plans in force and what the candidate would make them due (the books are not
touched)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.commissions.domain.figures import ZERO


class JobDifference(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_id: str
    salesman_id: str
    released_on: date
    current: Decimal = Field(description="Due under the plans in force (advances included).")
    candidate: Decimal = Field(description="Due under the candidate plan.")
    difference: Decimal
    current_plan: str | None
    why: tuple[str, ...] = Field(description="The candidate's evaluation, in words.")


class SalesmanDifference(BaseModel):
    model_config = ConfigDict(frozen=True)

    salesman_id: str
    jobs: int
    current: Decimal = ZERO
    candidate: Decimal = ZERO
    difference: Decimal = ZERO


class RecomputeReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    plan: str = Field(description="The candidate: id@version#content hash.")
    start: date
    end: date
    salesmen: tuple[SalesmanDifference, ...]
    jobs: tuple[JobDifference, ...]
    current: Decimal
    candidate: Decimal
    difference: Decimal


def report(plan: str, start: date, end: date, jobs: list[JobDifference]) -> RecomputeReport:
    by: dict[str, SalesmanDifference] = {}
    for job in jobs:
        was = by.get(job.salesman_id) or SalesmanDifference(salesman_id=job.salesman_id, jobs=0)
        by[job.salesman_id] = SalesmanDifference(
            salesman_id=job.salesman_id,
            jobs=was.jobs + 1,
            current=was.current + job.current,
            candidate=was.candidate + job.candidate,
            difference=was.difference + job.difference,
        )
    current = sum((j.current for j in jobs), ZERO)
    candidate = sum((j.candidate for j in jobs), ZERO)
    return RecomputeReport(
        plan=plan,
        start=start,
        end=end,
        salesmen=tuple(by[s] for s in sorted(by)),
        jobs=tuple(jobs),
        current=current,
        candidate=candidate,
        difference=candidate - current,
    )
