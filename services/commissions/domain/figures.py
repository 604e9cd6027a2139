"""What a commission is computed from, and what a computation answers (seed 001, "Commission
Tracking"): the job's figures as commissions keeps them from jobs' and billing's events, and an
evaluation that explains itself in words and as data, with the plan file version and content
hash it used. Pure: the plan files (``services.commissions.plans``) evaluate these."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ZERO = Decimal("0.00")


class JobFigures(BaseModel):
    """A job's figures a plan may use."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    contract_price: Decimal = ZERO
    change_orders: Decimal = Field(ZERO, description="Summed; a credit change order is negative.")
    costs: Decimal = Field(ZERO, description="Expenses entered in billing (gross-profit plans).")
    freebie: bool = Field(False, description="Tracked, earns nothing.")
    approved_on: date | None = Field(None, description="When the job was sold (advances).")

    @property
    def contract_total(self) -> Decimal:
        return self.contract_price + self.change_orders

    @property
    def gross_profit(self) -> Decimal:
        return self.contract_total - self.costs


class Evaluation(BaseModel):
    """A job's commission under one plan version, before it is split between its salesmen:
    the amount, and why, in words (``lines``) and as data (``figures``)."""

    model_config = ConfigDict(frozen=True)

    plan_id: str
    plan_version: str
    plan_hash: str = Field(description="The plan file's content hash: what computed this.")
    amount: Decimal = Field(description="To the cent; 0.00 for a freebie.")
    advance: Decimal = Field(ZERO, description="The draw the plan pays when the job is approved.")
    lines: tuple[str, ...] = Field(description="The computation in words, one step a line.")
    figures: dict[str, Any] = Field(
        default_factory=dict,
        description="The figures used: base, rate, tier reached, flat fee, ... (JSON values).",
    )


class PlanNotFound(LookupError):
    """No plan applies to the salesman on that date."""


class PlanInvalid(ValueError):
    """A plan file is refused: every problem with its file and line."""
