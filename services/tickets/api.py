"""Tickets HTTP routes (thin slice)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.tickets.tables import JobCustomers
from shared.contracts.roles import OFFICE_ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.problems import NotFound
from shared.platform.service import ServicePlatform

# The office; technicians will see the customers of the tickets assigned to them once tickets
# are assigned (until then, none).
ACCESS = {"read_customer": OFFICE_ROLES}


def router(platform: ServicePlatform) -> APIRouter:
    routes = GuardedRouter(ACCESS, tags=["tickets"])

    @routes.get("/customers/{job_id}")
    async def read_customer(
        job_id: str, caller: Caller = Depends(current_caller)
    ) -> dict[str, Any]:
        async with platform.engine.connect() as connection:
            found = await JobCustomers(connection, caller.tenant_id).get(job_id)
        if found is None:
            raise NotFound(f"no customer record for job {job_id}")
        return found

    return routes
