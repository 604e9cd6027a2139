"""Post-install financing (seed 002's Hearth): an application for the job's balance made with
the lender, its link sent to the customer through messaging, the lender's answer (qualified with
offers, or not), the customer's choice passed on, and the lender's funds booked as a payment.

The lender is called outside any transaction: what it is asked is read first, and what it
answered is stored in a transaction of its own afterwards. A lender that fails leaves nothing
stored; one that answered when our transaction then fails has an application we do not know
(the lender's to expire), never one of ours half-made.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from services.billing.domain import Balance, MoneyRecord, balance_of
from services.billing.domain.collections import TimelineLine
from services.billing.domain.financing import (
    OPEN,
    FinancingApplication,
    FinancingApplicationNotFound,
    FinancingStep,
    FundsReceived,
    LenderNotConfigured,
    LoanRequest,
    LoanState,
    NewFinancingApplication,
    check_can_apply,
    financing_after,
)
from services.billing.handlers.books import book, folder_of
from services.billing.ports import BillingDeps, BillingUnitOfWork, Lender
from shared.contracts.billing import FinancingApplicationSent, FinancingApplicationUpdated
from shared.platform.http.auth import Caller


class FundsBooked(BaseModel):
    """The application funded, the payment its funds were booked as, the balance after."""

    application: FinancingApplication
    record: MoneyRecord
    balance: Balance


async def apply_for_financing(
    deps: BillingDeps, caller: Caller, job_id: str, new: NewFinancingApplication
) -> FinancingApplication:
    """Apply with the lender for the job's balance; store the application and publish its link
    for messaging to send the customer. What the request itself gets wrong (no such job, a
    text, nothing to finance) is answered before a missing lender setting."""
    application_id = str(uuid.uuid4())
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id)
        records = await uow.repos.records.of_job(job_id)
        balance = balance_of(folder.contract_price, records).balance
        check_can_apply(balance, new.channel, folder.customer_email, await _under_way(uow, job_id))
    lender = _lender(deps)
    opened = await lender.apply(
        LoanRequest(
            amount=balance,
            reference=application_id,
            customer_name=folder.customer_name,
            customer_email=folder.customer_email,
            customer_phone=folder.customer_phone,
        )
    )
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        # Another application may have been made while the lender answered: one at a time.
        under_way = await _under_way(uow, job_id)
        if under_way:
            raise FinancingStep(
                f"financing application {under_way[0].application_id} was made meanwhile"
            )
        application = FinancingApplication(
            application_id=application_id,
            job_id=job_id,
            lender=lender.name,
            lender_ref=opened.lender_ref,
            amount=balance,
            link=opened.link,
            channel=new.channel,
            status=opened.status,
            created_at=now,
            updated_at=now,
            by=caller.user_id,
        )
        await uow.repos.financing.put(application)
        financing = financing_after(folder.financing, application)
        await uow.repos.folders.save(folder.model_copy(update={"financing": financing}))
        uow.record(
            FinancingApplicationSent(
                job_id=job_id,
                application_id=application_id,
                lender=lender.name,
                link=opened.link,
                channel=new.channel,
                amount=balance,
                customer_name=folder.customer_name,
                customer_email=folder.customer_email,
                customer_phone=folder.customer_phone,
            ),
            subject=job_id,
        )
        text = f"financing application for {balance} sent to {lender.name} ({new.channel})"
        await _line(uow, application, text, caller.user_id, now)
        await uow.commit()
    return application


async def applications(
    deps: BillingDeps, caller: Caller, job_id: str
) -> list[FinancingApplication]:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        await folder_of(uow, job_id)  # 404 for a job billing does not know
        return await uow.repos.financing.of_job(job_id)


async def refresh(deps: BillingDeps, caller: Caller, application_id: str) -> FinancingApplication:
    """Where the application is at the lender: qualified with its offers, or not, or funded."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        application = await _application(uow, application_id)
    state = await _lender(deps).state(application.lender_ref)
    return await _moved(deps, caller, application_id, state)


async def choose_offer(
    deps: BillingDeps, caller: Caller, application_id: str, offer_id: str
) -> FinancingApplication:
    """The customer's choice among the offers, passed to the lender."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        application = await _application(uow, application_id)
    application.check_choice(offer_id)
    state = await _lender(deps).select_offer(application.lender_ref, offer_id)
    if state.selected_offer_id is None:
        state = state.model_copy(update={"selected_offer_id": offer_id})
    return await _moved(deps, caller, application_id, state)


async def record_funds(
    deps: BillingDeps, caller: Caller, application_id: str, funds: FundsReceived
) -> FundsBooked:
    """The lender's check reached us: a payment (method financing) on the job's books, which
    settle the balance and the release as for any payment."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job_id = (await _application(uow, application_id)).job_id
        folder = await folder_of(uow, job_id, for_update=True)  # the folder first, as books do
        application = await _application(uow, application_id, for_update=True)
        application.check_funding()
        record = MoneyRecord(
            record_id=str(uuid.uuid4()),
            kind="payment",
            amount=funds.amount,
            on=funds.received_on,
            description=f"{application.lender} loan funds, {funds.reference}",
            method="financing",
            financing=True,
            by=caller.user_id,
            recorded_at=now,
        )
        application = application.model_copy(
            update={"status": "funded", "payment_id": record.record_id, "updated_at": now}
        )
        await uow.repos.financing.put(application)
        folder = folder.model_copy(
            update={"financing": financing_after(folder.financing, application, funded=True)}
        )
        await uow.repos.folders.save(folder)
        balance = await book(uow, folder, record)
        assert balance is not None  # a new record's id is new
        _updated(uow, application)
        await uow.commit()
    return FundsBooked(application=application, record=record, balance=balance)


async def _moved(
    deps: BillingDeps, caller: Caller, application_id: str, state: LoanState
) -> FinancingApplication:
    """Keep what the lender now reports; the folder's financing, the timeline and an event
    follow a change."""
    now = deps.clock()
    async with deps.unit_of_work(caller.tenant_id) as uow:
        job_id = (await _application(uow, application_id)).job_id
        folder = await folder_of(uow, job_id, for_update=True)
        before = await _application(uow, application_id, for_update=True)
        application = before.updated(state, now)
        if application.model_copy(update={"updated_at": before.updated_at}) == before:
            return before  # nothing new at the lender
        await uow.repos.financing.put(application)
        funded = application.payment_id is not None
        financing = financing_after(folder.financing, application, funded=funded)
        await uow.repos.folders.save(folder.model_copy(update={"financing": financing}))
        _updated(uow, application)
        await _line(uow, application, _status_text(application), caller.user_id, now)
        await uow.commit()
    return application


def _status_text(application: FinancingApplication) -> str:
    status = application.status.replace("_", " ")
    offer = application.chosen_offer
    if offer is not None:
        return (
            f"financing {status}: {offer.amount} over {offer.term_months} months at "
            f"{offer.apr}% APR, {offer.monthly_payment} a month"
        )
    if application.offers:
        return f"financing {status}: {len(application.offers)} offers from {application.lender}"
    return f"financing {status} ({application.lender})"


def _updated(uow: BillingUnitOfWork, application: FinancingApplication) -> None:
    uow.record(
        FinancingApplicationUpdated(
            job_id=application.job_id,
            application_id=application.application_id,
            status=application.status,
            chosen_offer_id=application.chosen_offer_id,
            payment_id=application.payment_id,
        ),
        subject=application.job_id,
    )


def _lender(deps: BillingDeps) -> Lender:
    if deps.lender is None:
        raise LenderNotConfigured(
            "no lender is configured: set ROOFLINE_LENDER_URL (or ROOFLINE_BILLING__LENDER_URL) "
            "to the lender's API, and ROOFLINE_LENDER_API_KEY"
        )
    return deps.lender


async def _under_way(uow: BillingUnitOfWork, job_id: str) -> list[FinancingApplication]:
    return [a for a in await uow.repos.financing.of_job(job_id) if a.status in OPEN]


async def _application(
    uow: BillingUnitOfWork, application_id: str, *, for_update: bool = False
) -> FinancingApplication:
    application = await uow.repos.financing.get(application_id, for_update=for_update)
    if application is None:
        raise FinancingApplicationNotFound(f"no financing application {application_id}")
    return application


async def _line(
    uow: BillingUnitOfWork, application: FinancingApplication, text: str, by: str, at: datetime
) -> None:
    await uow.repos.timeline.add(
        application.job_id, TimelineLine(at=at, kind="financing", text=text, by=by)
    )
