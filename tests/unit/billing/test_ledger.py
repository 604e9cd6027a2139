"""Money on a job, pure: the balance is the contract price plus the sum of the records' effects
for any sequence of them, to the cent, never a float; and what the balance means for the
release."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.billing.domain import Folder, MoneyRecord, balance_of
from services.billing.domain.ledger import EFFECT, NewPayment, reversible

AT = datetime(2026, 12, 1, tzinfo=UTC)
cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
kinds = st.sampled_from(sorted(EFFECT))


def record(n: int, kind: str, amount: Decimal) -> MoneyRecord:
    return MoneyRecord(
        record_id=f"r{n}",
        kind=kind,
        amount=amount,
        on=date(2026, 12, 1),
        description="",
        by="bea",
        recorded_at=AT,  # type: ignore[arg-type]
    )


@given(
    contract=st.none() | cents,
    entries=st.lists(st.tuples(kinds, cents, st.booleans()), max_size=40),
)
def test_the_balance_is_the_sum_of_its_records_in_any_order(
    contract: Decimal | None, entries: list[tuple[str, Decimal, bool]]
) -> None:
    records = [
        # a change order may be a credit (negative); every other amount is positive
        record(n, kind, -amount if kind == "change_order" and negative else amount)
        for n, (kind, amount, negative) in enumerate(entries)
    ]
    balance = balance_of(contract, records)
    expected = (contract or Decimal("0")) + sum(
        (EFFECT[r.kind] * r.amount for r in records), Decimal("0")
    )
    assert balance.balance == expected
    assert balance_of(contract, list(reversed(records))) == balance
    parts = (
        balance.contract_price
        + balance.change_orders
        + balance.supplements
        - balance.payments
        + balance.refunds
        + balance.reversals
        - balance.concessions
        - balance.write_offs
    )
    assert parts == balance.balance
    for value in balance.model_dump().values():
        assert isinstance(value, Decimal)  # never a float
    assert balance.balance == balance.balance.quantize(Decimal("0.01"))


def test_an_amount_is_whole_cents_and_positive() -> None:
    fields = {"received_on": "2026-12-01", "method": "check"}
    with pytest.raises(ValidationError, match="2 decimal places"):
        NewPayment.model_validate({"amount": "10.005", **fields})
    with pytest.raises(ValidationError, match="greater than 0"):
        NewPayment.model_validate({"amount": "0", **fields})
    assert NewPayment.model_validate({"amount": "10.50", **fields}).amount == Decimal("10.50")


def test_a_payment_is_reversed_once() -> None:
    paid = record(1, "payment", Decimal("500.00"))
    assert reversible(paid, [paid]) is None
    undone = paid.model_copy(update={"record_id": "r2", "kind": "reversal", "reverses": "r1"})
    assert reversible(paid, [paid, undone]) == "payment r1 was reversed already"
    assert reversible(None, []) == "no such payment on this job"
    assert reversible(undone, [paid, undone]) == "no such payment on this job"


def test_a_completed_job_paid_in_full_is_released_and_a_reopened_balance_undoes_it() -> None:
    folder = Folder(job_id="j", customer_name="Dana", opened_at=AT)
    assert folder.release_after(Decimal("0.00")) is None  # not completed yet
    done = folder.model_copy(update={"completed": True})
    assert done.release_after(Decimal("10.00")) is None
    assert done.release_after(Decimal("0.00")) == "released"
    assert done.release_after(Decimal("-5.00")) == "released"  # overpaid: a refund is due
    released = done.model_copy(update={"released_on": date(2026, 12, 2)})
    assert released.release_after(Decimal("0.00")) is None  # once
    assert released.release_after(Decimal("0.01")) == "unreleased"
    assert Folder(job_id="j", customer_name=" Dana ", opened_at=AT).customer_key == "dana"
