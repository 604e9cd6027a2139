"""The commands the jobs handlers take, one per handler, named in the imperative.

What a caller asks of the service, whoever the caller is: the HTTP routes build them from their
request models (``api/models.py``, which are as strict as the domain and bounded for the wire),
tests and other callers build them directly. Who asks (the ``Caller``: user, tenant, roles) is
passed beside the command, not in it. A command on an existing job names it by ``job_id``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from services.jobs.domain.values import (
    Address,
    ChangeOrder,
    Customer,
    Document,
    Inspection,
    InsuranceClaim,
    LineItem,
    Materials,
    Measurements,
    Milestone,
)
from shared.contracts.jobs import Trade


class Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class JobCommand(Command):
    job_id: str


# -- leads and the pipeline ---------------------------------------------------------------------


class CreateLead(Command):
    customer: Customer
    address: Address
    sales_rep_id: str | None = None
    branch: str | None = None
    lead_source: str | None = None
    trades: list[Trade] | None = None


class AssignTeam(JobCommand):
    """Only the people named change (a None is "leave as is", not "unassign")."""

    sales_rep_id: str | None = None
    csa_id: str | None = None
    production_manager_id: str | None = None
    project_manager_id: str | None = None

    def people(self) -> dict[str, str]:
        return self.model_dump(exclude={"job_id"}, exclude_none=True)


class MoveMilestone(JobCommand):
    to: Milestone
    reason: str | None = None


class RequestApproval(JobCommand):
    to: Milestone = Milestone.APPROVED
    note: str | None = None


class DecideApproval(JobCommand):
    request_id: str
    approve: bool
    note: str | None = None


class Cancel(JobCommand):
    reason: str | None = None


# -- the file -----------------------------------------------------------------------------------


class SignContract(JobCommand):
    signed_on: date
    contract_price: Decimal
    sale_price: Decimal | None = None


class AddLineItem(JobCommand):
    item: LineItem


class CompleteLineItem(JobCommand):
    line_item_id: str


class RecordMeasurements(JobCommand):
    measurements: Measurements


class RecordMaterials(JobCommand):
    materials: Materials


class RecordInsurance(JobCommand):
    claim: InsuranceClaim


class AddDocument(JobCommand):
    """The uploader the document names is replaced by the caller (who uploads it)."""

    document: Document


class AddChangeOrder(JobCommand):
    change_order: ChangeOrder


class RecordPermit(JobCommand):
    permit_status: str | None = None
    permit_number: str | None = None


class RecordInspection(JobCommand):
    inspection: Inspection


# -- production ---------------------------------------------------------------------------------


class HandOff(JobCommand):
    pass


class ScheduleJob(JobCommand):
    start_date: date
    duration_days: int = 1
    complexity: int | None = None


class AssignCrew(JobCommand):
    crew_id: str


class StartWork(JobCommand):
    pass


class CompleteJob(JobCommand):
    pass
