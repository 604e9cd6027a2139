"""The Job aggregate: the pipeline and the production workflow, example by example, and a
property test that no sequence of commands reaches an invalid state."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.jobs.domain import Job, JobRuleBroken, Milestone, ProductionStatus
from services.jobs.domain.values import (
    PRODUCTION_ORDER,
    Address,
    ChangeOrder,
    Customer,
    Inspection,
    LineItem,
    Materials,
    Measurements,
)
from shared.contracts import jobs as events

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def new_job(sales_rep: str | None = "sam") -> tuple[Job, list[Any]]:
    return Job.create_lead(
        tenant_id="acme",
        customer=Customer(name="Dana Reyes", phone="555-0100"),
        address=Address(line="12 Elm St", city="Springfield", latitude=39.8, longitude=-89.6),
        by="sam",
        at=NOW,
        sales_rep_id=sales_rep,
    )


def sold_job() -> Job:
    job, _ = new_job()
    job.add_line_item(LineItem(description="Tear off and replace", unit_price=Decimal("9000.00")))
    job.sign_contract(
        signed_on=date(2026, 11, 20), contract_price=Decimal("12500.00"), sale_price=None, by="sam"
    )
    job.move_milestone(Milestone.PROSPECT, by="sam", at=NOW)
    job.move_milestone(Milestone.APPROVED, by="ann", at=NOW, job_number="2026-0001")
    return job


def test_a_lead_records_its_creation_and_assignment() -> None:
    job, recorded = new_job()
    assert [type(e) for e in recorded] == [events.LeadCreated, events.TeamAssigned]
    assert job.version == 2 and job.assigned and job.milestone == Milestone.LEAD
    unassigned, recorded = new_job(sales_rep=None)
    assert [type(e) for e in recorded] == [events.LeadCreated]
    assert not unassigned.assigned


def test_the_first_approval_is_the_sale() -> None:
    job, _ = new_job()
    job.add_line_item(LineItem(description="Roof", unit_price=Decimal("100.00")))
    job.sign_contract(
        signed_on=date(2026, 11, 20), contract_price=Decimal("12500.00"), sale_price=None, by="sam"
    )
    recorded = job.move_milestone(Milestone.APPROVED, by="ann", at=NOW, job_number="2026-0007")
    assert [type(e) for e in recorded] == [
        events.MilestoneChanged,
        events.ProductionStatusChanged,
        events.JobSold,
    ]
    sold = recorded[-1]
    assert (sold.job_number, sold.contract_price, sold.sales_rep_id) == (
        "2026-0007",
        Decimal("12500.00"),
        "sam",
    )
    assert [item.description for item in sold.line_items] == ["Roof"]
    assert job.production_status == ProductionStatus.SOLD
    assert job.scheduling.sold_on == NOW.date()


def test_a_sale_needs_a_job_number_and_later_milestones_a_sale() -> None:
    job, _ = new_job()
    with pytest.raises(JobRuleBroken, match="job number"):
        job.move_milestone(Milestone.APPROVED, by="ann", at=NOW)
    with pytest.raises(JobRuleBroken, match="never sold"):
        job.move_milestone(Milestone.COMPLETED, by="ann", at=NOW)


def test_closed_and_canceled_jobs_take_no_changes() -> None:
    job, _ = new_job()
    job.move_milestone(Milestone.CANCELED, by="ann", at=NOW, reason="went with another roofer")
    assert job.cancel_reason == "went with another roofer"
    before = job.model_dump()
    with pytest.raises(JobRuleBroken, match="canceled and can no longer be changed"):
        job.add_line_item(LineItem(description="x"))
    assert job.model_dump() == before


def test_production_runs_in_order_and_a_failed_inspection_sends_the_work_back() -> None:
    job = sold_job()
    with pytest.raises(JobRuleBroken, match="not been handed off"):
        job.schedule(start_date=date(2026, 12, 1), duration_days=2, by="pm", at=NOW)
    job.hand_off(by="csa", at=NOW, schedule_by=NOW + timedelta(days=7))
    job.schedule(start_date=date(2026, 12, 1), duration_days=2, by="pm", at=NOW)
    assert job.work_days == [date(2026, 12, 1), date(2026, 12, 2)]
    job.start_work(by="crew", at=NOW)
    job.complete_production(by="csa", at=NOW)
    recorded = job.record_inspection(
        Inspection(kind="final", on=date(2026, 12, 3), result="failed"), by="pm", at=NOW
    )
    assert job.production_status == ProductionStatus.IN_PROGRESS
    assert recorded[-1].reason == "final inspection failed"


def test_final_payment_releases_the_job_when_complete() -> None:
    job = sold_job()
    job.hand_off(by="csa", at=NOW, schedule_by=None)
    job.schedule(start_date=date(2026, 12, 1), duration_days=1, by="pm", at=NOW)
    job.start_work(by="crew", at=NOW)
    job.receive_final_payment(at=NOW)
    assert job.production_status == ProductionStatus.IN_PROGRESS  # paid early: not released yet
    job.complete_production(by="csa", at=NOW)
    assert job.production_status == ProductionStatus.RELEASED


def test_an_invoice_sent_moves_a_completed_job_to_invoiced_once() -> None:
    job = sold_job()
    assert job.receive_invoice_sent("INV-2026-0001", at=NOW) == []  # not completed: no move
    job.hand_off(by="csa", at=NOW, schedule_by=None)
    job.schedule(start_date=date(2026, 12, 1), duration_days=1, by="pm", at=NOW)
    job.start_work(by="crew", at=NOW)
    job.complete_production(by="csa", at=NOW)
    job.move_milestone(Milestone.COMPLETED, by="ann", at=NOW)
    [moved] = job.receive_invoice_sent("INV-2026-0001", at=NOW)
    assert job.milestone == Milestone.INVOICED
    assert (moved.to_milestone, moved.by, moved.reason) == (
        "invoiced",
        "billing",
        "invoice INV-2026-0001 sent",
    )
    assert job.receive_invoice_sent("INV-2026-0002", at=NOW) == []  # invoiced already


def test_change_orders_change_the_contract_price_and_after_release_are_adjustments() -> None:
    job = sold_job()
    job.add_change_order(
        ChangeOrder(
            signed_on=date(2026, 11, 25), amount=Decimal("-500.00"), note="no skylight", by="sam"
        )
    )
    assert job.contract_price == Decimal("12000.00")
    job.hand_off(by="csa", at=NOW, schedule_by=None)
    job.schedule(start_date=date(2026, 12, 1), duration_days=1, by="pm", at=NOW)
    job.start_work(by="crew", at=NOW)
    job.complete_production(by="csa", at=NOW)
    job.receive_final_payment(at=NOW)
    [recorded] = job.add_change_order(
        ChangeOrder(
            signed_on=date(2026, 12, 9), amount=Decimal("250.00"), note="extra vent", by="sam"
        )
    )
    assert recorded.adjustment and recorded.contract_price == Decimal("12250.00")


def test_materials_ordered_and_measurements_move_production_forward_only() -> None:
    job = sold_job()
    job.record_materials(
        Materials(manufacturer="GAF", order_date=date(2026, 11, 24)), by="pm", at=NOW
    )
    assert job.production_status == ProductionStatus.ORDERED
    job.record_measurements(Measurements(roof_squares=Decimal("31")), by="pm", at=NOW)
    assert job.production_status == ProductionStatus.ORDERED  # measured later: no step back


def test_the_version_counts_the_events() -> None:
    job, recorded = new_job()
    total = len(recorded)
    total += len(job.add_line_item(LineItem(description="x")))
    total += len(job.move_milestone(Milestone.APPROVED, by="a", at=NOW, job_number="1"))
    assert job.version == total


# -- property: no sequence of commands reaches an invalid state

MILESTONES = list(Milestone)


def command_strategy() -> st.SearchStrategy[tuple[str, Any]]:
    return st.one_of(
        st.tuples(st.just("move"), st.sampled_from(MILESTONES)),
        st.tuples(st.just("assign"), st.sampled_from(["sam", "kim", None])),
        st.tuples(st.just("contract"), st.decimals(min_value=0, max_value=99999, places=2)),
        st.tuples(st.just("line_item"), st.decimals(min_value=0, max_value=5000, places=2)),
        st.tuples(st.just("complete_item"), st.integers(0, 3)),
        st.tuples(st.just("measure"), st.none()),
        st.tuples(st.just("materials"), st.booleans()),
        st.tuples(st.just("hand_off"), st.none()),
        st.tuples(st.just("schedule"), st.integers(1, 5)),
        st.tuples(st.just("crew"), st.none()),
        st.tuples(st.just("start"), st.none()),
        st.tuples(st.just("complete"), st.none()),
        st.tuples(st.just("paid"), st.none()),
        st.tuples(st.just("costs"), st.booleans()),
        st.tuples(st.just("close"), st.none()),
        st.tuples(st.just("reversed"), st.none()),
        st.tuples(st.just("inspection"), st.sampled_from(["passed", "failed"])),
        st.tuples(st.just("change_order"), st.decimals(min_value=-500, max_value=500, places=2)),
        st.tuples(st.just("request"), st.sampled_from(MILESTONES)),
        st.tuples(st.just("decide"), st.booleans()),
    )


def apply(job: Job, name: str, arg: Any, step: int) -> list[Any]:
    match name:
        case "move":
            return job.move_milestone(
                arg, by="u", at=NOW, reason="r", job_number=f"2026-{step:04d}"
            )
        case "assign":
            return job.assign(by="u", sales_rep_id=arg)
        case "contract":
            return job.sign_contract(
                signed_on=date(2026, 11, 1), contract_price=arg, sale_price=None, by="u"
            )
        case "line_item":
            return job.add_line_item(LineItem(description=f"item {step}", unit_price=arg))
        case "complete_item":
            ids = [item.line_item_id for item in job.line_items] or ["none"]
            return job.complete_line_item(ids[arg % len(ids)], at=NOW)
        case "measure":
            return job.record_measurements(Measurements(roof_squares=Decimal("30")), by="u", at=NOW)
        case "materials":
            order = date(2026, 11, 2) if arg else None
            return job.record_materials(
                Materials(manufacturer="GAF", order_date=order), by="u", at=NOW
            )
        case "hand_off":
            return job.hand_off(by="u", at=NOW, schedule_by=None)
        case "schedule":
            return job.schedule(start_date=date(2026, 12, 1), duration_days=arg, by="u", at=NOW)
        case "crew":
            return job.assign_crew(crew_id="c1", crew_name="Crew 1", member_ids=["i1"], by="u")
        case "start":
            return job.start_work(by="u", at=NOW)
        case "complete":
            return job.complete_production(by="u", at=NOW)
        case "paid":
            return job.receive_final_payment(at=NOW)
        case "costs":
            return job.receive_costs_settled(arg, Decimal("4200.00") if arg else Decimal(0), at=NOW)
        case "close":
            return job.close_on_billing(at=NOW)
        case "reversed":
            return job.receive_final_payment_reversed("check returned", at=NOW)
        case "inspection":
            return job.record_inspection(
                Inspection(kind="final", on=date(2026, 12, 5), result=arg), by="u", at=NOW
            )
        case "change_order":
            return job.add_change_order(
                ChangeOrder(signed_on=date(2026, 11, 3), amount=arg, note="n", by="u")
            )
        case "request":
            return job.request_approval(arg, by="u", at=NOW)
        case "decide":
            pending = [r.request_id for r in job.approval_requests if r.status == "pending"] or [
                "none"
            ]
            return job.decide_approval(pending[0], approve=arg, by="u", at=NOW)
    raise AssertionError(name)


def check_invariants(job: Job) -> None:
    # A sale (job number) and a production status come together.
    assert (job.job_number is None) == (job.production_status is None)
    if job.milestone in (Milestone.COMPLETED, Milestone.INVOICED, Milestone.CLOSED):
        assert job.job_number is not None
    milestones = [c for c in job.history if c.scale == "milestone"]
    if milestones:
        assert milestones[-1].to_status == job.milestone
    production = [c for c in job.history if c.scale == "production"]
    if production:
        assert production[-1].to_status == job.production_status
    if job.production_status is not None:
        index = PRODUCTION_ORDER.index(job.production_status)
        if index >= PRODUCTION_ORDER.index(ProductionStatus.SCHEDULED):
            assert job.handed_off_at is not None and job.scheduling.start_date is not None
        if job.production_status == ProductionStatus.RELEASED:
            assert job.final_payment_received_at is not None
            assert job.scheduling.completion_date is not None
    if job.billing.final_payment_reversed_at is not None:
        assert job.billing.final_payment_reversal_reason == "check returned"
    if job.financials.base_contract_price is None:
        assert job.change_orders == [] and job.contract_price is None
    else:
        total = job.financials.base_contract_price + sum(
            (c.amount for c in job.change_orders), Decimal(0)
        )
        assert job.contract_price == total
    for item in job.line_items:
        assert item.completed == (item.completed_at is not None)
    pending = [r.to_milestone for r in job.approval_requests if r.status == "pending"]
    assert len(pending) == len(set(pending))  # one pending request per target milestone
    if job.team.crew_id is not None:
        assert job.scheduling.start_date is not None


# Billing's facts: kept even on a closed job (the reversal reopens it), and counted as versions
# only by the events they record (no gap in the job's sequence).
BILLING_FACTS = ("paid", "costs", "reversed")


@settings(max_examples=300, deadline=None)
@given(st.lists(command_strategy(), max_size=40))
def test_no_sequence_of_commands_reaches_an_invalid_state(commands: list[tuple[str, Any]]) -> None:
    job, recorded = new_job()
    expected_version = len(recorded)
    terminal = False
    for step, (name, arg) in enumerate(commands):
        before = job.model_dump()
        try:
            emitted = apply(job, name, arg, step)
        except JobRuleBroken:
            assert job.model_dump() == before, f"{name} refused but changed the job"
            continue
        changed = job.model_dump(exclude={"version"}) != {
            k: v for k, v in before.items() if k != "version"
        }
        assert not (terminal and changed and name not in BILLING_FACTS), f"{name} changed it"
        if name in BILLING_FACTS:
            expected_version += len(emitted)
        elif changed or emitted:
            expected_version += max(len(emitted), 1)
        assert job.version == expected_version
        assert all(getattr(e, "job_id", job.job_id) == job.job_id for e in emitted)
        check_invariants(job)
        # Round trip through storage keeps the job whole.
        assert Job.model_validate(job.model_dump(mode="json")) == job
        terminal = job.milestone in (Milestone.CLOSED, Milestone.CANCELED)
