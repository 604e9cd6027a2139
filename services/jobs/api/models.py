"""Request and response bodies of the jobs API.

Request models are as strict as the domain they feed (its enums, bounds, Decimal places, date
range), with every string bounded (``shared.platform.text``): input the domain would refuse is a 422
before any handler runs, never a validation error inside one (a 500). The routes turn them into the
handlers' commands (``services.jobs.domain.commands``); the handlers never see these. A few domain
values are taken and answered as they are (``Measurements``, ``Materials``, ``InsuranceClaim``,
``Inspection``, ``Crew``): re-exported here so that this module lists every body of the API.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal, get_args

from fastapi import Query
from pydantic import BaseModel, Field

from services.jobs.domain import Job
from services.jobs.domain.crews import Crew, CrewSuggestion
from services.jobs.domain.job import ACKNOWLEDGING_SERVICES
from services.jobs.domain.values import (
    Address,
    Checklist,
    Customer,
    DocumentType,
    Inspection,
    InsuranceClaim,
    Materials,
    Measurements,
    Milestone,
    Money,
    Quantity,
)
from shared.contracts.jobs import Trade
from shared.platform.text import (
    MAX_PEOPLE,
    Code,
    Day,
    Identifier,
    Location,
    Name,
    Note,
    SearchText,
    ShortText,
)

__all__ = [
    "AssignCrew",
    "AssignTeam",
    "BoardColumn",
    "CalendarEntry",
    "Cancel",
    "CreateLead",
    "Crew",
    "CrewSuggestionView",
    "DeadlineView",
    "DecideApproval",
    "Inspection",
    "InsuranceClaim",
    "JobSearchText",
    "JobView",
    "Materials",
    "Measurements",
    "MoveMilestone",
    "NewChangeOrder",
    "NewCrew",
    "NewDocument",
    "NewLineItem",
    "PipelineBoard",
    "ProductionBoard",
    "RecordPermit",
    "RequestApproval",
    "ScheduleJob",
    "SignContract",
]

# A list of trades names each at most once in practice; duplicates are harmless, more are not.
MAX_TRADES = len(get_args(Trade))

JobSearchText = Annotated[SearchText | None, Query(description="Customer, address or job number.")]


class JobView(Job):
    """A job as the API shows it: the stored job plus what follows from it."""

    current_contract_price: Decimal | None = Field(description="Contract price + change orders.")
    in_pipeline: bool = Field(description="Assigned to a user (unassigned leads are not).")
    acknowledged_by: dict[str, datetime] | None = Field(
        None, description="Services that answered the lead (on a single job, not in lists)."
    )
    awaiting: list[str] | None = None

    @classmethod
    def of(cls, job: Job, acknowledged_by: dict[str, datetime] | None = None) -> JobView:
        """``acknowledged_by`` None: not looked up (lists), so neither field is shown."""
        awaiting = (
            None
            if acknowledged_by is None
            else [name for name in ACKNOWLEDGING_SERVICES if name not in acknowledged_by]
        )
        return cls(
            **job.model_dump(),
            current_contract_price=job.contract_price,
            in_pipeline=job.assigned,
            acknowledged_by=acknowledged_by,
            awaiting=awaiting,
        )


class CreateLead(BaseModel):
    """The body of ``POST /jobs``: as strict as the job."""

    customer: Customer
    address: Address
    sales_rep_id: Identifier | None = None
    branch: ShortText | None = None
    lead_source: ShortText | None = None
    trades: list[Trade] | None = Field(None, max_length=MAX_TRADES)


class AssignTeam(BaseModel):
    sales_rep_id: Identifier | None = None
    csa_id: Identifier | None = None
    production_manager_id: Identifier | None = None
    project_manager_id: Identifier | None = None


class MoveMilestone(BaseModel):
    to: Milestone
    reason: Note | None = None


class RequestApproval(BaseModel):
    to: Milestone = Milestone.APPROVED
    note: Note | None = None


class DecideApproval(BaseModel):
    approve: bool
    note: Note | None = None


class Cancel(BaseModel):
    reason: Note | None = None


class SignContract(BaseModel):
    signed_on: Day
    contract_price: Money = Field(ge=0)
    sale_price: Money | None = Field(None, ge=0)


class NewLineItem(BaseModel):
    description: str = Field(min_length=1, max_length=500)
    quantity: Quantity = Decimal("1")
    unit_price: Money = Decimal("0.00")
    trade: Trade | None = None
    insurance_line_ref: Code | None = None


class NewDocument(BaseModel):
    type: DocumentType
    checklist: Checklist | None = None
    location: Location = Field(description="Where it is stored (URL).")
    name: Name | None = None


class NewChangeOrder(BaseModel):
    signed_on: Day
    amount: Money
    note: str = Field(min_length=1, max_length=2000)


class RecordPermit(BaseModel):
    permit_status: Literal["not_required", "applied", "approved", "denied"] | None = None
    permit_number: Code | None = None


class ScheduleJob(BaseModel):
    start_date: Day
    duration_days: int = Field(1, ge=1, le=60)
    complexity: int | None = Field(None, ge=1, le=3, description="1 (simple) to 3 (hard).")


class AssignCrew(BaseModel):
    crew_id: Identifier


class NewCrew(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    trades: list[Trade] = Field(min_length=1, max_length=MAX_TRADES)
    home_latitude: float = Field(ge=-90, le=90)
    home_longitude: float = Field(ge=-180, le=180)
    daily_capacity: int = Field(1, ge=1, le=20)
    max_complexity: int = Field(3, ge=1, le=3)
    member_ids: list[Identifier] = Field(default_factory=list, max_length=MAX_PEOPLE)


class CrewSuggestionView(BaseModel):
    crew: Crew
    trade_match: float
    handles_complexity: bool
    distance_km: float | None

    @classmethod
    def of(cls, suggestion: CrewSuggestion) -> CrewSuggestionView:
        return cls(
            crew=suggestion.crew,
            trade_match=suggestion.trade_match,
            handles_complexity=suggestion.handles_complexity,
            distance_km=round(suggestion.distance_km, 1)
            if suggestion.distance_km is not None
            else None,
        )


class BoardColumn(BaseModel):
    status: str
    count: int
    contract_total: Decimal


class PipelineBoard(BaseModel):
    milestones: list[BoardColumn]
    unassigned_leads: int = Field(description="Kept, but not in the pipeline (seed 004).")


class ProductionBoard(BaseModel):
    statuses: list[BoardColumn]


class CalendarEntry(BaseModel):
    day: date
    crew_id: str
    crew_name: str | None
    job_id: str
    job_number: str | None
    customer_name: str | None


class DeadlineView(BaseModel):
    job_id: str
    job_number: str | None
    customer_name: str | None
    task: str
    due_at: datetime
    status: Literal["near", "passed"]
    escalate_to: str | None
