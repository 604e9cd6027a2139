"""The job's state: its fields (seed 001, grouped as value objects), what follows from them,
and the steps its commands share (``job.py`` says how the aggregate works)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.jobs.domain.errors import JobRuleBroken
from services.jobs.domain.values import (
    PIPELINE,
    PRODUCTION_ORDER,
    TERMINAL,
    Address,
    ApprovalRequest,
    BillingReport,
    ChangeOrder,
    Customer,
    Document,
    Financials,
    InsuranceClaim,
    LineItem,
    Materials,
    Measurements,
    Milestone,
    Permits,
    ProductionStatus,
    Scheduling,
    StatusChange,
    Team,
)
from shared.contracts import jobs as events
from shared.contracts.base import EventData
from shared.contracts.jobs import Trade

# The services that answer a new lead with an event of their own.
ACKNOWLEDGING_SERVICES = ("billing", "messaging", "commissions", "tickets")


def roofing_only() -> list[Trade]:
    """A lead that names no trades is a roofing job (typed, so the default is a list of trades)."""
    return ["roofing"]


class JobState(BaseModel):
    """The job's data, what follows from it, and the steps every command shares."""

    model_config = ConfigDict(validate_assignment=True, extra="forbid")

    tenant_id: str
    job_id: str
    version: int = 0
    created_by: str
    created_at: datetime
    customer: Customer
    address: Address
    branch: str | None = None
    lead_source: str | None = None
    trades: list[Trade] = Field(default_factory=roofing_only)
    team: Team = Team()
    milestone: Milestone = Milestone.LEAD
    production_status: ProductionStatus | None = None
    job_number: str | None = None
    scheduling: Scheduling = Scheduling()
    financials: Financials = Financials()
    permits: Permits = Permits()
    materials: Materials = Materials()
    measurements: Measurements = Measurements()
    insurance: InsuranceClaim = InsuranceClaim()
    line_items: list[LineItem] = Field(default_factory=list)
    documents: list[Document] = Field(default_factory=list)
    change_orders: list[ChangeOrder] = Field(default_factory=list)
    approval_requests: list[ApprovalRequest] = Field(default_factory=list)
    history: list[StatusChange] = Field(default_factory=list)
    handed_off_at: datetime | None = None
    handed_off_by: str | None = None
    final_payment_received_at: datetime | None = None
    billing: BillingReport = BillingReport()
    cancel_reason: str | None = None

    # -- reading --------------------------------------------------------------------------------

    @property
    def assigned(self) -> bool:
        """Assigned to a user: the lead is in the pipeline (seed 004)."""
        return self.team.sales_rep_id is not None

    @property
    def is_open(self) -> bool:
        return self.milestone not in TERMINAL

    @property
    def contract_price(self) -> Decimal | None:
        base = self.financials.base_contract_price
        if base is None:
            return None
        return base + sum((co.amount for co in self.change_orders), Decimal("0.00"))

    @property
    def line_items_total(self) -> Decimal:
        return sum((item.total for item in self.line_items), Decimal("0.00"))

    def photos(self, checklist: str, *, uploaded_by_role: str | None = None) -> int:
        """Photos on ``checklist``; with ``uploaded_by_role``, only those whose uploader held
        that role when uploading them."""
        return sum(
            1
            for d in self.documents
            if d.type == "photo"
            and d.checklist == checklist
            and (uploaded_by_role is None or uploaded_by_role in d.uploaded_by_roles)
        )

    def direction_to(self, milestone: Milestone) -> str | None:
        """forward/backward along the pipeline; None for Canceled (off the line)."""
        if milestone == Milestone.CANCELED or self.milestone == Milestone.CANCELED:
            return None
        return (
            "forward" if PIPELINE.index(milestone) > PIPELINE.index(self.milestone) else "backward"
        )

    def pending_approval(self, request_id: str) -> ApprovalRequest:
        for request in self.approval_requests:
            if request.request_id == request_id:
                if request.status != "pending":
                    raise JobRuleBroken(
                        f"approval request {request_id} was already {request.status}"
                    )
                return request
        raise JobRuleBroken(f"no approval request {request_id} on this job")

    def contact(self) -> events.CustomerContact:
        return events.CustomerContact(
            name=self.customer.name,
            phone=self.customer.phone,
            email=str(self.customer.email) if self.customer.email else None,
            property_address=self.address.one_line,
        )

    def line_item_data(self) -> list[events.LineItemData]:
        return [
            events.LineItemData(
                line_item_id=item.line_item_id,
                description=item.description,
                quantity=item.quantity,
                unit_price=item.unit_price,
                total=item.total,
                trade=item.trade,
                insurance_line_ref=item.insurance_line_ref,
                completed=item.completed,
                completed_at=item.completed_at,
            )
            for item in self.line_items
        ]

    # -- shared steps ---------------------------------------------------------------------------

    def _changed(self, recorded: list[EventData]) -> list[EventData]:
        """The job's version counts its events (a change without one still counts once)."""
        self.version += max(len(recorded), 1)
        return recorded

    def _reported(self, recorded: list[EventData]) -> list[EventData]:
        """Another service's fact kept on the job counts only the events it records: billing's
        facts arrive on every job, and a version without an event would leave a gap in the
        job's sequence."""
        self.version += len(recorded)
        return recorded

    def _require_open(self) -> None:
        if not self.is_open:
            raise JobRuleBroken(f"the job is {self.milestone.value} and can no longer be changed")

    def _set_milestone(
        self, to: Milestone, *, by: str, at: datetime, reason: str | None = None
    ) -> events.MilestoneChanged:
        """Set the milestone, with its history line; the event (the checks are the caller's)."""
        previous = self.milestone
        self.milestone = to
        self.history.append(
            StatusChange(
                scale="milestone", from_status=previous, to_status=to, at=at, by=by, reason=reason
            )
        )
        return events.MilestoneChanged(
            job_id=self.job_id,
            from_milestone=previous,
            to_milestone=to,
            by=by,
            reason=reason,
            job_number=self.job_number,
            contract_price=self.contract_price,
        )

    def _set_production(
        self, to: ProductionStatus, *, by: str, at: datetime, reason: str | None = None
    ) -> list[EventData]:
        previous = self.production_status
        self.production_status = to
        self.history.append(
            StatusChange(
                scale="production", from_status=previous, to_status=to, at=at, by=by, reason=reason
            )
        )
        return [
            events.ProductionStatusChanged(
                job_id=self.job_id, from_status=previous, to_status=to, by=by, reason=reason
            )
        ]

    def _advance_production(
        self, to: ProductionStatus, *, by: str, at: datetime
    ) -> list[EventData]:
        """Move the production status forward to ``to`` if the job is sold and not past it."""
        if self.production_status is None:
            return []
        if PRODUCTION_ORDER.index(to) <= PRODUCTION_ORDER.index(self.production_status):
            return []
        return self._set_production(to, by=by, at=at)

    def _require_production(self, *allowed: ProductionStatus, doing: str) -> None:
        self._require_open()
        if self.production_status not in allowed:
            now = self.production_status.value if self.production_status else "not sold yet"
            needs = " or ".join(status.value for status in allowed)
            raise JobRuleBroken(f"cannot {doing}: production status is {now} (needs {needs})")
