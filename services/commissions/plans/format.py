"""The commission plan file format: one YAML file is one version of one tenant's plan (see
``commission_plans/README.md``).

These models are the single source of the format: ``commission_plans/schema.json`` is generated
from them (``python -m services.commissions.plans schema``), and the loader validates every file
against them before the checks across files (versions, assignments) in ``loader``. Money is to
the cent and rates are percents with up to 4 decimals, always ``Decimal``: the loader reads YAML
numbers from their text, never through a float.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

PLAN_ID_PATTERN = r"^[a-z][a-z0-9_-]*$"

Money = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
NonNegativeMoney = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Rate = Annotated[
    Decimal,
    Field(ge=0, le=100, decimal_places=4, description="A percent: 8 is 8%, 7.5 is 7.5%."),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Tier(_Strict):
    """From this much volume in the salesman's month, this rate."""

    from_: NonNegativeMoney = Field(
        alias="from", description="The salesman's volume of the month at which this rate starts."
    )
    rate: Rate


class _Percent(_Strict):
    rate: Rate = Field(description="The rate below the first tier (or the only rate).")
    tiers: list[Tier] = Field(
        default_factory=list,
        description="Optional, ascending by 'from': the rate of the highest tier the salesman's "
        "volume of the month reached applies.",
    )

    @model_validator(mode="after")
    def _tiers_ascending(self) -> _Percent:
        for previous, tier in pairwise(self.tiers):
            if tier.from_ <= previous.from_:
                raise ValueError(
                    f"tiers go up: 'from' {tier.from_} comes after {previous.from_} "
                    "(list the tiers from the lowest volume to the highest, each once)"
                )
        return self


class PercentOfContract(_Percent):
    """The rate of the contract price plus change orders."""


class PercentOfGrossProfit(_Percent):
    """The rate of the gross profit: contract price plus change orders, minus the job's costs."""


class FlatFee(_Strict):
    amount: NonNegativeMoney = Field(description="Paid per job.")


class Computation(_Strict):
    """Exactly one of the kinds."""

    percent_of_contract: PercentOfContract | None = None
    percent_of_gross_profit: PercentOfGrossProfit | None = None
    flat_fee: FlatFee | None = None

    @model_validator(mode="before")
    @classmethod
    def _exactly_one(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kinds = ("percent_of_contract", "percent_of_gross_profit", "flat_fee")
            given = [key for key in data if key in kinds]
            if len(given) != 1:
                raise ValueError(
                    f"a computation is exactly one of {', '.join(kinds)}; "
                    f"found {', '.join(given) if given else 'none'}"
                )
        return data

    @property
    def kind(self) -> str:
        for name in ("percent_of_contract", "percent_of_gross_profit", "flat_fee"):
            if getattr(self, name) is not None:
                return name
        raise AssertionError("validated to have one kind")


class Assignment(_Strict):
    salesmen: list[str] = Field(default_factory=list, description="Salesman ids.")
    teams: list[str] = Field(
        default_factory=list, description="Teams: for their salesmen not named in a plan."
    )
    everyone_else: bool = Field(
        False,
        description="The tenant's default plan: for a salesman neither named nor in a team "
        "of another plan.",
    )

    @model_validator(mode="after")
    def _someone(self) -> Assignment:
        if not self.salesmen and not self.teams and not self.everyone_else:
            raise ValueError("a plan is assigned to salesmen, teams or everyone_else")
        return self


class Advance(_Strict):
    amount: NonNegativeMoney = Field(
        description="Paid when the job is approved, recovered from its release."
    )


class ExampleJob(_Strict):
    """A job's figures, as commissions keeps them (``JobFigures``)."""

    job_id: str = "example"
    contract_price: Money = Decimal("0.00")
    change_orders: Money = Field(Decimal("0.00"), description="A credit is negative.")
    costs: Money = Decimal("0.00")
    freebie: bool = False
    approved_on: date | None = None


class Expectation(_Strict):
    amount: Money = Field(description="The commission, before the advance is recovered.")
    advance: Money | None = Field(None, description="Checked only when given.")


class Example(_Strict):
    name: str = Field(min_length=1)
    job: ExampleJob
    month_volume: NonNegativeMoney = Field(
        Decimal("0.00"), description="The salesman's volume of the month (tiers)."
    )
    expect: Expectation


class PlanFile(_Strict):
    id: str = Field(pattern=PLAN_ID_PATTERN, description="Stable: never rename it.")
    version: int = Field(ge=1, description="Raise it with every change: a new version, a new file.")
    owners: list[str] = Field(min_length=1)
    description: str = Field(min_length=1)
    tenant: str = Field(min_length=1, description="The tenant the plan is for.")
    effective_from: date = Field(description="The version applies to jobs from this date.")
    assigned_to: Assignment
    computation: Computation
    advance: Advance | None = None
    examples: list[Example] = Field(min_length=1, description="The plan's tests: at least one.")


def json_schema() -> dict[str, Any]:
    schema = PlanFile.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Roofline commission plan"
    return schema
