"""Job costs (expenses, and whether they are all entered and paid) and the customer's payment
information on file."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, status

from services.billing.api.deps import Deps
from services.billing.domain import Folder
from services.billing.domain.costs import Costs, NewExpense
from services.billing.handlers import costs
from services.billing.handlers.costs import Entered, Paid
from shared.contracts.money import PaymentReference
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

BILLING = ("billing", "billing_manager")
ACCESS = {
    "record_expense": BILLING,
    "mark_expense_paid": BILLING,
    "confirm_expenses_entered": BILLING,
    "job_costs": (*BILLING, "production_manager"),
    "put_payment_on_file": (*BILLING, "csa"),
}

router = GuardedRouter(ACCESS, tags=["costs"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]


@router.post("/jobs/{job_id}/expenses", response_model=Costs, status_code=status.HTTP_201_CREATED)
async def record_expense(job_id: Id, body: NewExpense, deps: Deps, caller: AnyCaller) -> Costs:
    """An expense: materials, labor, permits, disposal or other; vendor, amount, paid or not."""
    return await costs.record_expense(deps, caller, job_id, body)


@router.post("/jobs/{job_id}/expenses/{expense_id}/paid", response_model=Costs)
async def mark_expense_paid(
    job_id: Id, expense_id: Id, body: Paid, deps: Deps, caller: AnyCaller
) -> Costs:
    return await costs.mark_paid(deps, caller, job_id, expense_id, body)


@router.put("/jobs/{job_id}/expenses/entered", response_model=Costs)
async def confirm_expenses_entered(
    job_id: Id, body: Entered, deps: Deps, caller: AnyCaller
) -> Costs:
    """Every expense of the job is entered (``false``: more are coming). Once they are also all
    paid, ``billing.job_costs_settled.v1`` says so (seed 004's condition for Closed)."""
    return await costs.confirm_entered(deps, caller, job_id, body)


@router.get("/jobs/{job_id}/costs", response_model=Costs)
async def job_costs(job_id: Id, deps: Deps, caller: AnyCaller) -> Costs:
    return await costs.costs(deps, caller, job_id)


@router.put("/jobs/{job_id}/payment-on-file", response_model=Folder)
async def put_payment_on_file(
    job_id: Id, body: PaymentReference, deps: Deps, caller: AnyCaller
) -> Folder:
    """Where the customer's payment information is kept (the card processor's or QuickBooks'
    id); a card or account number is refused (422)."""
    return await costs.put_payment_on_file(deps, caller, job_id, body)
