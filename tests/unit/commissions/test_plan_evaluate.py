"""Each plan kind on its edge cases, explained in words and as data."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.commissions.domain.figures import JobFigures
from services.commissions.plans import evaluate
from tests.unit.commissions.plans import a_plan

D = Decimal

TIERED = """\
assigned_to: {everyone_else: true}
computation:
  percent_of_contract:
    rate: 6
    tiers:
      - {from: 50000, rate: 8}
      - {from: 100000, rate: 9.25}
advance: {amount: 250}
"""

GROSS_PROFIT = """\
assigned_to: {teams: [insurance]}
computation:
  percent_of_gross_profit: {rate: 30}
"""

FLAT = """\
assigned_to: {teams: [service]}
computation:
  flat_fee: {amount: 150}
advance: {amount: 50}
"""


def job(**figures: object) -> JobFigures:
    return JobFigures(job_id="job-1", **figures)  # type: ignore[arg-type]


def test_percent_of_contract_in_words_and_as_data(tmp_path: Path) -> None:
    plan = a_plan(tmp_path, TIERED)
    result = evaluate(
        plan,
        job(contract_price=D("12000"), change_orders=D("750"), approved_on=date(2026, 3, 2)),
        D("61200"),
    )
    assert (result.plan_id, result.plan_version, result.plan_hash) == ("standard", "1", plan.hash)
    assert result.amount == D("1020.00")
    assert result.advance == D("250.00")
    assert result.lines == (
        "Contract 12,000.00 + change orders 750.00 = 12,750.00",
        "Tier reached: 50,000.00 of monthly volume (you had 61,200.00): 8%",
        "8% of 12,750.00 = 1,020.00",
        "Advance paid when the job was approved (on 2026-03-02): 250.00",
        "At release: 1,020.00 - advance 250.00 = 770.00",
    )
    assert result.figures == {
        "kind": "percent_of_contract",
        "contract_price": "12000.00",
        "change_orders": "750.00",
        "contract_total": "12750.00",
        "month_volume": "61200.00",
        "freebie": False,
        "rate": "8",
        "base_rate": "6",
        "tier_from": "50000.00",
        "base": "12750.00",
        "unrounded": "1020.00",
        "amount": "1020.00",
        "advance": "250.00",
        "release": "770.00",
    }


def test_negative_change_orders_lower_the_base(tmp_path: Path) -> None:
    result = evaluate(
        a_plan(tmp_path, TIERED), job(contract_price=D("10000"), change_orders=D("-500")), D(0)
    )
    assert result.amount == D("570.00")
    assert result.lines[:3] == (
        "Contract 10,000.00 - change orders (a credit) 500.00 = 9,500.00",
        "No tier reached (you had 0.00 of monthly volume, the first tier starts at 50,000.00): 6%",
        "6% of 9,500.00 = 570.00",
    )
    assert result.figures["base"] == "9500.00"
    assert result.figures["tier_from"] is None


def test_tiers_cross_within_a_month(tmp_path: Path) -> None:
    """The tier is by the month's volume as it is given: two jobs of the same month earn
    different rates once the volume passed a tier between them."""
    plan = a_plan(tmp_path, TIERED)
    first, second, third = (
        evaluate(plan, job(contract_price=D("20000")), volume)
        for volume in (D("45000"), D("65000"), D("100000"))
    )
    assert (first.amount, second.amount, third.amount) == (
        D("1200.00"),
        D("1600.00"),
        D("1850.00"),
    )
    assert first.figures["rate"] == "6" and first.figures["month_volume"] == "45000.00"
    assert second.figures["rate"] == "8" and second.figures["tier_from"] == "50000.00"
    assert third.lines[1] == (
        "Tier reached: 100,000.00 of monthly volume (you had 100,000.00): 9.25%"
    )


def test_rounded_half_up_once_at_the_end(tmp_path: Path) -> None:
    result = evaluate(a_plan(tmp_path, GROSS_PROFIT), job(contract_price=D("10000.05")), D(0))
    assert result.amount == D("3000.02")  # 3000.015: half up
    assert result.lines[-1] == "30% of 10,000.05 = 3,000.015, rounded to 3,000.02"
    assert result.figures["unrounded"] == "3000.015"


def test_gross_profit(tmp_path: Path) -> None:
    result = evaluate(
        a_plan(tmp_path, GROSS_PROFIT),
        job(contract_price=D("12000"), change_orders=D("750"), costs=D("8000")),
        D(0),
    )
    assert result.amount == D("1425.00")
    assert result.advance == D("0.00")
    assert result.lines == (
        "Contract 12,000.00 + change orders 750.00 = 12,750.00",
        "Gross profit: 12,750.00 - costs 8,000.00 = 4,750.00",
        "30% of 4,750.00 = 1,425.00",
    )
    assert result.figures["costs"] == "8000.00"
    assert result.figures["gross_profit"] == "4750.00"


def test_a_negative_gross_profit_earns_nothing_and_says_so(tmp_path: Path) -> None:
    result = evaluate(
        a_plan(tmp_path, GROSS_PROFIT),
        job(contract_price=D("5000"), change_orders=D("-200"), costs=D("5600")),
        D(0),
    )
    assert result.amount == D("0.00")
    assert result.lines[-1] == "Gross profit is negative (-800.00): earns 0.00"
    assert result.figures["gross_profit"] == "-800.00"


def test_flat_fee(tmp_path: Path) -> None:
    result = evaluate(a_plan(tmp_path, FLAT), job(contract_price=D("850")), D(0))
    assert result.amount == D("150.00")
    assert result.lines == (
        "Flat fee per job: 150.00",
        "Advance paid when the job was approved: 50.00",
        "At release: 150.00 - advance 50.00 = 100.00",
    )
    assert result.figures["flat_fee"] == "150.00"


@pytest.mark.parametrize("body", [TIERED, GROSS_PROFIT, FLAT])
def test_a_freebie_is_tracked_and_earns_nothing(tmp_path: Path, body: str) -> None:
    result = evaluate(
        a_plan(tmp_path, body), job(contract_price=D("4000"), freebie=True), D("80000")
    )
    assert result.amount == D("0.00")
    assert result.advance == D("0.00")
    assert "Freebie: tracked, earns nothing" in result.lines
    assert result.figures["freebie"] is True
    assert result.figures["release"] == "0.00"


def test_the_advance_is_recovered_from_the_release_and_may_leave_some_owed(
    tmp_path: Path,
) -> None:
    result = evaluate(a_plan(tmp_path, TIERED), job(contract_price=D("3000")), D(0))
    assert (result.amount, result.advance) == (D("180.00"), D("250.00"))
    assert result.figures["release"] == "-70.00"
    assert result.lines[-1] == (
        "At release: 180.00 - advance 250.00 = -70.00: 70.00 of the advance is still owed"
    )


def test_a_negative_contract_total_earns_nothing(tmp_path: Path) -> None:
    result = evaluate(
        a_plan(tmp_path, TIERED), job(contract_price=D("100"), change_orders=D("-300")), D(0)
    )
    assert result.amount == D("0.00")
    assert result.lines[-3] == "Contract total is negative (-200.00): earns 0.00"
