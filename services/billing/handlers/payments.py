"""Money the office records on a job: payments (many per job), refunds and reversals, each a
record of its own. A request may carry an Idempotency-Key: a retry is answered as the first was
and records nothing more (the folder's row is held while a request runs, so a retry racing its
original waits and then finds its answer)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from services.billing.domain import (
    Balance,
    Folder,
    IdempotencyKeyReused,
    MoneyRecord,
    PaymentRefused,
)
from services.billing.domain.ledger import NewPayment, NewRefund, NewReversal, reversible
from services.billing.handlers.books import book, folder_of
from services.billing.ports import BillingDeps, BillingUnitOfWork, KeptAnswer
from shared.platform.http.auth import Caller


class Booked(BaseModel):
    """What a money command answers: the record kept and the job's balance after it."""

    record: MoneyRecord
    balance: Balance


Command = Callable[[BillingUnitOfWork, Folder], Awaitable[MoneyRecord]]


async def record_payment(
    deps: BillingDeps, caller: Caller, job_id: str, new: NewPayment, key: str | None
) -> tuple[int, dict[str, Any]]:
    async def payment(uow: BillingUnitOfWork, folder: Folder) -> MoneyRecord:
        return MoneyRecord(
            record_id=str(uuid.uuid4()),
            kind="payment",
            amount=new.amount,
            on=new.received_on,
            description=new.description,
            method=new.method,
            financing=new.financing,
            by=caller.user_id,
            recorded_at=deps.clock(),
        )

    return await _booked(deps, caller, job_id, ("payment", new), key, payment)


async def record_refund(
    deps: BillingDeps, caller: Caller, job_id: str, new: NewRefund, key: str | None
) -> tuple[int, dict[str, Any]]:
    async def refund(uow: BillingUnitOfWork, folder: Folder) -> MoneyRecord:
        return MoneyRecord(
            record_id=str(uuid.uuid4()),
            kind="refund",
            amount=new.amount,
            on=new.refunded_on,
            description=new.reason,
            method=new.method,
            by=caller.user_id,
            recorded_at=deps.clock(),
        )

    return await _booked(deps, caller, job_id, ("refund", new), key, refund)


async def reverse_payment(
    deps: BillingDeps,
    caller: Caller,
    job_id: str,
    payment_id: str,
    new: NewReversal,
    key: str | None,
) -> tuple[int, dict[str, Any]]:
    """A payment that did not hold (a returned check, a charge-back): its amount is owed again."""

    async def reversal(uow: BillingUnitOfWork, folder: Folder) -> MoneyRecord:
        return await reversal_of(uow, job_id, payment_id, new, by=caller.user_id, at=deps.clock())

    return await _booked(deps, caller, job_id, (f"reversal:{payment_id}", new), key, reversal)


async def reversal_of(
    uow: BillingUnitOfWork,
    job_id: str,
    payment_id: str,
    new: NewReversal,
    *,
    by: str,
    at: datetime,
) -> MoneyRecord:
    """The record undoing a payment (409 if it is no payment of the job's, or reversed)."""
    records = await uow.repos.records.of_job(job_id)
    payment = next((r for r in records if r.record_id == payment_id), None)
    why_not = reversible(payment, records)
    if why_not is not None or payment is None:
        raise PaymentRefused(why_not)
    return MoneyRecord(
        record_id=str(uuid.uuid4()),
        kind="reversal",
        amount=payment.amount,
        on=new.reversed_on,
        description=new.reason,
        method=payment.method,
        financing=payment.financing,
        reverses=payment_id,
        by=by,
        recorded_at=at,
    )


async def _booked(
    deps: BillingDeps,
    caller: Caller,
    job_id: str,
    request: tuple[str, BaseModel],
    key: str | None,
    command: Command,
) -> tuple[int, dict[str, Any]]:
    """Run the command on the job's books in one transaction, once per Idempotency-Key."""
    what, body = request
    asked = hashlib.sha256(
        json.dumps([job_id, what, body.model_dump(mode="json")], sort_keys=True).encode()
    ).hexdigest()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        if key is not None:
            kept = await uow.repos.idempotency.get(key)
            if kept is not None:
                if kept.request != asked:
                    raise IdempotencyKeyReused(
                        f"Idempotency-Key {key!r} was used for another request"
                    )
                return kept.status, kept.response
        record = await command(uow, folder)
        balance = await book(uow, folder, record)
        assert balance is not None  # a new record's id is new
        response = Booked(record=record, balance=balance).model_dump(mode="json")
        if key is not None:
            await uow.repos.idempotency.put(
                key, KeptAnswer(request=asked, status=201, response=response), deps.clock()
            )
        await uow.commit()
    return 201, response
