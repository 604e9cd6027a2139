"""The salesman credited with a job."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.commissions.api.deps import Deps
from services.commissions.api.models import SalesmanView
from services.commissions.handlers import salesmen
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

# Commissions are sales and payroll business; never the field.
ACCESS = {"read_salesman": ("sales", "csa", "production_manager", "billing_manager")}

router = GuardedRouter(ACCESS, tags=["commissions"])


@router.get("/jobs/{job_id}/salesman")
async def read_salesman(
    job_id: str, deps: Deps, caller: Annotated[Caller, Depends(current_caller)]
) -> SalesmanView:
    return await salesmen.read_salesman(deps, caller.tenant_id, job_id)
