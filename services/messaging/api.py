"""Messaging HTTP routes (thin slice)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from services.messaging.tables import ThreadMembers, Threads
from shared.contracts.roles import OFFICE_ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller, sees_only_own_work
from shared.platform.http.problems import NotFound
from shared.platform.service import ServicePlatform

# The office, and installers for the jobs their crew is on (the installer portal).
ACCESS = {"read_thread": (*OFFICE_ROLES, "installer")}


def router(platform: ServicePlatform) -> APIRouter:
    routes = GuardedRouter(ACCESS, tags=["messaging"])

    @routes.get("/threads/{job_id}")
    async def read_thread(job_id: str, caller: Caller = Depends(current_caller)) -> dict[str, Any]:
        async with platform.engine.connect() as connection:
            found = await Threads(connection, caller.tenant_id).get(job_id)
            if sees_only_own_work(caller) and not await ThreadMembers(
                connection, caller.tenant_id
            ).includes(job_id, caller.user_id):
                found = None  # not their job: as if it did not exist
        if found is None:
            raise NotFound(f"no message thread for job {job_id}")
        return found

    return routes
