"""Money on a job (seed 001, "Finance"): every amount is a record of its own, and the balance is
always derived from them, never kept as a running total that could drift.

    balance = contract price + change orders + approved supplements
              - payments + refunds + reversals - concessions - write-offs

A refund or a reversal is a record, never an edit of the payment it undoes: a reversal names the
payment (a returned check, a charge-back) and puts its amount back on the balance; a refund is
money given back to the customer. Amounts are ``Decimal`` to the cent; never float.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

RecordKind = Literal[
    "change_order", "supplement", "payment", "refund", "reversal", "concession", "write_off"
]
PaymentMethod = Literal["check", "card", "ach", "cash", "financing", "insurance_check"]

# How each kind moves the balance: what is owed goes up (+1) or down (-1).
EFFECT: dict[str, int] = {
    "change_order": +1,  # its amount is signed: a credit change order is negative
    "supplement": +1,  # an insurance supplement, once approved
    "payment": -1,
    "refund": +1,
    "reversal": +1,
    "concession": -1,
    "write_off": -1,  # the billing manager's decision on an escalated file
}


# An amount a user enters: whole cents, positive, within NUMERIC(12,2).
PositiveCents = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


class MoneyRecord(BaseModel):
    """One amount on the job's books, as kept."""

    model_config = ConfigDict(frozen=True)

    record_id: str
    kind: RecordKind
    amount: Decimal = Field(description="Positive, but a change order's sign is its own.")
    on: date
    description: str
    method: PaymentMethod | None = None
    financing: bool = Field(False, description="A payment from a lender, not the customer's cash.")
    reverses: str | None = Field(None, description="The payment a reversal undoes.")
    by: str
    recorded_at: datetime

    @property
    def effect(self) -> Decimal:
        """What it adds to the balance (negative: it lowers what is owed)."""
        return EFFECT[self.kind] * self.amount


class NewPayment(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: PositiveCents
    received_on: date
    method: PaymentMethod
    description: str = Field("", max_length=500)
    financing: bool = Field(False, description="Paid by the lender (a loan), not the customer.")


class NewRefund(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount: PositiveCents
    refunded_on: date
    method: PaymentMethod
    reason: str = Field(min_length=1, max_length=500)


class NewReversal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    reversed_on: date
    reason: str = Field(min_length=1, max_length=500, examples=["returned check: not signed"])


class Balance(BaseModel):
    """The balance and what it is made of, to the cent."""

    model_config = ConfigDict(frozen=True)

    contract_price: Decimal
    change_orders: Decimal
    supplements: Decimal
    payments: Decimal
    refunds: Decimal
    reversals: Decimal
    concessions: Decimal
    write_offs: Decimal
    balance: Decimal


def balance_of(contract_price: Decimal | None, records: Iterable[MoneyRecord]) -> Balance:
    totals = {kind: Decimal("0.00") for kind in EFFECT}
    for record in records:
        totals[record.kind] += record.amount
    return balance_from(contract_price, totals)


def balance_from(contract_price: Decimal | None, sums: Mapping[str, Decimal]) -> Balance:
    """The balance from the records' amounts summed by kind (as the database sums them for a
    read: the same formula as ``balance_of``)."""
    totals = {kind: sums.get(kind, Decimal("0.00")) for kind in EFFECT}
    contract = contract_price or Decimal("0.00")
    owed = contract + sum((EFFECT[k] * v for k, v in totals.items()), Decimal("0.00"))
    return Balance(
        contract_price=contract,
        change_orders=totals["change_order"],
        supplements=totals["supplement"],
        payments=totals["payment"],
        refunds=totals["refund"],
        reversals=totals["reversal"],
        concessions=totals["concession"],
        write_offs=totals["write_off"],
        balance=owed,
    )


def reversible(payment: MoneyRecord | None, records: Iterable[MoneyRecord]) -> str | None:
    """Why the payment cannot be reversed (None: it can): not a payment, or reversed already."""
    if payment is None or payment.kind != "payment":
        return "no such payment on this job"
    if any(r.kind == "reversal" and r.reverses == payment.record_id for r in records):
        return f"payment {payment.record_id} was reversed already"
    return None
