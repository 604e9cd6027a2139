"""Billing's facts on the job (seed 004: a job is Closed "when the balance has been received and
all expenses have been entered and paid"): the Job aggregate keeping them, and the consumer's
handlers closing an Invoiced job when the shipped ``milestone_moves`` rules allow it, and moving
a Closed job back when its final payment is reversed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.jobs.domain import Job, JobRuleBroken, Milestone, ProductionStatus
from services.jobs.domain.commands import MoveMilestone
from services.jobs.domain.values import Address, Customer, LineItem
from services.jobs.handlers import billing, pipeline
from services.jobs.ports import JobsDeps
from shared.contracts import jobs as events
from shared.contracts.billing import (
    FinalPaymentReceived,
    FinalPaymentReversed,
    InvoiceSent,
    JobCostsSettled,
)
from shared.platform.http.auth import Caller
from shared.policy.decision import Decision, MatchedRule
from shared.policy.service import PolicyRefused
from tests.support.fake_policy import DecisionLog, FakePolicy
from tests.unit.jobs.fakes import Store, fake_deps

NOW = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)
CSA = Caller(user_id="ann", tenant_id="acme", roles=frozenset({"csa"}))
COSTS = Decimal("6120.00")


def completed_job() -> Job:
    """A sold job whose work is complete, at the Completed milestone."""
    job, _ = Job.create_lead(
        tenant_id="acme",
        customer=Customer(name="Dana Reyes"),
        address=Address(line="12 Elm St"),
        by="sam",
        at=NOW,
        sales_rep_id="sam",
    )
    job.add_line_item(LineItem(description="Roof", unit_price=Decimal("12480.00")))
    job.sign_contract(
        signed_on=date(2026, 11, 20), contract_price=Decimal("12480.00"), sale_price=None, by="sam"
    )
    job.move_milestone(Milestone.APPROVED, by="ann", at=NOW, job_number="2026-0001")
    job.hand_off(by="ann", at=NOW, schedule_by=None)
    job.schedule(start_date=date(2026, 12, 1), duration_days=1, by="pat", at=NOW)
    job.start_work(by="ivan", at=NOW)
    job.complete_production(by="ann", at=NOW)
    job.move_milestone(Milestone.COMPLETED, by="ann", at=NOW)
    return job


def invoiced_job() -> Job:
    job = completed_job()
    job.receive_invoice_sent("INV-2026-0001", at=NOW)
    return job


# -- the aggregate ------------------------------------------------------------------------------


def test_the_costs_are_kept_once_and_move_nothing() -> None:
    job = invoiced_job()
    version = job.version
    assert job.receive_costs_settled(True, COSTS, at=NOW) == []
    assert (job.billing.costs_settled, job.billing.total_costs) == (True, COSTS)
    assert job.billing.costs_reported_at == NOW
    assert job.milestone == Milestone.INVOICED  # closing is the policy's to allow
    kept = job.model_copy(deep=True)
    assert job.receive_costs_settled(True, COSTS, at=NOW) == []  # the same report again
    assert job == kept
    job.receive_costs_settled(False, COSTS + Decimal("300.00"), at=NOW)  # a new unpaid expense
    assert not job.billing.costs_settled
    # No event of jobs' own: billing's facts leave no gap in the job's sequence.
    assert job.version == version


def test_only_an_invoiced_job_closes_on_billing() -> None:
    job = completed_job()
    with pytest.raises(JobRuleBroken, match="only an invoiced job"):
        job.close_on_billing(at=NOW)
    job.receive_invoice_sent("INV-2026-0001", at=NOW)
    version = job.version
    [closed] = job.close_on_billing(at=NOW)
    assert job.milestone == Milestone.CLOSED and job.version == version + 1
    assert (closed.from_milestone, closed.to_milestone, closed.by) == (
        "invoiced",
        "closed",
        "billing",
    )
    assert closed.reason == "balance received and all expenses entered and paid"
    assert job.history[-1].reason == closed.reason


def test_a_reversal_takes_a_closed_job_back_to_invoiced_and_unreleases_it() -> None:
    job = invoiced_job()
    job.receive_final_payment(at=NOW)
    job.close_on_billing(at=NOW)
    version = job.version
    moved, unreleased = job.receive_final_payment_reversed("check returned: not signed", at=NOW)
    why = "final payment reversed: check returned: not signed"
    assert isinstance(moved, events.MilestoneChanged)
    assert (moved.from_milestone, moved.to_milestone, moved.by, moved.reason) == (
        "closed",
        "invoiced",
        "billing",
        why,
    )
    assert isinstance(unreleased, events.ProductionStatusChanged)
    assert (unreleased.from_status, unreleased.to_status, unreleased.reason) == (
        "released",
        "complete",
        why,
    )
    assert (job.milestone, job.production_status) == (Milestone.INVOICED, ProductionStatus.COMPLETE)
    assert [(c.scale, c.to_status, c.reason) for c in job.history[-2:]] == [
        ("milestone", Milestone.INVOICED, why),
        ("production", ProductionStatus.COMPLETE, why),
    ]
    assert not job.final_payment_received and job.billing.final_payment_reversed_at == NOW
    assert job.billing.final_payment_reversal_reason == "check returned: not signed"
    assert job.version == version + 2
    # Replayed, or on a job not released: nothing changes.
    kept = job.model_copy(deep=True)
    assert job.receive_final_payment_reversed("check returned: not signed", at=NOW) == []
    assert job == kept
    # Paid again: released again (and the office or billing's facts close it again).
    [released] = job.receive_final_payment(at=NOW)
    assert released.to_status == "released" and job.final_payment_received


def test_a_reversal_on_a_released_job_not_closed_keeps_its_milestone() -> None:
    job = invoiced_job()
    job.receive_final_payment(at=NOW)
    [unreleased] = job.receive_final_payment_reversed("refund", at=NOW)
    assert isinstance(unreleased, events.ProductionStatusChanged)
    assert (job.milestone, job.production_status) == (Milestone.INVOICED, ProductionStatus.COMPLETE)
    unpaid = completed_job()
    assert unpaid.receive_final_payment_reversed("refund", at=NOW) == []
    assert unpaid.billing.final_payment_reversed_at is None


# -- the handlers: billing's events in, the milestone out ---------------------------------------


def keep(store: Store, job: Job) -> str:
    store.jobs[("acme", job.job_id)] = job
    return job.job_id


async def receive(deps: JobsDeps, event: Any) -> None:
    """As the consumer runs a handler: in its unit of work, committed with the inbox row."""
    handle = {
        InvoiceSent: billing.receive_invoice_sent,
        FinalPaymentReceived: billing.receive_final_payment,
        FinalPaymentReversed: billing.receive_final_payment_reversed,
        JobCostsSettled: billing.receive_costs_settled,
    }[type(event)]
    async with deps.unit_of_work("acme") as uow:
        await handle(deps, uow, event)
        await uow.commit()


def paid(job_id: str) -> FinalPaymentReceived:
    return FinalPaymentReceived(job_id=job_id, amount=Decimal("12480.00"), received_on=NOW.date())


def settled(job_id: str, is_settled: bool = True) -> JobCostsSettled:
    return JobCostsSettled(job_id=job_id, settled=is_settled, total_costs=COSTS)


def job_events(store: Store, job_id: str) -> list[tuple[int, Any]]:
    return [(sequence, data) for subject, sequence, data in store.events if subject == job_id]


async def test_an_invoiced_job_closes_when_paid_and_its_costs_are_settled() -> None:
    deps, store, policy = fake_deps(NOW)
    job_id = keep(store, invoiced_job())
    version = store.jobs[("acme", job_id)].version

    await receive(deps, paid(job_id))
    job = store.jobs[("acme", job_id)]
    assert (job.milestone, job.production_status) == (Milestone.INVOICED, ProductionStatus.RELEASED)
    # Jobs asked to close it; the policy said what is still missing.
    asked = policy.log[-1]
    assert asked.decision_point == "jobs.change_job" and not asked.allowed
    assert asked.missing == ["all expenses entered and paid"]
    # An office user is refused the same way.
    with pytest.raises(PolicyRefused) as refused:
        await pipeline.move_milestone(deps, CSA, MoveMilestone(job_id=job_id, to=Milestone.CLOSED))
    assert refused.value.extensions["missing"] == ["all expenses entered and paid"]

    await receive(deps, settled(job_id))
    job = store.jobs[("acme", job_id)]
    assert job.milestone == Milestone.CLOSED
    assert job.billing.costs_settled and job.billing.total_costs == COSTS
    assert policy.log[-1].allowed
    closed = job_events(store, job_id)[-1][1]
    assert isinstance(closed, events.MilestoneChanged)
    assert (closed.to_milestone, closed.by) == ("closed", "billing")
    # The release and the close are the job's next two versions: no gap.
    assert [seq for seq, _ in job_events(store, job_id)] == [version + 1, version + 2]
    assert [a["action"] for a in store.audit[-2:]] == [
        "receive_final_payment",
        "receive_costs_settled",
    ]
    assert store.audit[-1]["actor"] == "billing"
    assert store.audit[-1]["detail"]["events"] == ["jobs.milestone_changed.v1"]

    # Redelivered: nothing more happens (not even a decision).
    decisions = len(policy.log)
    await receive(deps, settled(job_id))
    await receive(deps, paid(job_id))
    assert len(policy.log) == decisions and store.jobs[("acme", job_id)] == job


async def test_costs_settled_first_the_final_payment_closes_it() -> None:
    deps, store, policy = fake_deps(NOW)
    job_id = keep(store, invoiced_job())
    await receive(deps, settled(job_id))
    assert store.jobs[("acme", job_id)].milestone == Milestone.INVOICED
    assert policy.log[-1].missing == ["final payment received"]
    await receive(deps, paid(job_id))
    job = store.jobs[("acme", job_id)]
    assert (job.milestone, job.production_status) == (Milestone.CLOSED, ProductionStatus.RELEASED)


async def test_a_job_paid_before_its_invoice_closes_once_invoiced() -> None:
    """Only an Invoiced job closes by itself (the milestone awaiting payment): a Completed job
    paid and settled waits for its invoice, then goes Invoiced and Closed at once."""
    deps, store, _ = fake_deps(NOW)
    job_id = keep(store, completed_job())
    await receive(deps, paid(job_id))
    await receive(deps, settled(job_id))
    assert store.jobs[("acme", job_id)].milestone == Milestone.COMPLETED
    await receive(
        deps,
        InvoiceSent(
            job_id=job_id,
            invoice_id="i1",
            number="INV-2026-0001",
            kind="customer",
            total=Decimal("12480.00"),
            due=Decimal("0.00"),
        ),
    )
    assert store.jobs[("acme", job_id)].milestone == Milestone.CLOSED
    moves = [
        (data.from_milestone, data.to_milestone)
        for _, data in job_events(store, job_id)
        if isinstance(data, events.MilestoneChanged)
    ]
    assert moves == [("completed", "invoiced"), ("invoiced", "closed")]


async def test_unsettled_costs_after_closing_are_kept_and_the_job_stays_closed() -> None:
    deps, store, _ = fake_deps(NOW)
    job_id = keep(store, invoiced_job())
    await receive(deps, paid(job_id))
    await receive(deps, settled(job_id))
    await receive(deps, settled(job_id, is_settled=False))  # a late, unpaid expense
    job = store.jobs[("acme", job_id)]
    assert job.milestone == Milestone.CLOSED and not job.billing.costs_settled


async def test_a_reversed_final_payment_reopens_a_closed_job_once() -> None:
    deps, store, policy = fake_deps(NOW)
    job_id = keep(store, invoiced_job())
    await receive(deps, paid(job_id))
    await receive(deps, settled(job_id))
    reversal = FinalPaymentReversed(job_id=job_id, balance=Decimal("12480.00"), reason="NSF check")

    await receive(deps, reversal)
    job = store.jobs[("acme", job_id)]
    assert (job.milestone, job.production_status) == (Milestone.INVOICED, ProductionStatus.COMPLETE)
    assert job.history[-2].reason == "final payment reversed: NSF check"
    asked = policy.log[-1]
    assert asked.allowed and asked.decision_point == "jobs.change_job"
    assert store.audit[-1]["action"] == "receive_final_payment_reversed"
    assert store.audit[-1]["reason"] == "NSF check"
    # Closing it again by hand needs the balance again.
    with pytest.raises(PolicyRefused) as refused:
        await pipeline.move_milestone(deps, CSA, MoveMilestone(job_id=job_id, to=Milestone.CLOSED))
    assert refused.value.extensions["missing"] == ["final payment received"]

    # A replay (or a reversal on a job not released) changes nothing.
    count = len(store.events)
    await receive(deps, reversal)
    assert store.jobs[("acme", job_id)] == job and len(store.events) == count

    # The customer pays again: released, and closed again on billing's facts.
    await receive(deps, paid(job_id))
    job = store.jobs[("acme", job_id)]
    assert (job.milestone, job.production_status) == (Milestone.CLOSED, ProductionStatus.RELEASED)
    sequences = [seq for seq, _ in job_events(store, job_id)]
    assert sequences == list(range(sequences[0], sequences[0] + len(sequences)))


class KeepsClosedJobsClosed(FakePolicy):
    """A policy owner's rules that never reopen a closed job (the shipped ones do)."""

    async def decide(
        self,
        uow: DecisionLog,
        decision_point: str,
        facts: Any,
        *,
        tenant: str,
        subject: str,
        source: str,
    ) -> Decision:
        decision = await super().decide(
            uow, decision_point, facts, tenant=tenant, subject=subject, source=source
        )
        if facts.change.command != "reverse_final_payment":
            return decision
        rule = MatchedRule(
            policy="milestone_moves",
            rule="closed-stays-closed",
            title="Closed jobs stay closed",
            outcome="deny",
            enforced=True,
            reason="Closed jobs stay closed.",
        )
        return dataclasses.replace(decision, outcome="deny", matched=(rule,))


async def test_a_reversal_the_policy_refuses_leaves_the_closed_job_as_it_is() -> None:
    deps, store, _ = fake_deps(NOW)
    job_id = keep(store, invoiced_job())
    await receive(deps, paid(job_id))
    await receive(deps, settled(job_id))
    closed = store.jobs[("acme", job_id)]
    deps.policy = KeepsClosedJobsClosed()
    await receive(deps, FinalPaymentReversed(job_id=job_id, balance=Decimal("1.00"), reason="x"))
    assert store.jobs[("acme", job_id)] == closed
    assert store.audit[-1]["detail"]["kept_closed_by"] == ["closed-stays-closed"]


async def test_billing_events_for_unknown_jobs_are_ignored() -> None:
    deps, store, policy = fake_deps(NOW)
    for event in (
        paid("nope"),
        settled("nope"),
        FinalPaymentReversed(job_id="nope", balance=Decimal("1.00"), reason="x"),
    ):
        await receive(deps, event)
    assert store.jobs == {} and store.events == [] and policy.log == []
