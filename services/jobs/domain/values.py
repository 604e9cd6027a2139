"""Value objects of a job (seed 001's 40+ fields, grouped), and the two status scales.

Pure data: no I/O. Money is ``Decimal`` with two places, dates are dates (those a client gives
in ``shared.platform.text``'s range), times are UTC; strings are bounded.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal, Self, get_args

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from shared.contracts import jobs as contract
from shared.contracts.jobs import Trade
from shared.contracts.money import to_cents
from shared.contracts.roles import Role
from shared.platform.text import Day, Identifier

Money = Annotated[Decimal, Field(max_digits=12, decimal_places=2)]
# The largest amount Money (and the NUMERIC(12,2) it is stored in) holds, either sign.
MAX_MONEY = Decimal("9999999999.99")
Quantity = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]


class Milestone(StrEnum):
    """The AccuLynx pipeline (seed 004)."""

    LEAD = "lead"
    PROSPECT = "prospect"
    APPROVED = "approved"
    COMPLETED = "completed"
    INVOICED = "invoiced"
    CLOSED = "closed"
    CANCELED = "canceled"


# Pipeline order; Canceled/Dead is off the line.
PIPELINE: tuple[Milestone, ...] = (
    Milestone.LEAD,
    Milestone.PROSPECT,
    Milestone.APPROVED,
    Milestone.COMPLETED,
    Milestone.INVOICED,
    Milestone.CLOSED,
)
TERMINAL = frozenset({Milestone.CLOSED, Milestone.CANCELED})


class ProductionStatus(StrEnum):
    """Within Approved: the production workflow (seed 001)."""

    SOLD = "sold"
    MEASURED = "measured"
    ORDERED = "ordered"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    RELEASED = "released"


PRODUCTION_ORDER: tuple[ProductionStatus, ...] = tuple(ProductionStatus)

# One vocabulary: the enums the domain works with name exactly the values its contracts carry.
for _enum, _contract in (
    (Milestone, contract.Milestone),
    (ProductionStatus, contract.ProductionStatus),
):
    if {member.value for member in _enum} != set(get_args(_contract)):
        raise TypeError(f"{_enum.__name__} differs from shared.contracts.jobs.{_enum.__name__}")


class Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Customer(Value):
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, max_length=40)
    email: EmailStr | None = None


# What the lead's event (jobs.lead_created.v1, property_address) carries.
MAX_ONE_LINE = 500


class Address(Value):
    line: str = Field(min_length=1, max_length=500)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=50)
    postal_code: str | None = Field(None, max_length=20)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)

    @model_validator(mode="after")
    def _fits_one_line(self) -> Self:
        if len(self.one_line) > MAX_ONE_LINE:
            raise ValueError(
                f"the address on one line (line, city, state, postal code) is "
                f"{len(self.one_line)} characters; at most {MAX_ONE_LINE}"
            )
        return self

    @property
    def one_line(self) -> str:
        return ", ".join(
            part for part in (self.line, self.city, self.state, self.postal_code) if part
        )


class Team(Value):
    """Who works the job (user ids), and the crew once assigned."""

    sales_rep_id: Identifier | None = None
    csa_id: Identifier | None = None
    production_manager_id: Identifier | None = None
    project_manager_id: Identifier | None = None
    crew_id: Identifier | None = None


class Scheduling(Value):
    sold_on: date | None = None
    order_date: date | None = None
    start_date: date | None = None
    completion_date: date | None = None
    duration_days: int | None = Field(None, ge=1, le=60)
    complexity: int | None = Field(None, ge=1, le=3)


class Financials(Value):
    sale_price: Money | None = None
    # The signed contract amount, before change orders.
    base_contract_price: Money | None = None
    contract_signed_on: date | None = None


class Inspection(Value):
    kind: Literal["framing", "footer", "final"]
    on: Day
    result: Literal["passed", "failed"]
    notes: str | None = Field(None, max_length=2000)


class Permits(Value):
    permit_status: Literal["not_required", "applied", "approved", "denied"] | None = None
    permit_number: str | None = Field(None, max_length=60)
    inspections: tuple[Inspection, ...] = ()


class Materials(Value):
    manufacturer: str | None = Field(None, max_length=100)
    product: str | None = Field(None, max_length=100)
    colour: str | None = Field(None, max_length=60)
    quantity_squares: Quantity | None = None
    supplier: str | None = Field(None, max_length=100)
    colour_confirmed: bool = False
    order_date: Day | None = None
    delivery_date: Day | None = None
    supplier_status: Literal["pending", "confirmed", "backordered", "delivered"] | None = None


class Measurements(Value):
    roof_squares: Quantity | None = None
    pitch: str | None = Field(None, max_length=10)
    measured_on: Day | None = None


class InsuranceClaim(Value):
    carrier: str | None = Field(None, max_length=100)
    claim_number: str | None = Field(None, max_length=60)
    deductible: Money | None = None
    rcv: Money | None = Field(None, description="Replacement cost value.")
    acv: Money | None = Field(None, description="Actual cash value.")
    recoverable_depreciation: Money | None = None


class LineItem(Value):
    line_item_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    description: str = Field(min_length=1, max_length=500)
    quantity: Quantity = Decimal("1")
    unit_price: Money = Decimal("0.00")
    trade: Trade | None = None
    insurance_line_ref: str | None = Field(None, max_length=60)
    completed: bool = False
    completed_at: datetime | None = None

    @property
    def total(self) -> Decimal:
        return to_cents(self.quantity * self.unit_price)


DocumentType = Literal[
    "contract", "photo", "measurement", "material_spec", "permit", "invoice", "other"
]
Checklist = Literal["property", "colour", "post_roof_inspection", "materials", "other"]


class Document(Value):
    document_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: DocumentType
    checklist: Checklist | None = None
    uploaded_by: str
    # The roles the uploader held when uploading (a project manager's completion photos, seed
    # 000). Documents stored before it was recorded have none.
    uploaded_by_roles: list[Role] = Field(default_factory=list)
    uploaded_at: datetime
    location: str = Field(min_length=1, max_length=1000, description="Where it is stored (URL).")
    name: str | None = Field(None, max_length=200)


class ChangeOrder(Value):
    change_order_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    signed_on: date
    amount: Money = Field(description="Positive for added work, negative for a reduction.")
    note: str = Field(min_length=1, max_length=2000)
    by: str
    # After the job is Released a change order is an adjustment commissions will see.
    adjustment: bool = False


class BillingReport(Value):
    """What billing's events said about the job's money, besides the final payment's time (the
    job's ``final_payment_received_at``): seed 004 closes a job "when the balance has been
    received and all expenses have been entered and paid"."""

    costs_settled: bool = Field(
        False, description="Every expense entered and paid (billing.job_costs_settled)."
    )
    total_costs: Money | None = Field(None, description="The expenses' total, when last reported.")
    costs_reported_at: datetime | None = None
    final_payment_reversed_at: datetime | None = None
    final_payment_reversal_reason: str | None = None


class StatusChange(Value):
    """One step of a job's history: a milestone or production status change."""

    scale: Literal["milestone", "production"]
    from_status: str | None
    to_status: str
    at: datetime
    by: str
    reason: str | None = None


class ApprovalRequest(Value):
    request_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    to_milestone: Milestone
    requested_by: str
    requested_at: datetime
    note: str | None = None
    status: Literal["pending", "approved", "rejected"] = "pending"
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
