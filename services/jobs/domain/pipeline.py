"""Creating a lead and moving it along the milestone pipeline (seed 004), approvals included."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from services.jobs.domain.errors import JobRuleBroken
from services.jobs.domain.state import JobState
from services.jobs.domain.values import (
    PIPELINE,
    Address,
    ApprovalRequest,
    Customer,
    Milestone,
    ProductionStatus,
    Team,
)
from shared.contracts import jobs as events
from shared.contracts.base import EventData
from shared.contracts.jobs import Trade


class JobPipeline(JobState):
    """Lead, milestones, the sale, approval requests."""

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
    ) -> tuple[Self, list[EventData]]:
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
                salesman_id=sales_rep_id or by,
            )
        ]
        if sales_rep_id:
            recorded.append(job._team_assigned(by))
        job.version = len(recorded)
        return job, recorded

    # -- the pipeline ---------------------------------------------------------------------------

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

    def check_move(self, to: Milestone) -> None:
        """Raises unless the job can move to ``to`` (checked before the policy is asked)."""
        self._require_open()
        if to == self.milestone:
            raise JobRuleBroken(f"the job is already {to.value}")
        beyond_the_sale = to in PIPELINE and PIPELINE.index(to) > PIPELINE.index(Milestone.APPROVED)
        if beyond_the_sale and self.job_number is None:
            raise JobRuleBroken(f"a job that was never sold cannot be {to.value}")

    def sells_by_moving_to(self, to: Milestone) -> bool:
        """Moving to ``to`` makes the job a sale: it reaches Approved for the first time."""
        return to == Milestone.APPROVED and self.job_number is None

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
        self.check_move(to)
        first_sale = self.sells_by_moving_to(to)
        if first_sale and not job_number:
            raise JobRuleBroken("a sale needs a job number")
        if first_sale:
            self.job_number = job_number
            self.scheduling = self.scheduling.model_copy(update={"sold_on": at.date()})
        recorded: list[EventData] = [self._set_milestone(to, by=by, at=at, reason=reason)]
        if to == Milestone.CANCELED:
            self.cancel_reason = reason
        if first_sale:
            recorded.extend(
                self._set_production(ProductionStatus.SOLD, by=by, at=at, reason="sold")
            )
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
