"""The jobs service's consumers on the real servers: billing's final payment reaches the job."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest

from services.jobs import app as jobs_app
from services.jobs.domain.commands import CreateLead
from services.jobs.domain.values import Address, Customer
from services.jobs.handlers import pipeline, queries
from services.jobs.ports import JobsDeps
from shared.contracts.billing import FinalPaymentReceived
from shared.platform.http.auth import Caller
from shared.platform.messaging.envelope import encode_event
from shared.platform.service import Service
from shared.platform.settings import Settings
from tests.support.harness import (
    create_topics,
    eventually,
    raw_producer,
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
