"""Job costs and the customer's payment information on file. Whether a job's costs are settled
(every expense entered, as billing confirmed, and paid) is published when it changes: jobs' Closed
milestone waits on it, commissions' gross-profit plans read the costs."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel

from services.billing.domain import Folder
from services.billing.domain.collections import TimelineLine
from services.billing.domain.costs import Costs, Expense, ExpenseNotFound, NewExpense, costs_of
from services.billing.handlers.books import folder_of
from services.billing.ports import BillingDeps, BillingUnitOfWork
from shared.contracts.billing import ExpenseRecorded, JobCostsSettled, PaymentInfoRecorded
from shared.contracts.money import PaymentReference
from shared.platform.http.auth import Caller


class Entered(BaseModel):
    entered: bool


class Paid(BaseModel):
    paid_on: date


async def record_expense(deps: BillingDeps, caller: Caller, job_id: str, new: NewExpense) -> Costs:
    now = deps.clock()
    expense = Expense(
        **new.model_dump(), expense_id=str(uuid.uuid4()), by=caller.user_id, recorded_at=now
    )
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        await uow.repos.expenses.add(job_id, expense)
        costs = await _changed(uow, folder, expense, caller.user_id)
        await uow.commit()
    return costs


async def mark_paid(
    deps: BillingDeps, caller: Caller, job_id: str, expense_id: str, paid: Paid
) -> Costs:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        expense = next(
            (e for e in await uow.repos.expenses.of_job(job_id) if e.expense_id == expense_id),
            None,
        )
        if expense is None:
            raise ExpenseNotFound(f"no expense {expense_id} on job {job_id}")
        expense = expense.model_copy(update={"paid_on": paid.paid_on})
        await uow.repos.expenses.save(expense)
        costs = await _changed(uow, folder, expense, caller.user_id)
        await uow.commit()
    return costs


async def confirm_entered(
    deps: BillingDeps, caller: Caller, job_id: str, entered: Entered
) -> Costs:
    """Billing says every expense of the job is in (or, ``false``, that more are coming)."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        folder = folder.model_copy(update={"expenses_entered": entered.entered})
        await uow.repos.folders.save(folder)
        costs = await _settle(uow, folder)
        await uow.commit()
    return costs


async def costs(deps: BillingDeps, caller: Caller, job_id: str) -> Costs:
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id)
        return costs_of(await uow.repos.expenses.of_job(job_id), entered=folder.expenses_entered)


async def _changed(uow: BillingUnitOfWork, folder: Folder, expense: Expense, by: str) -> Costs:
    costs = await _settle(uow, folder)
    paid = f", paid {expense.paid_on}" if expense.paid_on else ", unpaid"
    await uow.repos.timeline.add(
        folder.job_id,
        TimelineLine(
            at=expense.recorded_at,
            kind="expense",
            text=f"{expense.category} {expense.amount} ({expense.vendor}){paid}",
            by=by,
        ),
    )
    uow.record(
        ExpenseRecorded(
            job_id=folder.job_id,
            expense_id=expense.expense_id,
            category=expense.category,
            vendor=expense.vendor,
            amount=expense.amount,
            incurred_on=expense.incurred_on,
            paid_on=expense.paid_on,
            total_costs=costs.total,
        ),
        subject=folder.job_id,
    )
    return costs


async def _settle(uow: BillingUnitOfWork, folder: Folder) -> Costs:
    """The job's costs; publish whether they are settled when that changes."""
    costs = costs_of(
        await uow.repos.expenses.of_job(folder.job_id), entered=folder.expenses_entered
    )
    if costs.settled != folder.costs_settled:
        await uow.repos.folders.save(folder.model_copy(update={"costs_settled": costs.settled}))
        uow.record(
            JobCostsSettled(job_id=folder.job_id, settled=costs.settled, total_costs=costs.total),
            subject=folder.job_id,
        )
    return costs


async def put_payment_on_file(
    deps: BillingDeps, caller: Caller, job_id: str, reference: PaymentReference
) -> Folder:
    """Where the customer's payment information is kept: a reference, never a number."""
    async with deps.unit_of_work(caller.tenant_id) as uow:
        folder = await folder_of(uow, job_id, for_update=True)
        folder = folder.model_copy(update={"payment_on_file": reference})
        await uow.repos.folders.save(folder)
        uow.record(
            PaymentInfoRecorded(
                job_id=job_id, kept_in=reference.kept_in, reference=reference.reference
            ),
            subject=job_id,
        )
        await uow.commit()
    return folder
