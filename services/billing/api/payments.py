"""Payments, refunds and reversals on a job. Each ``POST`` honours an ``Idempotency-Key``
header: a retried request records nothing more and is answered as the first was."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Path
from fastapi.responses import JSONResponse

from services.billing.api.deps import Deps
from services.billing.domain.ledger import NewPayment, NewRefund, NewReversal
from services.billing.handlers import payments
from services.billing.handlers.payments import Booked
from shared.platform.http.access import GuardedRouter
from shared.platform.http.auth import Caller, current_caller

MONEY = ("billing", "billing_manager")
ACCESS = {"record_payment": MONEY, "record_refund": MONEY, "reverse_payment": MONEY}

router = GuardedRouter(ACCESS, tags=["billing"])
AnyCaller = Annotated[Caller, Depends(current_caller)]
Id = Annotated[str, Path(min_length=1, max_length=100)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Any unique string (a UUID): a retry with it records nothing more.",
    ),
]


def answer(result: tuple[int, dict[str, Any]]) -> JSONResponse:
    status, body = result
    return JSONResponse(body, status_code=status)


@router.post("/jobs/{job_id}/payments", status_code=201, response_model=Booked)
async def record_payment(
    job_id: Id, body: NewPayment, deps: Deps, caller: AnyCaller, key: IdempotencyKey = None
) -> JSONResponse:
    """A payment: amount, date, method (check, card, ach, cash, financing, insurance_check),
    from the lender or the customer, who recorded it."""
    return answer(await payments.record_payment(deps, caller, job_id, body, key))


@router.post("/jobs/{job_id}/refunds", status_code=201, response_model=Booked)
async def record_refund(
    job_id: Id, body: NewRefund, deps: Deps, caller: AnyCaller, key: IdempotencyKey = None
) -> JSONResponse:
    return answer(await payments.record_refund(deps, caller, job_id, body, key))


@router.post(
    "/jobs/{job_id}/payments/{payment_id}/reversal", status_code=201, response_model=Booked
)
async def reverse_payment(
    job_id: Id,
    payment_id: Id,
    body: NewReversal,
    deps: Deps,
    caller: AnyCaller,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """A payment that did not hold (a returned check, a charge-back): a record of its own that
    puts the amount back on the balance; the payment stays as it was."""
    return answer(await payments.reverse_payment(deps, caller, job_id, payment_id, body, key))
