"""Post-install financing through the lender: the application for the job's balance (its link
sent to the customer by messaging), the lender's answer and offers, the customer's choice, and
the lender's funds booked as a payment."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, status

from services.billing.api.deps import Deps
from services.billing.domain.financing import (
    FinancingApplication,
    FundsReceived,
    NewFinancingApplication,
)
from services.billing.handlers import financing
from services.billing.handlers.financing import FundsBooked
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller
from shared.platform.http.problems import PROBLEM_JSON, Problem

MONEY = ("billing", "billing_manager")
ACCESS = {
    "apply_for_financing": MONEY,
    "list_financing_applications": MONEY,
    "refresh_financing_application": MONEY,
    "choose_offer": MONEY,
    "record_funds": MONEY,
}

router = GuardedRouter(ACCESS, tags=["financing"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]


class LenderUnavailableProblem(Problem):
    """The lender could not be reached, timed out or failed: nothing was stored; try again."""

    status, slug, title = 503, "lender-unavailable", "The lender is unavailable"


class LenderErrorProblem(Problem):
    """The lender refused the call or answered what billing cannot read: nothing was stored."""

    status, slug, title = 502, "lender-error", "The lender's answer was not usable"


class LenderNotConfiguredProblem(Problem):
    status, slug, title = 503, "lender-not-configured", "No lender configured"


def _problem(description: str) -> dict[str, Any]:
    schema = {"$ref": "#/components/schemas/ProblemDetails"}
    return {"description": description, "content": {PROBLEM_JSON: {"schema": schema}}}


# What a route that calls the lender may answer besides the service's usual problems.
LENDER_PROBLEMS: dict[int | str, dict[str, Any]] = {
    502: _problem("The lender refused the call or answered what cannot be read."),
    503: _problem("The lender is unavailable, or none is configured (ROOFLINE_LENDER_URL)."),
}


@router.post(
    "/jobs/{job_id}/financing/applications",
    response_model=FinancingApplication,
    status_code=status.HTTP_201_CREATED,
    responses=LENDER_PROBLEMS,
)
async def apply_for_financing(
    job_id: Id, body: NewFinancingApplication, deps: Deps, caller: AnyCaller
) -> FinancingApplication:
    """Apply with the lender for the job's balance; the lender's link goes to the customer by
    ``channel`` (email; text is refused while no text gateway is configured). 409 for a zero
    balance or an application under way; 503 if the lender is unavailable (nothing stored)."""
    return await financing.apply_for_financing(deps, caller, job_id, body)


@router.get("/jobs/{job_id}/financing/applications", response_model=list[FinancingApplication])
async def list_financing_applications(
    job_id: Id, deps: Deps, caller: AnyCaller
) -> list[FinancingApplication]:
    return await financing.applications(deps, caller, job_id)


@router.post(
    "/financing/applications/{application_id}/refresh",
    response_model=FinancingApplication,
    responses=LENDER_PROBLEMS,
)
async def refresh_financing_application(
    application_id: Id, deps: Deps, caller: AnyCaller
) -> FinancingApplication:
    """Read the application's status and offers from the lender."""
    return await financing.refresh(deps, caller, application_id)


@router.post(
    "/financing/applications/{application_id}/offers/{offer_id}/choose",
    response_model=FinancingApplication,
    responses=LENDER_PROBLEMS,
)
async def choose_offer(
    application_id: Id, offer_id: Id, deps: Deps, caller: AnyCaller
) -> FinancingApplication:
    """The offer the customer chose, passed to the lender (409 unless qualified; 422 for an
    offer the lender did not make)."""
    return await financing.choose_offer(deps, caller, application_id, offer_id)


@router.post(
    "/financing/applications/{application_id}/funded",
    response_model=FundsBooked,
    status_code=status.HTTP_201_CREATED,
)
async def record_funds(
    application_id: Id, body: FundsReceived, deps: Deps, caller: AnyCaller
) -> FundsBooked:
    """The lender's check reached us: booked once as a payment (method financing), which may
    be the final payment."""
    return await financing.record_funds(deps, caller, application_id, body)
