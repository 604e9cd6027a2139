"""A job's message thread."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.messaging.api.deps import Deps
from services.messaging.api.models import ThreadView
from services.messaging.handlers import threads
from shared.contracts.roles import OFFICE_ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

# The office, and installers for the jobs their crew is on (the installer portal).
ACCESS = {"read_thread": (*OFFICE_ROLES, "installer")}

router = GuardedRouter(ACCESS, tags=["messaging"])


@router.get("/threads/{job_id}")
async def read_thread(
    job_id: str, deps: Deps, caller: Annotated[Caller, Depends(current_caller)]
) -> ThreadView:
    return await threads.read_thread(deps, caller, job_id)
