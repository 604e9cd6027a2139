"""Collections under policy: attempts, refusals, concessions, the billing manager's escalation
queue and decisions, and the job's billing timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, status

from services.billing.api.deps import Deps
from services.billing.domain import MoneyRecord
from services.billing.domain.collections import (
    Decide,
    Escalation,
    NewConcession,
    Refusal,
    TimelineLine,
)
from services.billing.handlers import collections
from services.billing.handlers.collections import Attempt, EscalationFile
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

BILLING = ("billing", "billing_manager")
ACCESS = {
    "attempt_collection": BILLING,
    "record_refusal": BILLING,
    # The concessions policy decides who may grant one (the production head); billing may ask.
    "grant_concession": (*BILLING, "production_manager"),
    "list_escalations": ("billing_manager",),
    "escalation_file": ("billing_manager",),
    "decide_escalation": ("billing_manager",),
    "billing_timeline": (*BILLING, "csa", "production_manager"),
}

router = GuardedRouter(ACCESS, tags=["collections"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]


@router.post("/jobs/{job_id}/collection-attempts", response_model=Attempt)
async def attempt_collection(job_id: Id, deps: Deps, caller: AnyCaller) -> Attempt:
    """Asking the customer to pay, through the ``collections`` policy: 409 policy-denied with
    its reasons while the job's collection is held (an unhappy customer, repairs open)."""
    return await collections.attempt_collection(deps, caller, job_id)


@router.post("/jobs/{job_id}/refusals", response_model=Escalation | None)
async def record_refusal(
    job_id: Id, body: Refusal, deps: Deps, caller: AnyCaller
) -> Escalation | None:
    """The customer refuses to pay. Once the repairs are done and a concession offered, the
    policy escalates the file to the corporate billing manager: the escalation is answered."""
    return await collections.record_refusal(deps, caller, job_id, body)


@router.post(
    "/jobs/{job_id}/concessions", response_model=MoneyRecord, status_code=status.HTTP_201_CREATED
)
async def grant_concession(
    job_id: Id, body: NewConcession, deps: Deps, caller: AnyCaller
) -> MoneyRecord:
    """A concession on the balance (amount, reason; who approved is the caller)."""
    return await collections.grant_concession(deps, caller, job_id, body)


@router.get("/escalations", response_model=list[Escalation])
async def list_escalations(deps: Deps, caller: AnyCaller, open: bool = True) -> list[Escalation]:
    """The corporate billing manager's queue (``open=false``: decided ones too)."""
    return await collections.escalations(deps, caller, open_only=open)


@router.get("/escalations/{escalation_id}", response_model=EscalationFile)
async def escalation_file(escalation_id: Id, deps: Deps, caller: AnyCaller) -> EscalationFile:
    """The escalation with the job's whole history: records, balance, timeline."""
    return await collections.escalation_file(deps, caller, escalation_id)


@router.post("/escalations/{escalation_id}/decision", response_model=Escalation)
async def decide_escalation(
    escalation_id: Id, body: Decide, deps: Deps, caller: AnyCaller
) -> Escalation:
    """Payment plan, write-off (the balance written off as a record), collection agency or
    legal: the decision closes the escalation."""
    return await collections.decide_escalation(deps, caller, escalation_id, body)


@router.get("/jobs/{job_id}/billing-timeline", response_model=list[TimelineLine])
async def billing_timeline(job_id: Id, deps: Deps, caller: AnyCaller) -> list[TimelineLine]:
    """Every payment, hold, release, concession, refusal and escalation on the job, in order."""
    return await collections.timeline(deps, caller, job_id)
