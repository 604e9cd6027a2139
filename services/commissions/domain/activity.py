"""Released activity (seed 001, "Commission Tracking": "ReleasedActivity records with effective
date, type (Released or Adjustment), notes, freebie flag, and linkage to job and salesman").

What commissions keeps of a job (its figures and its salesmen's shares, from jobs' and billing's
events or set by a manager), and the records of what each salesman is credited. A record is
never edited: whatever changes what is due (a change order after release, a payment reversed, a
re-release) is one more record, the difference between what is due now and what was credited.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.commissions.domain.figures import ZERO, Evaluation, JobFigures

ActivityKind = Literal["released", "adjustment"]
# Who manages commissions (sets shares and freebies, adjusts, sees every salesman's records).
MANAGERS = ("admin", "billing_manager")
CENT = Decimal("0.01")
ADVANCE = "advance (a draw on approval, recovered from the release)"
HUNDRED = Decimal("100")


class Share(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    salesman_id: str = Field(min_length=1, max_length=100)
    percent: Decimal = Field(gt=0, le=100, max_digits=7, decimal_places=4)


class Shares(BaseModel):
    """Who sold the job and their split: percentages that add up to exactly 100."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shares: tuple[Share, ...] = Field(min_length=1, max_length=10)

    @model_validator(mode="after")
    def _adds_up(self) -> Shares:
        total = sum((s.percent for s in self.shares), Decimal("0"))
        if total != HUNDRED:
            raise ValueError(f"shares add up to {total}%, not 100%")
        ids = [s.salesman_id for s in self.shares]
        if len(set(ids)) != len(ids):
            raise ValueError("a salesman appears twice in the shares")
        return self


class CommissionJob(BaseModel):
    """A job as commissions keeps it."""

    model_config = ConfigDict(frozen=True)

    figures: JobFigures
    shares: tuple[Share, ...] = ()
    released_on: date | None = Field(None, description="Billing's final payment, if standing.")

    @property
    def job_id(self) -> str:
        return self.figures.job_id


class ActivityRecord(BaseModel):
    """One line of a salesman's released activity."""

    model_config = ConfigDict(frozen=True)

    record_id: str
    job_id: str
    salesman_id: str
    kind: ActivityKind
    effective_on: date
    amount: Decimal = Field(description="Credited (negative: clawed back).")
    due: Decimal = Field(description="What the salesman is due on the job after this record.")
    volume: Decimal = Field(description="The salesman's share of the job's contract total.")
    share: Decimal = Field(description="The salesman's percent of the job.")
    notes: str = ""
    freebie: bool = False
    advance: bool = Field(False, description="A draw on approval, recovered from the release.")
    payout_id: str | None = Field(None, description="The payout it was requested in.")
    evaluation: Evaluation | None = Field(None, description="None: an office user's adjustment.")
    by: str
    recorded_at: datetime


class NewAdjustment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    salesman_id: str = Field(min_length=1, max_length=100)
    amount: Decimal = Field(max_digits=12, decimal_places=2)
    effective_on: date
    notes: str = Field(min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _not_zero(self) -> NewAdjustment:
        if self.amount == 0:
            raise ValueError("amount: an adjustment of 0.00 changes nothing")
        return self


def credited(records: Iterable[ActivityRecord], salesman_id: str) -> Decimal:
    return sum((r.amount for r in records if r.salesman_id == salesman_id), ZERO)


def clawback_fraction(balance: Decimal, contract_total: Decimal) -> Decimal:
    """How much of the release a reversal takes back: the share of the job owed again (all of
    it when the whole contract is owed again, or nothing can be said of the contract)."""
    if contract_total <= 0:
        return Decimal("1")
    return min(Decimal("1"), max(ZERO, balance / contract_total))


class RecordNotFound(LookupError):
    """No such record the caller may see."""


class JobNotKnown(LookupError):
    """No job of that id in commissions (its lead never reached it), in the caller's tenant."""


class RecomputeRefused(ValueError):
    """A candidate plan that cannot be tried here (another tenant's)."""


class ActivityRefused(ValueError):
    """The command does not fit the job's state (a freebie's release, shares on a released job)."""
