"""Released activity on fakes (seed 001): Released records when billing reports the final
payment, split between the job's salesmen to the cent; Adjustments for a change order after
release, a reversal's claw-back, and the office's own; a freebie tracked at 0.00."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from services.commissions.domain.activity import (
    ActivityRefused,
    NewAdjustment,
    RecordNotFound,
    Share,
    Shares,
)
from services.commissions.domain.statements import NewPayout, PayoutNotFound, PayoutRefused
from services.commissions.handlers import activity, statements
from services.commissions.ports import CommissionsDeps
from shared.contracts.billing import FinalPaymentReceived, FinalPaymentReversed
from shared.contracts.commissions import CommissionAdjusted, CommissionReleased
from shared.contracts.jobs import (
    ChangeOrderAdded,
    ContractSigned,
    CustomerContact,
    JobSold,
    LeadCreated,
)
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import Envelope, encode_event
from tests.unit.commissions.fakes import PercentOfContract, State, fake_deps

MAX = Caller(user_id="max", tenant_id="acme", roles=["billing_manager"])
SAM = Caller(user_id="sam", tenant_id="acme", roles=["sales"])


async def deliver(deps: CommissionsDeps, event: Any, job_id: str = "job-1") -> None:
    sent = encode_event(event, source="x", subject=job_id, tenant_id="acme", max_bytes=10**6)
    async with deps.unit_of_work("acme") as uow:
        await activity.on_event(deps, uow, Envelope.from_bytes(sent.body, 10**6), event)
        await uow.commit()


async def a_job_sold_by_two(deps: CommissionsDeps, price: str = "12000.00") -> None:
    lead = LeadCreated(
        job_id="job-1", customer_name="Dana", property_address="12 Elm St", salesman_id="sam"
    )
    await deliver(deps, lead)
    signed = ContractSigned(
        job_id="job-1", signed_on=date(2026, 11, 2), contract_price=Decimal(price), by="sam"
    )
    await deliver(deps, signed)
    shares = Shares(
        shares=(
            Share(salesman_id="sam", percent=Decimal("66.6667")),
            Share(salesman_id="ria", percent=Decimal("33.3333")),
        )
    )
    await activity.set_shares(deps, MAX, "job-1", shares)


def amounts(state: State) -> list[tuple[str, str, Decimal]]:
    return [(r.kind, r.salesman_id, r.amount) for _, r in state.activity]


async def test_the_final_payment_releases_each_salesmans_share_to_the_cent() -> None:
    deps, state = fake_deps()
    await a_job_sold_by_two(deps, "12000.01")
    assert state.activity == []  # nothing before billing reports the final payment
    paid = FinalPaymentReceived(
        job_id="job-1", amount=Decimal("12000.01"), received_on=date(2026, 12, 1)
    )
    await deliver(deps, paid)
    await deliver(deps, paid)  # a replay (the inbox's job) would credit nothing more either
    # 10% of 12,000.01 is 1,200.00 (half up); 66.6667% and 33.3333% of it, adding up exactly.
    assert amounts(state) == [
        ("released", "sam", Decimal("800.00")),
        ("released", "ria", Decimal("400.00")),
    ]
    released = state.activity[0][1]
    assert released.effective_on == date(2026, 12, 1)
    assert released.evaluation is not None and released.evaluation.plan_hash == "hash-1"
    assert len([e for e in state.events if isinstance(e, CommissionReleased)]) == 2


async def test_a_change_order_after_release_is_an_adjustment_and_a_reversal_claws_back() -> None:
    deps, state = fake_deps()
    await a_job_sold_by_two(deps)
    await deliver(
        deps,
        FinalPaymentReceived(job_id="job-1", amount=Decimal(12000), received_on=date(2026, 12, 1)),
    )
    change = ChangeOrderAdded(
        job_id="job-1",
        change_order_id="co-1",
        signed_on=date(2026, 12, 5),
        amount=Decimal("-600.00"),  # a credit: the base goes down
        note="no ridge vent",
        by="sam",
        contract_price=Decimal("11400.00"),
        adjustment=True,
    )
    await deliver(deps, change)
    reversed_ = FinalPaymentReversed(
        job_id="job-1", balance=Decimal("5700.00"), reason="returned check"
    )
    await deliver(deps, reversed_)
    assert amounts(state) == [
        ("released", "sam", Decimal("800.00")),
        ("released", "ria", Decimal("400.00")),
        ("adjustment", "sam", Decimal("-40.00")),  # 10% of 11,400.00 split: 760.00 and 380.00
        ("adjustment", "ria", Decimal("-20.00")),
        ("adjustment", "sam", Decimal("-380.00")),  # half the contract owed again: half back
        ("adjustment", "ria", Decimal("-190.00")),
    ]
    assert "no ridge vent" in state.activity[2][1].notes
    assert "returned check" in state.activity[4][1].notes
    # Paid again: each is due their share again, credited the difference.
    await deliver(
        deps,
        FinalPaymentReceived(job_id="job-1", amount=Decimal(5700), received_on=date(2026, 12, 20)),
    )
    assert amounts(state)[-2:] == [
        ("adjustment", "sam", Decimal("380.00")),
        ("adjustment", "ria", Decimal("190.00")),
    ]
    assert len([e for e in state.events if isinstance(e, CommissionAdjusted)]) == 6


async def test_an_advance_is_drawn_on_approval_and_recovered_from_the_release() -> None:
    deps, state = fake_deps(PercentOfContract(advance=Decimal("300.00")))
    await a_job_sold_by_two(deps)
    sold = JobSold(
        job_id="job-1",
        job_number="2026-0001",
        sold_on=date(2026, 11, 3),
        sales_rep_id="sam",
        contract_price=Decimal("12000.00"),
        sale_price=None,
        customer=CustomerContact(name="Dana", property_address="12 Elm St"),
        trades=["roofing"],
        line_items=[],
    )
    await deliver(deps, sold)
    await deliver(deps, sold)  # drawn once
    await deliver(
        deps,
        FinalPaymentReceived(job_id="job-1", amount=Decimal(12000), received_on=date(2026, 12, 1)),
    )
    assert amounts(state) == [
        ("adjustment", "sam", Decimal("200.00")),  # 66.6667% of the 300.00 advance
        ("adjustment", "ria", Decimal("100.00")),
        ("released", "sam", Decimal("600.00")),  # 800.00 due, 200.00 of it advanced
        ("released", "ria", Decimal("300.00")),
    ]
    assert state.activity[0][1].effective_on == date(2026, 11, 3)


async def test_a_freebie_is_tracked_at_nothing() -> None:
    deps, state = fake_deps()
    await a_job_sold_by_two(deps)
    await activity.set_freebie(deps, MAX, "job-1", True)
    await deliver(
        deps,
        FinalPaymentReceived(job_id="job-1", amount=Decimal(0), received_on=date(2026, 12, 1)),
    )
    assert amounts(state) == [
        ("released", "sam", Decimal("0.00")),
        ("released", "ria", Decimal("0.00")),
    ]
    assert all(r.freebie for _, r in state.activity)


async def test_the_office_adjusts_with_a_note_and_a_salesman_sees_only_their_own() -> None:
    deps, _ = fake_deps()
    await a_job_sold_by_two(deps)
    await deliver(
        deps,
        FinalPaymentReceived(job_id="job-1", amount=Decimal(12000), received_on=date(2026, 12, 1)),
    )
    bonus = NewAdjustment(
        salesman_id="ria", amount=Decimal("50.00"), effective_on=date(2026, 12, 2), notes="spiff"
    )
    record = await activity.record_adjustment(deps, MAX, "job-1", bonus)
    assert record.due == Decimal("450.00")
    stranger = NewAdjustment(
        salesman_id="zed", amount=Decimal("5.00"), effective_on=date(2026, 12, 2), notes="x"
    )
    with pytest.raises(ActivityRefused, match="salesman_id: zed"):
        await activity.record_adjustment(deps, MAX, "job-1", stranger)
    mine = await activity.activity_of_job(deps, SAM, "job-1")
    assert {r.salesman_id for r in mine} == {"sam"}
    with pytest.raises(RecordNotFound):
        await activity.explain(deps, SAM, record.record_id)
    explained = await activity.explain(deps, MAX, record.record_id)
    assert explained.notes == "spiff" and explained.evaluation is None


def test_shares_must_add_up_to_a_hundred() -> None:
    with pytest.raises(ValueError, match=r"add up to 99\.0000%"):
        Shares(
            shares=(
                Share(salesman_id="sam", percent=Decimal("66.0000")),
                Share(salesman_id="ria", percent=Decimal("33.0000")),
            )
        )


async def test_a_month_statement_and_a_payout_requested_approved_and_paid_for_good() -> None:
    deps, _ = fake_deps()
    await a_job_sold_by_two(deps)
    await deliver(
        deps,
        FinalPaymentReceived(job_id="job-1", amount=Decimal(12000), received_on=date(2026, 12, 1)),
    )
    december = (date(2026, 12, 1), date(2027, 1, 1))
    found = await statements.statement(deps, SAM, "sam", *december)
    assert [r.amount for r in found.records] == [Decimal("800.00")]
    assert found.totals.payable == Decimal("800.00")
    with pytest.raises(PayoutNotFound):
        await statements.statement(deps, SAM, "ria", *december)  # not his to read
    payout = await statements.request_payout(
        deps, SAM, NewPayout(salesman_id="sam", start=december[0], end=december[1])
    )
    with pytest.raises(PayoutRefused, match="nothing to request"):
        await statements.request_payout(
            deps, SAM, NewPayout(salesman_id="sam", start=december[0], end=december[1])
        )
    with pytest.raises(PayoutRefused, match="approved next"):
        await statements.advance_payout(deps, MAX, payout.payout_id, to="paid")
    await statements.advance_payout(deps, MAX, payout.payout_id, to="approved")
    paid = await statements.advance_payout(deps, MAX, payout.payout_id, to="paid")
    assert paid.status == "paid" and paid.amount == Decimal("800.00")
    with pytest.raises(PayoutRefused, match="never changes"):
        await statements.advance_payout(deps, MAX, payout.payout_id, to="paid")
    year = await statements.summary_of(deps, SAM, "sam", 2026)
    assert year.year_totals.paid == Decimal("800.00") and year.year_totals.payable == 0
    assert year.months[11].released == Decimal("800.00")
    company = await statements.summary_of(deps, MAX, None, 2026)
    assert company.year_totals.credited == Decimal("1200.00")
    assert company.year_totals.payable == Decimal("400.00")
