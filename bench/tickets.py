"""Tickets benchmark: the service catching up on jobs' events, and a year of weekly visits.

    make bench-tickets    # or: python -m bench.tickets --events 100000 --plans 1000

(a) catch-up: jobs' events (a third each leads, sales and crews assigned, for one job in three)
    are produced to the jobs topic; then a new tickets instance, built by its own composition
    root, consumes them from the beginning into its projections (what it keeps of jobs, the
    crews' members, its answer to each lead in its outbox). Printed: events/s from its first
    event applied to its last (the group join left out), beside the platform pipeline figure of
    ``bench.bus`` measured in the same run on the same servers, and ``catch-up/platform ratio``.
(b) plans: that many weekly plans, active, their visits generated for a year (52 a plan) the way
    the service clock keeps the horizon filled, a round a week (``fill_plans``: the plans
    locked, the visits put on the technician's calendar, the events recorded): seconds, and
    visits/s.

Uses the embedded servers unless ROOFLINE_TEST_DATABASE_URL / ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS
name others. Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from aiokafka import AIOKafkaProducer

from bench.bus import Bus, applied_count, platform_rate, postgres, say, tansu
from services.tickets import app as tickets_app
from services.tickets.domain import Customer
from services.tickets.domain.plans import HORIZON_WEEKS, MaintenancePlan
from services.tickets.handlers import plans
from shared.contracts.base import EventData
from shared.contracts.jobs import CrewAssigned, CustomerContact, JobSold, LeadCreated
from shared.platform.messaging.envelope import encode_event
from shared.platform.settings import Settings
from shared.platform.storage.db import create_schema, drop_schema
from tests.support.harness import kafka_headers

TENANT = "bench"
FIRST_VISIT = date(2027, 1, 6)  # a Wednesday


def job_events(job: int) -> list[EventData]:
    """What jobs publishes for one job: its lead, its sale, its crew."""
    job_id = f"job-{job}"
    contact = CustomerContact(name=f"Customer {job}", property_address=f"{job} Elm St")
    return [
        LeadCreated(
            job_id=job_id,
            customer_name=contact.name,
            property_address=contact.property_address,
            salesman_id="sam",
        ),
        JobSold(
            job_id=job_id,
            job_number=f"2026-{job:05d}",
            sold_on=date(2026, 6, 1),
            sales_rep_id="sam",
            contract_price=Decimal("12000.00"),
            sale_price=None,
            customer=contact,
            trades=["roofing"],
            line_items=[],
        ),
        CrewAssigned(
            job_id=job_id,
            crew_id=f"crew-{job % 20}",
            crew_name=f"Crew {job % 20}",
            member_ids=[f"installer-{job % 20}"],
            days=[date(2026, 6, 10)],
            customer=contact,
        ),
    ]


async def produce_job_events(bus: Bus, topic: str, jobs: int, settings: Settings) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bus.bootstrap, acks="all", linger_ms=5)
    await producer.start()
    sent = 0
    try:
        for job in range(jobs):
            for sequence, data in enumerate(job_events(job), start=1):
                event = encode_event(
                    data,
                    source="jobs",
                    subject=f"job-{job}",
                    tenant_id=TENANT,
                    sequence=sequence,
                    max_bytes=settings.max_message_bytes,
                )
                await producer.send(
                    topic, event.body, key=event.subject.encode(), headers=kafka_headers(event)
                )
                sent += 1
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def catch_up(bus: Bus, ns: str, events: int) -> float:
    settings = bus.settings("tickets", ns)
    jobs_topic = settings.topic("jobs")
    await bus.topics(
        jobs_topic, f"{jobs_topic}.dlq", settings.own_topic, f"{settings.own_topic}.dlq"
    )
    sent = await produce_job_events(bus, jobs_topic, events // 3, settings)
    service = tickets_app.build(settings)
    platform = service.platform
    await create_schema(platform.engine, settings.schema_name, platform.metadata)
    await platform.start(relay=False)  # as the platform figure: write the outbox, not publish
    try:
        while (first := await applied_count(platform)) == 0:
            await asyncio.sleep(0.005)
        began = time.perf_counter()
        while await applied_count(platform) < sent:
            await asyncio.sleep(0.02)
        return (sent - first) / (time.perf_counter() - began)
    finally:
        await platform.stop()
        await drop_schema(platform.engine, settings.schema_name)
        await platform.engine.dispose()


async def year_of_visits(bus: Bus, ns: str, count: int) -> tuple[float, int]:
    """Seconds to generate a year of visits for ``count`` active plans, and how many."""
    settings = bus.settings("tickets", f"{ns}p")
    service = tickets_app.build(settings)
    deps, platform = service.deps, service.platform
    await create_schema(platform.engine, settings.schema_name, platform.metadata)
    try:
        async with deps.unit_of_work(TENANT) as uow:
            for n in range(count):
                plan, _ = MaintenancePlan.propose(
                    tenant_id=TENANT,
                    plan_id=str(uuid.uuid4()),
                    customer=Customer(name=f"Customer {n}", property_address=f"{n} Oak Ave"),
                    job_id=None,
                    weekday=FIRST_VISIT.weekday(),
                    technician_id=f"tech-{n % 25}",
                    monthly_price=Decimal("120.00"),
                    first_visit=FIRST_VISIT,
                    tracking_ticket_id=f"tracking-{n}",
                    tech_ticket_id=f"tech-{n}",
                    by="bench",
                )
                # Approved long before: active, nothing generated past the first visit yet.
                plan.approve(
                    today=FIRST_VISIT - timedelta(weeks=60),
                    by="bench",
                    at=datetime(2025, 1, 1, tzinfo=UTC),
                )
                await uow.repos.plans.add(plan)
            await uow.commit()
        # The clock's rounds, a week apart, from the first visit until a year of visits is out:
        # the horizon at first, then a week more each round.
        began, visits = time.perf_counter(), 0
        for week in range(52 - HORIZON_WEEKS + 1):
            today = FIRST_VISIT + timedelta(weeks=week)
            while added := await plans.fill_plans(deps, TENANT, today):
                visits += added
        return time.perf_counter() - began, visits
    finally:
        await drop_schema(platform.engine, settings.schema_name)
        await platform.engine.dispose()


async def main(events: int, plan_count: int, rounds: int) -> None:
    ns = f"benchtk{uuid.uuid4().hex[:6]}"
    with (
        tempfile.TemporaryDirectory(prefix="roofline-bench-") as tmp,
        postgres(Path(tmp)) as db,
        tansu(db) as bus,
    ):
        say(f"catch-up: {events} jobs events, {rounds} round(s), each after a platform run")
        ratios, rates, pipeline = [], [], []
        for n in range(rounds):
            platform = await platform_rate(bus, f"{ns}pl{n}", events)
            rate = await catch_up(bus, f"{ns}c{n}", events)
            say(
                f"  round {n + 1}: platform {platform:,.0f}/s, tickets catch-up {rate:,.0f}/s, "
                f"ratio {rate / platform:.2f}"
            )
            rates.append(rate)
            pipeline.append(platform)
            ratios.append(rate / platform)
        say(f"platform pipeline (bench.bus):        {statistics.median(pipeline):,.0f} events/s")
        say(f"tickets catching up on jobs' events:  {statistics.median(rates):,.0f} events/s")
        say(f"catch-up/platform ratio: {statistics.median(ratios):.2f}")
        seconds, visits = await year_of_visits(bus, ns, plan_count)
        say(
            f"a year of visits for {plan_count} weekly plans: {visits} visits in "
            f"{seconds:.1f} s ({visits / seconds:,.0f} visits/s)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.plans, args.rounds))
