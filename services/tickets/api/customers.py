"""A job's customer, as tickets keeps it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.tickets.api.deps import Deps
from services.tickets.api.models import CustomerView
from services.tickets.handlers import customers
from shared.contracts.roles import OFFICE_ROLES
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

# The office; technicians will see the customers of the tickets assigned to them once tickets
# are assigned (until then, none).
ACCESS = {"read_customer": OFFICE_ROLES}

router = GuardedRouter(ACCESS, tags=["tickets"])


@router.get("/customers/{job_id}")
async def read_customer(
    job_id: str, deps: Deps, caller: Annotated[Caller, Depends(current_caller)]
) -> CustomerView:
    return await customers.read_customer(deps, caller.tenant_id, job_id)
