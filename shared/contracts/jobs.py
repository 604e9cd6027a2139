"""The jobs service's contracts: the events it publishes on ``roofline.jobs.events`` (keyed by
job id), and the facts of the decision points it owns.

They carry what other services need so they never call back: billing the contract price, line
items with their completion and the insurance figures; commissions the sales rep and the sale;
messaging the crew and the customer's contact; tickets the customer and address.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from shared.contracts.base import EventData, Facts, catalogued, decision_point
from shared.contracts.roles import Actor, Role

# The job's vocabulary, shared by its events, its facts and the jobs domain (whose Milestone and
# ProductionStatus enums are checked against these).
Milestone = Literal["lead", "prospect", "approved", "completed", "invoiced", "closed", "canceled"]
Trade = Literal["roofing", "metal", "siding", "gutters", "windows", "solar", "other"]
ProductionStatus = Literal[
    "sold", "measured", "ordered", "scheduled", "in_progress", "complete", "released"
]


class LineItemData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line_item_id: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    trade: str | None = None
    insurance_line_ref: str | None = None
    completed: bool
    completed_at: datetime | None = None


class CustomerContact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    phone: str | None = None
    email: str | None = None
    property_address: str


@catalogued("jobs.lead_created.v1")
class LeadCreated(EventData):
    job_id: str
    customer_name: str = Field(min_length=1, max_length=200)
    phone: str | None = None
    email: EmailStr | None = None
    property_address: str = Field(min_length=1, max_length=500)
    salesman_id: str = Field(description="User who took the lead; commissions credits them.")


@catalogued("jobs.team_assigned.v1")
class TeamAssigned(EventData):
    """A lead assigned to a user (it enters the pipeline), or the job's team changed."""

    job_id: str
    sales_rep_id: str | None
    csa_id: str | None
    production_manager_id: str | None
    project_manager_id: str | None
    by: str


@catalogued("jobs.milestone_changed.v1")
class MilestoneChanged(EventData):
    job_id: str
    from_milestone: str
    to_milestone: str
    by: str
    reason: str | None = None
    job_number: str | None = None
    contract_price: Decimal | None = None


@catalogued("jobs.job_sold.v1")
class JobSold(EventData):
    """The job reached Approved for the first time: a sale with a job number."""

    job_id: str
    job_number: str
    sold_on: date
    sales_rep_id: str | None
    contract_price: Decimal | None
    sale_price: Decimal | None
    customer: CustomerContact
    trades: list[str]
    line_items: list[LineItemData]


@catalogued("jobs.approval_requested.v1")
class ApprovalRequested(EventData):
    job_id: str
    request_id: str
    to_milestone: str
    requested_by: str
    note: str | None = None


@catalogued("jobs.approval_decided.v1")
class ApprovalDecided(EventData):
    job_id: str
    request_id: str
    approved: bool
    decided_by: str
    note: str | None = None


@catalogued("jobs.contract_signed.v1")
class ContractSigned(EventData):
    job_id: str
    signed_on: date
    contract_price: Decimal
    sale_price: Decimal | None = None
    by: str


@catalogued("jobs.line_items_changed.v1")
class LineItemsChanged(EventData):
    """A line item added or completed; ``line_items`` is the job's whole list after it."""

    job_id: str
    change: Literal["added", "completed"]
    line_item_id: str
    line_items: list[LineItemData]
    contract_price: Decimal | None = None


@catalogued("jobs.measurements_recorded.v1")
class MeasurementsRecorded(EventData):
    job_id: str
    roof_squares: Decimal | None
    pitch: str | None = None
    measured_on: date | None = None


@catalogued("jobs.materials_recorded.v1")
class MaterialsRecorded(EventData):
    job_id: str
    manufacturer: str | None
    product: str | None
    colour: str | None
    quantity_squares: Decimal | None
    supplier: str | None
    colour_confirmed: bool
    order_date: date | None
    delivery_date: date | None
    supplier_status: str | None


@catalogued("jobs.insurance_recorded.v1")
class InsuranceRecorded(EventData):
    job_id: str
    carrier: str | None
    claim_number: str | None
    deductible: Decimal | None
    rcv: Decimal | None
    acv: Decimal | None
    recoverable_depreciation: Decimal | None


@catalogued("jobs.document_uploaded.v1")
class DocumentUploaded(EventData):
    job_id: str
    document_id: str
    type: str
    checklist: str | None
    uploaded_by: str
    location: str


@catalogued("jobs.change_order_added.v1")
class ChangeOrderAdded(EventData):
    job_id: str
    change_order_id: str
    signed_on: date
    amount: Decimal
    note: str
    by: str
    contract_price: Decimal | None
    adjustment: bool = Field(description="After Released: an adjustment commissions will see.")
    sales_rep_id: str | None = None


@catalogued("jobs.permit_recorded.v1")
class PermitRecorded(EventData):
    job_id: str
    permit_status: str | None
    permit_number: str | None


@catalogued("jobs.inspection_recorded.v1")
class InspectionRecorded(EventData):
    job_id: str
    kind: str
    on: date
    result: str


@catalogued("jobs.handed_off_to_production.v1")
class HandedOffToProduction(EventData):
    job_id: str
    job_number: str | None
    by: str
    trades: list[str]
    schedule_by: datetime | None = Field(None, description="The scheduling deadline.")


@catalogued("jobs.production_status_changed.v1")
class ProductionStatusChanged(EventData):
    job_id: str
    from_status: str | None
    to_status: str
    by: str
    reason: str | None = None


@catalogued("jobs.job_scheduled.v1")
class JobScheduled(EventData):
    job_id: str
    start_date: date
    duration_days: int
    crew_id: str | None


@catalogued("jobs.crew_assigned.v1")
class CrewAssigned(EventData):
    job_id: str
    crew_id: str
    crew_name: str
    member_ids: list[str]
    days: list[date]
    customer: CustomerContact


# -- decision points ----------------------------------------------------------------------------


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
    service_manager: int = Field(0, ge=0)
    billing: int = Field(0, ge=0)
    billing_manager: int = Field(0, ge=0)
    admin: int = Field(0, ge=0)


if set(PhotosByRole.model_fields) != set(get_args(Role)):  # one count per role, always
    raise TypeError("PhotosByRole needs exactly one field per role of shared.contracts.roles.Role")


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
    # Billing's events moving the job by themselves (the actor is ``billing``): an Invoiced job
    # Closed on the balance received and the costs settled; a Closed job back to Invoiced when
    # its final payment is reversed.
    "auto_close",
    "reverse_final_payment",
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


class JobBilling(Facts):
    """Billing's facts about the job, as its events reported them (seed 004: a job is Closed
    "when the balance has been received and all expenses have been entered and paid")."""

    final_payment_received: bool = Field(
        False,
        description="The balance is received in full (billing.final_payment_received), and not "
        "reversed since.",
    )
    costs_settled: bool = Field(
        False,
        description="Every expense of the job is entered and paid (billing.job_costs_settled).",
    )


@decision_point("jobs.change_job", "Any change to a job: milestone moves, edits, cancellation.")
class ChangeJobFacts(Facts):
    actor: Actor
    job: JobState
    change: JobChange
    billing: JobBilling = Field(
        default_factory=JobBilling,
        description="What billing reported (false in decisions logged before jobs kept it).",
    )


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
