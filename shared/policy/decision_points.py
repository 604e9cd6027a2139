"""The decision points: where a service asks the policy layer, and the facts it supplies.

A decision point is named ``<area>.<action>``. Its facts model is the contract between the service
that builds the facts and the policy owners who write rules over them: a rule may only test the
paths listed here (``roofline policy lint`` says so, with the closest names), and a service must
supply every field (``None`` means "not known / not set"). Adding a field is compatible; renaming
or removing one breaks rule files, so it is done like an event version change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from shared.platform.http.auth import Role

Milestone = Literal["lead", "prospect", "approved", "completed", "invoiced", "closed", "canceled"]
Trade = Literal["roofing", "metal", "siding", "gutters", "windows", "solar", "other"]


class Facts(BaseModel):
    """Base of every facts model: strict about unknown fields, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class DecisionPoint:
    name: str
    description: str
    facts: type[Facts]


_DECISION_POINTS: dict[str, DecisionPoint] = {}


def decision_point(name: str, description: str):
    def register(cls: type[Facts]) -> type[Facts]:
        if name in _DECISION_POINTS:
            raise ValueError(f"decision point {name!r} is already declared")
        _DECISION_POINTS[name] = DecisionPoint(name, description, cls)
        return cls

    return register


def decision_points() -> dict[str, DecisionPoint]:
    return dict(_DECISION_POINTS)


# -- parts shared by several decision points ------------------------------------------------------


class Actor(Facts):
    roles: list[Role] = Field(description="The roles of the user asking (from their token).")


class PhotosByRole(Facts):
    """Photos counted by the roles their uploader held when uploading them: a photo counts once
    under each role its uploader held (an installer's photo counts under ``installer`` only).
    Photos stored before uploaders' roles were recorded count under none."""

    sales: int = Field(0, ge=0)
    csa: int = Field(0, ge=0)
    production: int = Field(0, ge=0)
    production_manager: int = Field(0, ge=0)
    trade_manager: int = Field(0, ge=0)
    project_manager: int = Field(0, ge=0)
    installer: int = Field(0, ge=0)
    technician: int = Field(0, ge=0)
    billing: int = Field(0, ge=0)
    billing_manager: int = Field(0, ge=0)
    admin: int = Field(0, ge=0)


if set(PhotosByRole.model_fields) != set(get_args(Role)):  # one count per role, always
    raise TypeError(
        "PhotosByRole needs exactly one field per role of shared.platform.http.auth.Role"
    )


class Photos(Facts):
    property: int = Field(0, ge=0, description="Property / measurement photos uploaded.")
    colour: int = Field(0, ge=0, description="Colour photos uploaded (metal jobs).")
    post_roof_inspection: int = Field(
        0, ge=0, description="Photos on the Post Roof Inspection checklist, uploaded by anyone."
    )
    post_roof_inspection_by: PhotosByRole = Field(
        default_factory=PhotosByRole,
        description="The Post Roof Inspection photos by a role their uploader held "
        "(photos.post_roof_inspection_by.project_manager: the project manager's).",
    )


# -- jobs -----------------------------------------------------------------------------------------


ProductionStatus = Literal[
    "sold", "measured", "ordered", "scheduled", "in_progress", "complete", "released"
]


class JobState(Facts):
    milestone: Milestone
    assigned: bool = Field(description="The lead is assigned to a user (seed 004).")
    trades: list[Trade] = Field(default_factory=list)
    complexity: int | None = Field(None, ge=1, le=3)
    production_status: ProductionStatus | None = Field(None, description="Within Approved.")


JobCommand = Literal[
    "assign",
    "move_milestone",
    "request_approval",
    "decide_approval",
    "sign_contract",
    "add_line_item",
    "complete_line_item",
    "record_measurements",
    "record_materials",
    "record_insurance",
    "add_document",
    "add_change_order",
    "record_permit",
    "record_inspection",
    "hand_off",
    "schedule",
    "assign_crew",
    "start_work",
    "complete",
]


class JobChange(Facts):
    command: JobCommand = Field(description="What is being done to the job.")
    to_milestone: Milestone | None = Field(
        None,
        description="Where the job would go: set on every path that changes the milestone "
        "(move_milestone, request_approval, decide_approval when approving); a rule about where "
        "a job may go tests this, not the command.",
    )
    direction: Literal["forward", "backward"] | None = None
    reason: str | None = None


@decision_point("jobs.change_job", "Any change to a job: milestone moves, edits, cancellation.")
class ChangeJobFacts(Facts):
    actor: Actor
    job: JobState
    change: JobChange


class Contract(Facts):
    signed: bool


class Materials(Facts):
    manufacturer: str | None = None
    product: str | None = None
    colour: str | None = None
    quantity_squares: Decimal | None = Field(None, ge=0)
    supplier: str | None = None
    colour_confirmed: bool = Field(False, description="Customer confirmed the colour (metal).")


class Measurements(Facts):
    roof_squares: Decimal | None = Field(None, ge=0)


@decision_point(
    "jobs.submit_to_production",
    "A CSA hands the approved file to Production (seed 000, steps 1 and 3).",
)
class SubmitToProductionFacts(Facts):
    job: JobState
    contract: Contract
    materials: Materials
    measurements: Measurements
    photos: Photos


@decision_point(
    "jobs.complete_job",
    "Confirming a job's work complete (seed 000, step 4); the actor is who confirms it.",
)
class CompleteJobFacts(Facts):
    actor: Actor
    job: JobState
    photos: Photos


class CrewFacts(Facts):
    trades: list[Trade]
    covers_job_trades: bool = Field(description="The crew does every trade of the job.")
    handles_complexity: bool = Field(description="The crew takes jobs of this complexity.")
    daily_capacity: int = Field(ge=1)
    busiest_day_bookings: int = Field(
        ge=0, description="Jobs the crew already has on the busiest day of this job's schedule."
    )
    room_on_busiest_day: int = Field(
        description="daily_capacity - busiest_day_bookings: jobs it can still take that day."
    )


@decision_point("jobs.assign_crew", "Assigning an installation crew to a job (seed 000, step 2).")
class AssignCrewFacts(Facts):
    actor: Actor
    job: JobState
    crew: CrewFacts


# -- accounting records (jobs, tickets, billing) --------------------------------------------------


class AccountingRecord(Facts):
    kind: Literal["job", "work_order", "invoice"]
    line_items: int = Field(ge=0, description="How many line items the record has.")
    total: Decimal = Field(Decimal("0.00"), description="Sum of the line items.")


@decision_point(
    "accounting.create_record",
    "Creating a job, work order or invoice that the accounting system will receive (seed 003).",
)
class CreateRecordFacts(Facts):
    record: AccountingRecord


# -- billing --------------------------------------------------------------------------------------


class CustomerStanding(Facts):
    open_complaints: int = Field(0, ge=0)
    open_repair_tickets: int = Field(0, ge=0)
    satisfaction_rating: int | None = Field(None, ge=1, le=5, description="Latest survey, 1-5.")
    refused_to_pay: bool = False


class Repairs(Facts):
    complete: bool = Field(description="Every repair the customer raised is done.")


class Concession(Facts):
    offered: bool = False
    amount: Decimal | None = Field(None, ge=0)


@decision_point("billing.collect_payment", "Asking a customer to pay (seed 002).")
class CollectPaymentFacts(Facts):
    customer: CustomerStanding
    repairs: Repairs
    concession: Concession
    balance: Decimal = Field(ge=0, description="What the customer owes now.")


class LineItemState(Facts):
    description: str
    completed: bool
    depreciation: Decimal = Field(Decimal("0.00"), ge=0)


@decision_point(
    "billing.release_depreciation",
    "Releasing recoverable depreciation for one insurance line item (seed 000).",
)
class ReleaseDepreciationFacts(Facts):
    line_item: LineItemState
