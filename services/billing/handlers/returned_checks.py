"""Checks sent back to the homeowner (seed 002), step by step under the ``returned_checks``
policy: recorded (a posted check reversed on the books), the customer called, mailed back tracked
(which schedules the follow-up a few business days later, escalated to the billing manager if it
is missed), and the follow-up closing it (meeting that deadline)."""

from __future__ import annotations

import uuid

from services.billing.domain.collections import TimelineLine
from services.billing.domain.ledger import NewReversal
from services.billing.domain.returned_checks import (
    FOLLOW_UP,
    CustomerCall,
    FollowUp,
    MailedBack,
    NewReturnedCheck,
    ReturnedCheck,
    ReturnedCheckNotFound,
    ReturnedCheckStep,
)
from services.billing.handlers.books import book, folder_of
from services.billing.handlers.payments import reversal_of
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import (
    CheckMailedBack,
    CheckReturned,
    ReturnCheckFacts,
    ReturnedCheckClosed,
)
from shared.platform.http.auth import Caller
from shared.policy.asking import decide_or_refuse

RETURN_CHECK = "billing.return_check"
REASONS = {
    "not_signed": "not signed",
    "mortgage_not_signed": "the mortgage company has not signed",
    "not_payable_to_us": "not payable to us",
    "sent_to_our_office": "the insurer sent it to our office",
}


async def record_returned_check(
    deps: BillingDeps, caller: Caller, job_id: str, new: NewReturnedCheck
) -> ReturnedCheck:
    why = REASONS[new.reason]
    now = deps.clock()
    check = ReturnedCheck(
        returned_check_id=str(uuid.uuid4()),
        job_id=job_id,
        opened_at=now,
        opened_by=caller.user_id,
        **new.model_dump(),
    )
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        if new.payment_id is not None:  # posted as a payment: it did not hold
            undo = NewReversal(reversed_on=now.date(), reason=f"returned check: {why}")
            record = await reversal_of(uow, job_id, new.payment_id, undo, by=caller.user_id, at=now)
            await book(uow, folder, record)
        await uow.repos.returned_checks.put(check)
        uow.record(
            CheckReturned(
                job_id=job_id,
                returned_check_id=check.returned_check_id,
                reason=new.reason,
                amount=new.amount,
                reversed_payment=new.payment_id,
            ),
            subject=job_id,
        )
        await _line(uow, check, f"check from {new.payer} going back: {why}", caller)
        await uow.commit()
    return check


async def call_customer(
    deps: BillingDeps, caller: Caller, check_id: str, call: CustomerCall
) -> ReturnedCheck:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        check = await _open_check(uow, check_id)
        check = check.model_copy(update={"called_at": deps.clock(), "call_note": call.note})
        await uow.repos.returned_checks.put(check)
        await _line(uow, check, f"customer called: {call.note}", caller)
        await uow.commit()
    return check


async def mail_back(
    deps: BillingDeps, caller: Caller, check_id: str, mailed: MailedBack
) -> ReturnedCheck:
    """Mailed back tracked: refused (409) until the customer was called; the follow-up is
    scheduled by the policy."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        check = await _open_check(uow, check_id)
        if check.mailed_at is not None:
            raise ReturnedCheckStep(f"the check was mailed back already ({check.tracking_number})")
        facts = ReturnCheckFacts(
            step="mail", reason=check.reason, customer_called=check.called_at is not None
        )
        decision = await decide_or_refuse(
            deps.policy, uow, RETURN_CHECK, facts, subject=check.returned_check_id
        )
        now = deps.clock()
        due = await deps.policy.schedule(uow.transaction, decision, subject=check_id, now=now)
        check = check.model_copy(
            update={
                "mailed_at": now,
                "tracking_number": mailed.tracking_number,
                "carrier": mailed.carrier,
                "follow_up_by": min(due, default=None),
            }
        )
        await uow.repos.returned_checks.put(check)
        uow.record(
            CheckMailedBack(
                job_id=check.job_id,
                returned_check_id=check_id,
                tracking_number=mailed.tracking_number,
                follow_up_by=check.follow_up_by,
            ),
            subject=check.job_id,
        )
        await _line(
            uow, check, f"mailed back by {mailed.carrier}, {mailed.tracking_number}", caller
        )
        await uow.commit()
    return check


async def follow_up(
    deps: BillingDeps, caller: Caller, check_id: str, done: FollowUp
) -> ReturnedCheck:
    """Delivery confirmed (or not) and the homeowner called: the returned check is closed and
    its follow-up deadline met."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        check = await _open_check(uow, check_id)
        if check.mailed_at is None:
            raise ReturnedCheckStep("the check has not been mailed back yet")
        await deps.policy.meet(
            uow.transaction, tenant=uow.tenant_id, subject=check_id, task=FOLLOW_UP
        )
        check = check.model_copy(
            update={"closed_at": deps.clock(), "delivered": done.delivered, "outcome": done.outcome}
        )
        await uow.repos.returned_checks.put(check)
        uow.record(
            ReturnedCheckClosed(
                job_id=check.job_id,
                returned_check_id=check_id,
                delivered=done.delivered,
                outcome=done.outcome,
            ),
            subject=check.job_id,
        )
        delivered = "delivered" if done.delivered else "not delivered"
        await _line(uow, check, f"followed up ({delivered}): {done.outcome}", caller)
        await uow.commit()
    return check


async def returned_checks(
    deps: BillingDeps, caller: Caller, *, open_only: bool
) -> list[ReturnedCheck]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        return await uow.repos.returned_checks.listed(open_only=open_only)


async def _open_check(uow: BillingUnitOfWork, check_id: str) -> ReturnedCheck:
    check = await uow.repos.returned_checks.get(check_id, for_update=True)
    if check is None:
        raise ReturnedCheckNotFound(f"no returned check {check_id}")
    if check.closed_at is not None:
        raise ReturnedCheckStep(f"returned check {check_id} is closed")
    return check


async def _line(uow: BillingUnitOfWork, check: ReturnedCheck, text: str, caller: Caller) -> None:
    """The step just taken, in the job's billing timeline (at the step's own time)."""
    at = check.closed_at or check.mailed_at or check.called_at or check.opened_at
    await uow.repos.timeline.add(
        check.job_id, TimelineLine(at=at, kind="returned_check", text=text, by=caller.user_id)
    )
