"""The jobs service's consumers on the real servers: billing's final payment reaches the job; an
Invoiced job is Closed on the balance received and the costs settled, and goes back to Invoiced
when its final payment is reversed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.jobs import app as jobs_app
from services.jobs.domain import Job, Milestone, ProductionStatus
from services.jobs.domain.commands import CreateLead
from services.jobs.domain.values import Address, Customer, LineItem
from services.jobs.handlers import pipeline, queries
from services.jobs.ports import JobsDeps
from shared.contracts.base import EventData
from shared.contracts.billing import FinalPaymentReceived, FinalPaymentReversed, JobCostsSettled
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import OutgoingEvent, encode_event
from shared.platform.service import Service
from shared.platform.settings import Settings
from tests.support.harness import (
    create_topics,
    decode,
    eventually,
    raw_producer,
    read_topic,
    running,
    send_envelope,
    settings_for,
)

SAM = Caller(user_id="sam", tenant_id="acme", roles=frozenset({"sales"}))


@pytest.fixture(scope="module")
def settings(namespace: str, database_url: str, bootstrap_servers: str) -> Settings:
    return settings_for("jobs", namespace, database_url, bootstrap_servers)


@pytest.fixture(scope="module")
async def jobs(settings: Settings) -> AsyncIterator[Service[JobsDeps]]:
    await create_topics(settings, "jobs", "billing", "messaging", "commissions", "tickets")
    service = jobs_app.build(settings)
    async with running(service.platform):
        yield service


async def test_the_final_payment_is_recorded_on_the_job(
    jobs: Service[JobsDeps], settings: Settings
) -> None:
    deps = jobs.deps
    job = await pipeline.create_lead(
        deps,
        SAM,
        CreateLead(customer=Customer(name="Rita"), address=Address(line="8 Quarry Rd")),
    )
    payment = encode_event(
        FinalPaymentReceived(
            job_id=job.job_id, amount=Decimal("100.00"), received_on=date(2026, 12, 1)
        ),
        source="billing",
        subject=job.job_id,
        tenant_id="acme",
        max_bytes=settings.max_message_bytes,
    )
    async with raw_producer(settings.kafka_bootstrap_servers) as producer:
        await send_envelope(producer, settings.topic("billing"), payment)

    async def paid() -> bool:
        found, _ = await queries.get_job(deps, SAM, job.job_id)
        return found.final_payment_received_at is not None

    await eventually(paid, what="the final payment on the job")


def invoiced_job(at: datetime) -> Job:
    """A job sold, its work complete, invoiced: as the office and billing would have left it."""
    job, _ = Job.create_lead(
        tenant_id="acme",
        customer=Customer(name="Lou"),
        address=Address(line="3 Mill Ln"),
        by="sam",
        at=at,
        sales_rep_id="sam",
    )
    job.add_line_item(LineItem(description="Roof", unit_price=Decimal("9800.00")))
    job.move_milestone(Milestone.APPROVED, by="ann", at=at, job_number=f"T-{job.job_id[:8]}")
    job.hand_off(by="ann", at=at, schedule_by=None)
    job.schedule(start_date=date(2026, 12, 1), duration_days=1, by="pat", at=at)
    job.start_work(by="ivan", at=at)
    job.complete_production(by="ann", at=at)
    job.move_milestone(Milestone.COMPLETED, by="ann", at=at)
    job.receive_invoice_sent("INV-T-1", at=at)
    return job


async def test_billing_closes_an_invoiced_job_and_a_reversal_reopens_it(
    jobs: Service[JobsDeps], settings: Settings
) -> None:
    deps = jobs.deps
    job = invoiced_job(datetime.now(UTC))
    async with deps.unit_of_work("acme") as uow:
        await uow.repos.jobs.add(job)
        await uow.commit()
    job_id = job.job_id

    def envelope(data: EventData) -> OutgoingEvent:
        return encode_event(
            data,
            source="billing",
            subject=job_id,
            tenant_id="acme",
            max_bytes=settings.max_message_bytes,
        )

    async def publish(*events: OutgoingEvent) -> None:
        async with raw_producer(settings.kafka_bootstrap_servers) as producer:
            for event in events:
                await send_envelope(producer, settings.topic("billing"), event)

    async def state() -> tuple[Milestone, ProductionStatus | None, bool]:
        found, _ = await queries.get_job(deps, SAM, job_id)
        return found.milestone, found.production_status, found.billing.costs_settled

    await publish(
        envelope(
            FinalPaymentReceived(
                job_id=job_id, amount=Decimal("9800.00"), received_on=date(2026, 12, 9)
            )
        ),
        envelope(JobCostsSettled(job_id=job_id, settled=True, total_costs=Decimal("5100.00"))),
    )

    async def closed() -> bool:
        return (await state())[:2] == (Milestone.CLOSED, ProductionStatus.RELEASED)

    await eventually(closed, what="the job closed on billing's facts")

    reversal = envelope(
        FinalPaymentReversed(job_id=job_id, balance=Decimal("9800.00"), reason="check returned")
    )
    await publish(reversal)

    async def reopened() -> bool:
        return (await state())[:2] == (Milestone.INVOICED, ProductionStatus.COMPLETE)

    await eventually(reopened, what="the job back to Invoiced")

    # The same reversal redelivered, and a second reversal of a job no longer released: neither
    # changes anything. A later fact shows both were handled before it.
    await publish(
        reversal,
        envelope(FinalPaymentReversed(job_id=job_id, balance=Decimal("9800.00"), reason="again")),
        envelope(JobCostsSettled(job_id=job_id, settled=False, total_costs=Decimal("5400.00"))),
    )

    async def unsettled() -> bool:
        return (await state())[2] is False

    await eventually(unsettled, what="the costs no longer settled")
    assert (await state())[:2] == (Milestone.INVOICED, ProductionStatus.COMPLETE)
    trail = await queries.audit_trail(deps, SAM, job_id)
    assert [row["action"] for row in trail if row["actor"] == "billing"] == [
        "receive_final_payment",
        "receive_costs_settled",
        "receive_final_payment_reversed",
        "receive_costs_settled",
    ]
    reversed_row = trail[-2]
    assert reversed_row["reason"] == "check returned"

    # Jobs published the moves, keyed by the job, in order.
    async def moves() -> list[tuple[str, str, str | None]]:
        records = await read_topic(settings.kafka_bootstrap_servers, settings.topic("jobs"))
        return [
            (e["data"]["from_milestone"], e["data"]["to_milestone"], e["data"]["reason"])
            for e in map(decode, records)
            if e["subject"] == job_id and e["type"] == "jobs.milestone_changed.v1"
        ]

    async def both_moves() -> list[tuple[str, str, str | None]] | None:
        found = await moves()
        return found if len(found) == 2 else None

    assert await eventually(both_moves, what="the two moves on the jobs topic") == [
        ("invoiced", "closed", "balance received and all expenses entered and paid"),
        ("closed", "invoiced", "final payment reversed: check returned"),
    ]
