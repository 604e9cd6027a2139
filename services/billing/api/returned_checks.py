"""Checks sent back to the homeowner, step by step: recorded, customer called, mailed back
tracked, followed up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, status

from services.billing.api.deps import Deps
from services.billing.domain.returned_checks import (
    CustomerCall,
    FollowUp,
    MailedBack,
    NewReturnedCheck,
    ReturnedCheck,
)
from services.billing.handlers import returned_checks
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

BILLING = ("billing", "billing_manager")
ACCESS = {
    "record_returned_check": BILLING,
    "call_customer": BILLING,
    "mail_back": BILLING,
    "follow_up": BILLING,
    "list_returned_checks": BILLING,
}

router = GuardedRouter(ACCESS, tags=["returned checks"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]


@router.post(
    "/jobs/{job_id}/returned-checks",
    response_model=ReturnedCheck,
    status_code=status.HTTP_201_CREATED,
)
async def record_returned_check(
    job_id: Id, body: NewReturnedCheck, deps: Deps, caller: AnyCaller
) -> ReturnedCheck:
    """A check going back (not signed, mortgage company not signed, not payable to us, sent to
    our office); with ``payment_id`` the payment it was posted as is reversed."""
    return await returned_checks.record_returned_check(deps, caller, job_id, body)


@router.post("/returned-checks/{check_id}/call", response_model=ReturnedCheck)
async def call_customer(
    check_id: Id, body: CustomerCall, deps: Deps, caller: AnyCaller
) -> ReturnedCheck:
    """The customer was called and told what the issue is and to look for the check."""
    return await returned_checks.call_customer(deps, caller, check_id, body)


@router.post("/returned-checks/{check_id}/mailed", response_model=ReturnedCheck)
async def mail_back(check_id: Id, body: MailedBack, deps: Deps, caller: AnyCaller) -> ReturnedCheck:
    """Mailed back tracked (409 until the customer was called); the follow-up is due a few
    business days later (``follow_up_by``), escalated to the billing manager if missed."""
    return await returned_checks.mail_back(deps, caller, check_id, body)


@router.post("/returned-checks/{check_id}/follow-up", response_model=ReturnedCheck)
async def follow_up(check_id: Id, body: FollowUp, deps: Deps, caller: AnyCaller) -> ReturnedCheck:
    """Delivery checked and the homeowner called: closes it."""
    return await returned_checks.follow_up(deps, caller, check_id, body)


@router.get("/returned-checks", response_model=list[ReturnedCheck])
async def list_returned_checks(
    deps: Deps, caller: AnyCaller, open: bool = True
) -> list[ReturnedCheck]:
    return await returned_checks.returned_checks(deps, caller, open_only=open)
