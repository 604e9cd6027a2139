"""A job's finance folder: the customer, the contract, financing, the money records and the
balance derived from them; and the customer's balance across their jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from services.billing.api.deps import Deps
from services.billing.domain import Balance, Financing, Folder
from services.billing.handlers import folders
from services.billing.handlers.folders import CustomerBalance, FolderView
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

# Money: billing, and the office roles that chase payment and financing; never the field.
READERS = ("billing", "billing_manager", "csa", "sales", "production_manager")
ACCESS = {
    "read_folder": READERS,
    "read_balance": READERS,
    "customer_balance": READERS,
    "put_financing": ("billing", "billing_manager", "csa"),
}

router = GuardedRouter(ACCESS, tags=["billing"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
JobId = Annotated[str, Path(min_length=1, max_length=100)]


@router.get("/finance-folders/{job_id}", response_model=FolderView)
async def read_folder(job_id: JobId, deps: Deps, caller: AnyCaller) -> FolderView:
    """The folder, every money record on the job (oldest first) and the balance."""
    return await folders.read_folder(deps, caller.tenant_id, job_id)


@router.get("/jobs/{job_id}/balance", response_model=Balance)
async def read_balance(job_id: JobId, deps: Deps, caller: AnyCaller) -> Balance:
    """contract price + change orders + supplements - payments + refunds + reversals -
    concessions, derived from the records each time."""
    return await folders.read_balance(deps, caller.tenant_id, job_id)


@router.get("/jobs/{job_id}/customer-balance", response_model=CustomerBalance)
async def customer_balance(job_id: JobId, deps: Deps, caller: AnyCaller) -> CustomerBalance:
    """The job's customer (by email, else name) across all their jobs."""
    return await folders.customer_balance(deps, caller, job_id)


@router.put("/finance-folders/{job_id}/financing", response_model=Folder)
async def put_financing(job_id: JobId, body: Financing, deps: Deps, caller: AnyCaller) -> Folder:
    """The cash / loan split, the lender, the loan's status, notes."""
    return await folders.put_financing(deps, caller, job_id, body)
