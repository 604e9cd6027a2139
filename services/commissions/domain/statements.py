"""What a salesman (or the company) is owed, by month and by year, and a statement for a period
(seed 001: "monthly and yearly views"), and payouts as contractors run them: ready to request,
requested, approved by a manager, paid (a paid payout never changes; a correction is an
adjustment, in the next one)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.commissions.domain.activity import ActivityRecord
from services.commissions.domain.figures import ZERO

PayoutStatus = Literal["requested", "approved", "paid"]


class Totals(BaseModel):
    model_config = ConfigDict(frozen=True)

    released: Decimal = ZERO
    adjusted: Decimal = ZERO
    advances_outstanding: Decimal = Field(ZERO, description="Drawn on jobs not released yet.")
    credited: Decimal = ZERO
    requested: Decimal = Field(ZERO, description="In payouts requested or approved, not paid.")
    paid: Decimal = ZERO
    payable: Decimal = Field(ZERO, description="Credited and in no payout yet: ready to request.")


class MonthTotals(Totals):
    month: str = Field(description="YYYY-MM")


class Summary(BaseModel):
    model_config = ConfigDict(frozen=True)

    salesman_id: str | None = Field(description="None: the company.")
    year: int
    months: tuple[MonthTotals, ...]
    year_totals: Totals


def totals(records: Iterable[ActivityRecord], paid: set[str], released_jobs: set[str]) -> Totals:
    """``paid``: the payouts paid; ``released_jobs``: (salesman, job) keys released, for the
    advances still outstanding."""
    kept = list(records)
    released = sum((r.amount for r in kept if r.kind == "released"), ZERO)
    adjusted = sum((r.amount for r in kept if r.kind == "adjustment"), ZERO)
    outstanding = sum(
        (
            r.amount
            for r in kept
            if r.advance and f"{r.salesman_id}/{r.job_id}" not in released_jobs
        ),
        ZERO,
    )
    in_paid = sum((r.amount for r in kept if r.payout_id in paid), ZERO)
    requested = sum((r.amount for r in kept if r.payout_id and r.payout_id not in paid), ZERO)
    credited = released + adjusted
    return Totals(
        released=released,
        adjusted=adjusted,
        advances_outstanding=outstanding,
        credited=credited,
        requested=requested,
        paid=in_paid,
        payable=credited - in_paid - requested,
    )


def summary(
    salesman_id: str | None, year: int, records: list[ActivityRecord], paid: set[str]
) -> Summary:
    released_jobs = {f"{r.salesman_id}/{r.job_id}" for r in records if r.kind == "released"}
    months = tuple(
        MonthTotals(
            month=f"{year}-{month:02d}",
            **totals(
                (r for r in records if r.effective_on.month == month), paid, released_jobs
            ).model_dump(),
        )
        for month in range(1, 13)
    )
    return Summary(
        salesman_id=salesman_id,
        year=year,
        months=months,
        year_totals=totals(records, paid, released_jobs),
    )


class Statement(BaseModel):
    """A salesman's records effective in [start, end), with their totals."""

    model_config = ConfigDict(frozen=True)

    salesman_id: str
    start: date
    end: date
    records: tuple[ActivityRecord, ...]
    totals: Totals


class NewPayout(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    salesman_id: str = Field(min_length=1, max_length=100)
    start: date
    end: date = Field(description="Exclusive: the first day after the period.")


class Payout(BaseModel):
    model_config = ConfigDict(frozen=True)

    payout_id: str
    salesman_id: str
    start: date
    end: date
    amount: Decimal
    record_ids: tuple[str, ...]
    status: PayoutStatus = "requested"
    requested_by: str
    requested_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    paid_by: str | None = None
    paid_at: datetime | None = None


NEXT: dict[str, PayoutStatus] = {"requested": "approved", "approved": "paid"}


class PayoutNotFound(LookupError):
    """No such payout the caller may see."""


class PayoutRefused(ValueError):
    """Nothing to request, or a step out of order (a paid payout never changes)."""
