"""Commissions HTTP routes (thin slice)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.commissions.tables import JobSalesmen
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.problems import NotFound
from shared.platform.service import ServicePlatform

# Commissions are sales and payroll business; never the field.
ACCESS = {"read_salesman": ("sales", "csa", "production_manager", "billing_manager")}


def router(platform: ServicePlatform) -> APIRouter:
    routes = GuardedRouter(ACCESS, tags=["commissions"])

    @routes.get("/jobs/{job_id}/salesman")
    async def read_salesman(
        job_id: str, caller: Caller = Depends(current_caller)
    ) -> dict[str, Any]:
        async with platform.engine.connect() as connection:
            found = await JobSalesmen(connection, caller.tenant_id).get(job_id)
        if found is None:
            raise NotFound(f"no salesman record for job {job_id}")
        return found

    return routes
