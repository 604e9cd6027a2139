"""A job's customer, as tickets keeps it."""

from __future__ import annotations

from services.tickets.api.common import OFFICE
from services.tickets.api.deps import AnyCaller, Deps
from services.tickets.api.models import CustomerView
from services.tickets.handlers import past_jobs
from shared.platform.http.access import GuardedRouter

ACCESS = {"read_customer": OFFICE}

router = GuardedRouter(ACCESS, tags=["tickets"])


@router.get("/customers/{job_id}")
async def read_customer(job_id: str, deps: Deps, caller: AnyCaller) -> CustomerView:
    return await past_jobs.read_customer(deps, caller.tenant_id, job_id)
