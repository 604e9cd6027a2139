"""Jobs HTTP routes: parse and authorize, call a handler, map the result."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from services.jobs.domain import Lead
from services.jobs.handlers import CreateLead, create_lead, get_job
from shared.auth import Caller, current_caller, require_roles
from shared.platform import ServicePlatform
from shared.problems import NotFound


class JobView(BaseModel):
    job_id: str
    milestone: str
    customer_name: str
    phone: str | None
    email: str | None
    property_address: str
    salesman_id: str
    created_at: datetime | None
    acknowledged_by: dict[str, datetime]
    awaiting: list[str]

    @classmethod
    def of(cls, lead: Lead) -> JobView:
        return cls(
            job_id=lead.job_id,
            milestone=lead.milestone,
            customer_name=lead.customer_name,
            phone=lead.phone,
            email=lead.email,
            property_address=lead.property_address,
            salesman_id=lead.salesman_id,
            created_at=lead.created_at,
            acknowledged_by=lead.acknowledged_by,
            awaiting=lead.awaiting,
        )


def router(platform: ServicePlatform) -> APIRouter:
    routes = APIRouter(tags=["jobs"])
    uow_factory = platform.uow_factory

    @routes.post("/jobs", status_code=201, response_model=JobView)
    async def post_job(
        body: CreateLead,
        caller: Caller = Depends(require_roles("sales", "csa", "project_manager")),
    ) -> JobView:
        """Create a lead. The caller is recorded as the salesman."""
        lead = await create_lead(uow_factory, caller, body)
        found = await get_job(uow_factory, caller, lead.job_id)
        return JobView.of(found or lead)

    @routes.get("/jobs/{job_id}", response_model=JobView)
    async def read_job(job_id: str, caller: Caller = Depends(current_caller)) -> JobView:
        lead = await get_job(uow_factory, caller, job_id)
        if lead is None:
            raise NotFound(f"job {job_id} not found")
        return JobView.of(lead)

    return routes
