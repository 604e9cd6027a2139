"""The Job aggregate: a job from lead to closed, its production workflow, and the events each
change records.

Pure: no I/O, no policy. A command method checks the job's own structure (a closed job takes no
changes, a job is scheduled only after the hand-off, ...), changes the job and returns the events
it recorded; it raises ``JobRuleBroken`` and changes nothing when it cannot apply. What the
business allows (who may move what, what a complete file is) is decided by the policy layer in
the handlers before a command reaches the job.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.jobs.domain.values import (
    PIPELINE,
    PRODUCTION_ORDER,
    TERMINAL,
    Address,
    ApprovalRequest,
    ChangeOrder,
    Customer,
    Document,
    Financials,
    Inspection,
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
from shared.catalog import jobs as events
from shared.events import EventData
from shared.policy.decision_points import Trade

# The services that answer a new lead with an event of their own.
ACKNOWLEDGING_SERVICES = ("billing", "messaging", "commissions", "tickets")


class JobRuleBroken(Exception):
    """The command cannot apply to the job as it is (answered 409); nothing changed."""


class Job(BaseModel):
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
    trades: list[Trade] = Field(default_factory=lambda: ["roofing"])
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

    def photos(self, checklist: str) -> int:
        return sum(1 for d in self.documents if d.type == "photo" and d.checklist == checklist)

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

    # -- creating -------------------------------------------------------------------------------

    @classmethod
    def create_lead(
        cls,
        *,
        tenant_id: str,
        customer: Customer,
        address: Address,
        by: str,
        at: datetime,
        sales_rep_id: str | None = None,
        branch: str | None = None,
        lead_source: str | None = None,
        trades: list[Trade] | None = None,
    ) -> tuple[Job, list[EventData]]:
        job = cls(
            tenant_id=tenant_id,
            job_id=str(uuid.uuid4()),
            created_by=by,
            created_at=at,
            customer=customer,
            address=address,
            branch=branch,
            lead_source=lead_source,
            trades=trades or ["roofing"],
            team=Team(sales_rep_id=sales_rep_id),
        )
        recorded: list[EventData] = [
            events.LeadCreated(
                job_id=job.job_id,
                customer_name=customer.name,
                phone=customer.phone,
                email=customer.email,
                property_address=address.one_line,
                salesman_id=by,
            )
        ]
        if sales_rep_id:
            recorded.append(job._team_assigned(by))
        job.version = len(recorded)
        return job, recorded

    # -- the pipeline ---------------------------------------------------------------------------

    def _changed(self, recorded: list[EventData]) -> list[EventData]:
        """The job's version counts its events (a change without one still counts once)."""
        self.version += max(len(recorded), 1)
        return recorded

    def _require_open(self) -> None:
        if not self.is_open:
            raise JobRuleBroken(f"the job is {self.milestone.value} and can no longer be changed")

    def _team_assigned(self, by: str) -> events.TeamAssigned:
        return events.TeamAssigned(
            job_id=self.job_id, by=by, **self.team.model_dump(exclude={"crew_id"})
        )

    def assign(self, *, by: str, **people: str | None) -> list[EventData]:
        """Set the sales rep, CSA, production manager and/or project manager."""
        self._require_open()
        unknown = set(people) - {
            "sales_rep_id",
            "csa_id",
            "production_manager_id",
            "project_manager_id",
        }
        if unknown:
            raise JobRuleBroken(f"cannot assign {', '.join(sorted(unknown))}")
        self.team = self.team.model_copy(update={k: v for k, v in people.items() if v is not None})
        return self._changed([self._team_assigned(by)])

    def move_milestone(
        self,
        to: Milestone,
        *,
        by: str,
        at: datetime,
        reason: str | None = None,
        job_number: str | None = None,
    ) -> list[EventData]:
        """Move along the pipeline (or to Canceled). Reaching Approved for the first time makes
        the job a sale: it takes ``job_number``, its sold date, and production status Sold."""
        self._require_open()
        if to == self.milestone:
            raise JobRuleBroken(f"the job is already {to.value}")
        first_sale = to == Milestone.APPROVED and self.job_number is None
        if first_sale and not job_number:
            raise JobRuleBroken("a sale needs a job number")
        if (
            PIPELINE.index(to) > PIPELINE.index(Milestone.APPROVED) if to in PIPELINE else False
        ) and self.job_number is None:
            raise JobRuleBroken(f"a job that was never sold cannot be {to.value}")
        previous = self.milestone
        self.milestone = to
        self.history.append(
            StatusChange(
                scale="milestone", from_status=previous, to_status=to, at=at, by=by, reason=reason
            )
        )
        if to == Milestone.CANCELED:
            self.cancel_reason = reason
        recorded: list[EventData] = []
        if first_sale:
            self.job_number = job_number
            self.scheduling = self.scheduling.model_copy(update={"sold_on": at.date()})
            recorded.extend(
                self._set_production(ProductionStatus.SOLD, by=by, at=at, reason="sold")
            )
        recorded.insert(
            0,
            events.MilestoneChanged(
                job_id=self.job_id,
                from_milestone=previous,
                to_milestone=to,
                by=by,
                reason=reason,
                job_number=self.job_number,
                contract_price=self.contract_price,
            ),
        )
        if first_sale:
            recorded.append(
                events.JobSold(
                    job_id=self.job_id,
                    job_number=self.job_number or "",
                    sold_on=at.date(),
                    sales_rep_id=self.team.sales_rep_id,
                    contract_price=self.contract_price,
                    sale_price=self.financials.sale_price,
                    customer=self.contact(),
                    trades=list(self.trades),
                    line_items=self.line_item_data(),
                )
            )
        return self._changed(recorded)

    def request_approval(
        self, to: Milestone, *, by: str, at: datetime, note: str | None = None
    ) -> list[EventData]:
        self._require_open()
        if any(r.status == "pending" and r.to_milestone == to for r in self.approval_requests):
            raise JobRuleBroken(f"a request to move the job to {to.value} is already pending")
        if to == self.milestone:
            raise JobRuleBroken(f"the job is already {to.value}")
        request = ApprovalRequest(to_milestone=to, requested_by=by, requested_at=at, note=note)
        self.approval_requests.append(request)
        return self._changed(
            [
                events.ApprovalRequested(
                    job_id=self.job_id,
                    request_id=request.request_id,
                    to_milestone=to,
                    requested_by=by,
                    note=note,
                )
            ]
        )

    def decide_approval(
        self, request_id: str, *, approve: bool, by: str, at: datetime, note: str | None = None
    ) -> list[EventData]:
        self._require_open()
        request = self.pending_approval(request_id)
        index = self.approval_requests.index(request)
        self.approval_requests[index] = request.model_copy(
            update={
                "status": "approved" if approve else "rejected",
                "decided_by": by,
                "decided_at": at,
                "decision_note": note,
            }
        )
        return self._changed(
            [
                events.ApprovalDecided(
                    job_id=self.job_id,
                    request_id=request_id,
                    approved=approve,
                    decided_by=by,
                    note=note,
                )
            ]
        )

    # -- the file -------------------------------------------------------------------------------

    def sign_contract(
        self,
        *,
        signed_on: date,
        contract_price: Decimal,
        sale_price: Decimal | None,
        by: str,
    ) -> list[EventData]:
        self._require_open()
        if self.production_status == ProductionStatus.RELEASED:
            raise JobRuleBroken("the job is released: change the price with a change order")
        self.financials = Financials(
            sale_price=sale_price if sale_price is not None else contract_price,
            base_contract_price=contract_price,
            contract_signed_on=signed_on,
        )
        return self._changed(
            [
                events.ContractSigned(
                    job_id=self.job_id,
                    signed_on=signed_on,
                    contract_price=contract_price,
                    sale_price=self.financials.sale_price,
                    by=by,
                )
            ]
        )

    def _line_items_changed(self, change: str, line_item_id: str) -> events.LineItemsChanged:
        return events.LineItemsChanged(
            job_id=self.job_id,
            change=change,  # type: ignore[arg-type]
            line_item_id=line_item_id,
            line_items=self.line_item_data(),
            contract_price=self.contract_price,
        )

    def add_line_item(self, item: LineItem) -> list[EventData]:
        self._require_open()
        if any(existing.line_item_id == item.line_item_id for existing in self.line_items):
            raise JobRuleBroken(f"line item {item.line_item_id} already exists")
        self.line_items.append(item.model_copy(update={"completed": False, "completed_at": None}))
        return self._changed([self._line_items_changed("added", item.line_item_id)])

    def complete_line_item(self, line_item_id: str, *, at: datetime) -> list[EventData]:
        self._require_open()
        for index, item in enumerate(self.line_items):
            if item.line_item_id == line_item_id:
                if item.completed:
                    raise JobRuleBroken(f"line item {line_item_id} is already complete")
                self.line_items[index] = item.model_copy(
                    update={"completed": True, "completed_at": at}
                )
                return self._changed([self._line_items_changed("completed", line_item_id)])
        raise JobRuleBroken(f"no line item {line_item_id} on this job")

    def record_measurements(
        self, measurements: Measurements, *, by: str, at: datetime
    ) -> list[EventData]:
        self._require_open()
        self.measurements = measurements
        recorded: list[EventData] = [
            events.MeasurementsRecorded(job_id=self.job_id, **measurements.model_dump())
        ]
        recorded += self._advance_production(ProductionStatus.MEASURED, by=by, at=at)
        return self._changed(recorded)

    def record_materials(self, materials: Materials, *, by: str, at: datetime) -> list[EventData]:
        self._require_open()
        self.materials = materials
        recorded: list[EventData] = [
            events.MaterialsRecorded(job_id=self.job_id, **materials.model_dump())
        ]
        if materials.order_date is not None:
            recorded += self._advance_production(ProductionStatus.ORDERED, by=by, at=at)
        if materials.order_date is not None and self.scheduling.order_date != materials.order_date:
            self.scheduling = self.scheduling.model_copy(
                update={"order_date": materials.order_date}
            )
        return self._changed(recorded)

    def record_insurance(self, claim: InsuranceClaim) -> list[EventData]:
        self._require_open()
        self.insurance = claim
        return self._changed([events.InsuranceRecorded(job_id=self.job_id, **claim.model_dump())])

    def add_document(self, document: Document) -> list[EventData]:
        self._require_open()
        self.documents.append(document)
        return self._changed(
            [
                events.DocumentUploaded(
                    job_id=self.job_id,
                    document_id=document.document_id,
                    type=document.type,
                    checklist=document.checklist,
                    uploaded_by=document.uploaded_by,
                    location=document.location,
                )
            ]
        )

    def add_change_order(self, change_order: ChangeOrder) -> list[EventData]:
        self._require_open()
        if self.financials.base_contract_price is None:
            raise JobRuleBroken("a change order needs a signed contract first")
        change_order = change_order.model_copy(
            update={"adjustment": self.production_status == ProductionStatus.RELEASED}
        )
        self.change_orders.append(change_order)
        return self._changed(
            [
                events.ChangeOrderAdded(
                    job_id=self.job_id,
                    change_order_id=change_order.change_order_id,
                    signed_on=change_order.signed_on,
                    amount=change_order.amount,
                    note=change_order.note,
                    by=change_order.by,
                    contract_price=self.contract_price,
                    adjustment=change_order.adjustment,
                    sales_rep_id=self.team.sales_rep_id,
                )
            ]
        )

    def record_permit(self, status: str | None, number: str | None) -> list[EventData]:
        self._require_open()
        self.permits = self.permits.model_copy(
            update={"permit_status": status, "permit_number": number}
        )
        return self._changed(
            [events.PermitRecorded(job_id=self.job_id, permit_status=status, permit_number=number)]
        )

    def record_inspection(
        self, inspection: Inspection, *, by: str, at: datetime
    ) -> list[EventData]:
        """A failed inspection sends the work back: the job is In Progress again."""
        self._require_open()
        self.permits = self.permits.model_copy(
            update={"inspections": (*self.permits.inspections, inspection)}
        )
        recorded: list[EventData] = [
            events.InspectionRecorded(
                job_id=self.job_id, kind=inspection.kind, on=inspection.on, result=inspection.result
            )
        ]
        back_to_work = self.production_status in (
            ProductionStatus.SCHEDULED,
            ProductionStatus.COMPLETE,
        )
        if inspection.result == "failed" and back_to_work:
            recorded += self._set_production(
                ProductionStatus.IN_PROGRESS,
                by=by,
                at=at,
                reason=f"{inspection.kind} inspection failed",
            )
        return self._changed(recorded)

    # -- production -----------------------------------------------------------------------------

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

    def hand_off(self, *, by: str, at: datetime, schedule_by: datetime | None) -> list[EventData]:
        """The CSA passes the approved file to Production."""
        self._require_open()
        if self.milestone != Milestone.APPROVED:
            raise JobRuleBroken(
                f"only an approved job goes to production (the job is {self.milestone.value})"
            )
        if self.handed_off_at is not None:
            raise JobRuleBroken("the job was already handed off to production")
        self.handed_off_at = at
        self.handed_off_by = by
        return self._changed(
            [
                events.HandedOffToProduction(
                    job_id=self.job_id,
                    job_number=self.job_number,
                    by=by,
                    trades=list(self.trades),
                    schedule_by=schedule_by,
                )
            ]
        )

    def schedule(
        self, *, start_date: date, duration_days: int, by: str, at: datetime
    ) -> list[EventData]:
        if self.handed_off_at is None:
            raise JobRuleBroken("the job has not been handed off to production yet")
        self._require_production(
            ProductionStatus.SOLD,
            ProductionStatus.MEASURED,
            ProductionStatus.ORDERED,
            ProductionStatus.SCHEDULED,
            doing="schedule",
        )
        self.scheduling = self.scheduling.model_copy(
            update={"start_date": start_date, "duration_days": duration_days}
        )
        recorded: list[EventData] = [
            events.JobScheduled(
                job_id=self.job_id,
                start_date=start_date,
                duration_days=duration_days,
                crew_id=self.team.crew_id,
            )
        ]
        if self.production_status != ProductionStatus.SCHEDULED:
            recorded += self._set_production(ProductionStatus.SCHEDULED, by=by, at=at)
        return self._changed(recorded)

    @property
    def work_days(self) -> list[date]:
        """The calendar days the crew is on the job (from the start date, for the duration)."""
        start, days = self.scheduling.start_date, self.scheduling.duration_days
        if start is None or days is None:
            return []
        return [start + timedelta(days=offset) for offset in range(days)]

    def assign_crew(
        self, *, crew_id: str, crew_name: str, member_ids: list[str], by: str
    ) -> list[EventData]:
        self._require_open()
        if self.scheduling.start_date is None:
            raise JobRuleBroken("schedule the job before assigning a crew")
        self.team = self.team.model_copy(update={"crew_id": crew_id})
        return self._changed(
            [
                events.CrewAssigned(
                    job_id=self.job_id,
                    crew_id=crew_id,
                    crew_name=crew_name,
                    member_ids=member_ids,
                    days=self.work_days,
                    customer=self.contact(),
                )
            ]
        )

    def start_work(self, *, by: str, at: datetime) -> list[EventData]:
        self._require_production(ProductionStatus.SCHEDULED, doing="start work")
        return self._changed(self._set_production(ProductionStatus.IN_PROGRESS, by=by, at=at))

    def complete_production(self, *, by: str, at: datetime) -> list[EventData]:
        self._require_production(ProductionStatus.IN_PROGRESS, doing="complete the work")
        self.scheduling = self.scheduling.model_copy(update={"completion_date": at.date()})
        recorded = self._set_production(ProductionStatus.COMPLETE, by=by, at=at)
        if self.final_payment_received_at is not None:
            recorded += self._set_production(
                ProductionStatus.RELEASED, by=by, at=at, reason="final payment received"
            )
        return self._changed(recorded)

    def receive_final_payment(self, *, at: datetime, by: str = "billing") -> list[EventData]:
        """Billing received the final payment: a complete job is Released (otherwise it is
        released when it completes)."""
        if self.final_payment_received_at is not None:
            return []
        self.final_payment_received_at = at
        recorded: list[EventData] = []
        if self.production_status == ProductionStatus.COMPLETE:
            recorded = self._set_production(
                ProductionStatus.RELEASED, by=by, at=at, reason="final payment received"
            )
        return self._changed(recorded)
