"""Job costs (seed 004: a job is Closed "when the balance has been received and all expenses
have been entered and paid"): the expenses of a job (materials, labor, permits, disposal,
other), each with its vendor, amount and whether it is paid. Billing confirms when every
expense is entered; "entered and paid" is then a fact it publishes for jobs, and the costs feed
commissions' gross-profit plans."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.billing.domain.ledger import PositiveCents

ExpenseCategory = Literal["materials", "labor", "permits", "disposal", "other"]


class NewExpense(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    category: ExpenseCategory
    vendor: str = Field(min_length=1, max_length=200)
    amount: PositiveCents
    incurred_on: date
    paid_on: date | None = Field(None, description="Set if it is paid already.")
    note: str = Field("", max_length=1000)


class Expense(NewExpense):
    expense_id: str
    by: str
    recorded_at: datetime


class Costs(BaseModel):
    """A job's costs: in all, paid, still to pay, by category; and whether they are settled
    (every expense entered, as billing confirmed, and paid)."""

    model_config = ConfigDict(frozen=True)

    total: Decimal
    paid: Decimal
    unpaid: Decimal
    by_category: dict[str, Decimal]
    entered: bool
    settled: bool
    expenses: list[Expense]


def costs_of(expenses: list[Expense], *, entered: bool) -> Costs:
    zero = Decimal("0.00")
    total = sum((e.amount for e in expenses), zero)
    paid = sum((e.amount for e in expenses if e.paid_on is not None), zero)
    by_category: dict[str, Decimal] = {}
    for expense in expenses:
        by_category[expense.category] = by_category.get(expense.category, zero) + expense.amount
    return Costs(
        total=total,
        paid=paid,
        unpaid=total - paid,
        by_category=by_category,
        entered=entered,
        settled=entered and paid == total,
        expenses=expenses,
    )


class ExpenseNotFound(LookupError):
    """No such expense on the job."""
