"""Billing HTTP routes (thin slice)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.billing.tables import FinanceFolders
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.problems import NotFound
from shared.platform.service import ServicePlatform

# Money: billing, and the office roles that chase payment and financing; never the field.
ACCESS = {"read_folder": ("billing", "billing_manager", "csa", "sales", "production_manager")}


def router(platform: ServicePlatform) -> APIRouter:
    routes = GuardedRouter(ACCESS, tags=["billing"])

    @routes.get("/finance-folders/{job_id}")
    async def read_folder(job_id: str, caller: Caller = Depends(current_caller)) -> dict[str, Any]:
        async with platform.engine.connect() as connection:
            folder = await FinanceFolders(connection, caller.tenant_id).get(job_id)
        if folder is None:
            raise NotFound(f"no finance folder for job {job_id}")
        return folder

    return routes
