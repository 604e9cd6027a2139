"""Insurance on a job: the claim and its summary, supplements, depreciation releases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, status

from services.billing.api.deps import Deps
from services.billing.domain.insurance import (
    ClaimIn,
    ClaimView,
    NewSupplement,
    Supplement,
    SupplementDecision,
)
from services.billing.domain.invoices import Invoice
from services.billing.handlers import insurance
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

BILLING = ("billing", "billing_manager")
READERS = (*BILLING, "csa", "production_manager")
ACCESS = {
    "record_claim": BILLING,
    "read_claim": READERS,
    "request_supplement": BILLING,
    "decide_supplement": BILLING,
    "release_depreciation": BILLING,
}

router = GuardedRouter(ACCESS, tags=["insurance"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]


@router.put("/jobs/{job_id}/insurance", response_model=ClaimView)
async def record_claim(job_id: Id, body: ClaimIn, deps: Deps, caller: AnyCaller) -> ClaimView:
    """The carrier, the claim and the adjuster's summary line by line (RCV, recoverable
    depreciation; ACV derived), the deductible, the date of loss and of the ACV payment (the
    carrier's deadline for claiming depreciation counts from one of them). A line is matched to
    the job's line item by ``line_item_id``, else by the line item's ``insurance_line_ref``.
    Lines whose depreciation was invoiced cannot change (409)."""
    await insurance.record_claim(deps, caller, job_id, body)
    return await insurance.claim(deps, caller, job_id)


@router.get("/jobs/{job_id}/insurance", response_model=ClaimView)
async def read_claim(job_id: Id, deps: Deps, caller: AnyCaller) -> ClaimView:
    """The claim with its totals, what depreciation is released and outstanding, the
    supplements, and the carrier's deadline (``depreciation_deadline``) once known."""
    return await insurance.claim(deps, caller, job_id)


@router.post(
    "/jobs/{job_id}/insurance/supplements",
    response_model=Supplement,
    status_code=status.HTTP_201_CREATED,
)
async def request_supplement(
    job_id: Id, body: NewSupplement, deps: Deps, caller: AnyCaller
) -> Supplement:
    """A supplement asked of the carrier (amount and justification)."""
    return await insurance.request_supplement(deps, caller, job_id, body)


@router.post(
    "/jobs/{job_id}/insurance/supplements/{supplement_id}/decision", response_model=Supplement
)
async def decide_supplement(
    job_id: Id, supplement_id: Id, body: SupplementDecision, deps: Deps, caller: AnyCaller
) -> Supplement:
    """The carrier's answer: approved (the balance rises by the amount approved) or denied."""
    return await insurance.decide_supplement(deps, caller, job_id, supplement_id, body)


@router.post(
    "/jobs/{job_id}/insurance/depreciation-release",
    response_model=Invoice,
    status_code=status.HTTP_201_CREATED,
)
async def release_depreciation(job_id: Id, deps: Deps, caller: AnyCaller) -> Invoice:
    """A draft invoice to the carrier for the recoverable depreciation of completed line items
    only (policy ``depreciation``); the others wait for a later release. 409 naming each line
    and why, when none can be released."""
    return await insurance.release_depreciation(deps, caller, job_id)
