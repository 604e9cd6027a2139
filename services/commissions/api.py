"""Commissions HTTP routes (thin slice)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.commissions.tables import JobSalesmen
from shared.auth import Caller, current_caller
from shared.platform import ServicePlatform
from shared.problems import NotFound


def router(platform: ServicePlatform) -> APIRouter:
    routes = APIRouter(tags=["commissions"])

    @routes.get("/jobs/{job_id}/salesman")
    async def read(job_id: str, caller: Caller = Depends(current_caller)) -> dict[str, Any]:
        async with platform.engine.connect() as connection:
            found = await JobSalesmen(connection, caller.tenant_id).get(job_id)
        if found is None:
            raise NotFound(f"no salesman record for job {job_id}")
        return found

    return routes
