"""Messaging HTTP routes (thin slice)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.messaging.tables import Threads
from shared.auth import Caller, current_caller
from shared.platform import ServicePlatform
from shared.problems import NotFound


def router(platform: ServicePlatform) -> APIRouter:
    routes = APIRouter(tags=["messaging"])

    @routes.get("/threads/{job_id}")
    async def read(job_id: str, caller: Caller = Depends(current_caller)) -> dict[str, Any]:
        async with platform.engine.connect() as connection:
            found = await Threads(connection, caller.tenant_id).get(job_id)
        if found is None:
            raise NotFound(f"no message thread for job {job_id}")
        return found

    return routes
