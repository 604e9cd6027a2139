"""A job's finance folder."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.billing.api.deps import Deps
from services.billing.api.models import FinanceFolderView
from services.billing.handlers import folders
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

# Money: billing, and the office roles that chase payment and financing; never the field.
ACCESS = {"read_folder": ("billing", "billing_manager", "csa", "sales", "production_manager")}

router = GuardedRouter(ACCESS, tags=["billing"])


@router.get("/finance-folders/{job_id}")
async def read_folder(
    job_id: str, deps: Deps, caller: Annotated[Caller, Depends(current_caller)]
) -> FinanceFolderView:
    return await folders.read_folder(deps, caller.tenant_id, job_id)
