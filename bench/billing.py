"""Billing benchmark: the service catching up on jobs' and tickets' events, and a job's balance
under load beside a bare floor.

    make bench-billing    # or: python -m bench.billing --events 100000 --records 1000 \
                          #       --requests 3000 --concurrency 10

(a) catch-up: for one job after another, what jobs publishes that billing keeps (the lead, the
    sale with two line items, the signed contract, a change order, a line item completed, the
    milestone moved to completed) and, for every other job, tickets' complaint opened and
    resolved, ``--events`` in all (the job's events keyed by job, the ticket's by ticket, as the
    services publish them). Jobs' events are produced to the jobs topic and a new billing
    instance, built by its own composition root, consumes them from the beginning into its
    projections (finance folders, money records and timeline, its answers in its outbox); then
    tickets' events are produced and consumed (the collections policy's decisions on them):
    consumed together from the beginning, the tickets topic may come first and find no folders,
    where live a complaint is about a job billing knows. Each part is timed from its first event
    applied to its last (the group join and the producer left out). Printed: events/s over both,
    each part's, beside the platform pipeline figure of ``bench.bus`` measured in the same run on
    the same servers, ``catch-up/platform ratio``, and what the projections hold after it.
(b) balance under load: one job with ``--records`` money records (payments, refunds, change
    orders, concessions) and ``--other-jobs`` jobs of 10 records around it, kept through the
    service's repositories, then ANALYZEd. The real service (its composition root under uvicorn
    in a process of its own, as ``roofline up`` serves it: consumer, relay and background loops
    running) answers ``GET /jobs/{job_id}/balance``; a bare app (FastAPI and an asyncpg pool in
    another uvicorn process: no SQLAlchemy, no auth, no middleware) runs ``select kind, amount
    from money_records where tenant_id=$1 and job_id=$2`` and sums the same rows in Python.
    ``--concurrency`` httpx clients send ``--requests`` requests a side in ``--rounds``
    alternating rounds (``/health/live`` against ``/ping`` gives the HTTP floor). Printed: p50
    and p99 ms, requests/s, ``roofline/bare`` ratios and the servers' CPU a request; before it,
    the round trips one balance read makes and its time in this process beside the bare query's.

Uses embedded PostgreSQL and Tansu unless ROOFLINE_TEST_DATABASE_URL /
ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS name others. Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from bench.bus import Bus, applied_count, platform_rate, postgres, say, table, tansu
from bench.messaging import (
    Request,
    Sample,
    cores_line,
    drive,
    service_and_bare,
    stats_line,
    trip,
)
from services.billing import app as billing_app
from services.billing.domain import Folder, MoneyRecord
from services.billing.domain.ledger import EFFECT
from services.billing.handlers import folders
from services.billing.ports import BillingDeps
from shared.contracts.base import EventData
from shared.contracts.jobs import (
    ChangeOrderAdded,
    ContractSigned,
    CustomerContact,
    JobSold,
    LeadCreated,
    LineItemData,
    LineItemsChanged,
    MilestoneChanged,
)
from shared.contracts.tickets import IssueOpened, IssueResolved, TicketCustomer
from shared.platform.http.auth import mint_token
from shared.platform.messaging.broker import all_topics
from shared.platform.messaging.envelope import encode_event
from shared.platform.service import Service, ServicePlatform, tune_garbage_collector
from shared.platform.settings import Settings
from shared.platform.storage.db import asyncpg_dsn, create_schema, drop_schema
from tests.support.harness import kafka_headers

TENANT = "bench"
SERVICES = ("jobs", "tickets", "messaging", "billing")  # billing's topics and its own
SOLD_ON = date(2026, 6, 1)
JOB_ID = "job-balance"  # the job whose balance is read under load
CONTRACT = Decimal("250000.00")
# The money records on that job: how often each kind comes up.
KINDS = {"payment": 45, "change_order": 25, "concession": 15, "refund": 15}


# -- (a) catch-up ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Produced:
    source: str  # the publishing service, whose topic it goes to
    subject: str  # its key: the aggregate id
    sequence: int
    data: EventData


def line_items(job: int, *, completed: bool) -> list[LineItemData]:
    return [
        LineItemData(
            line_item_id=f"li-{job}-1",
            description="Tear-off and architectural shingles, 30 squares",
            quantity=Decimal("30"),
            unit_price=Decimal("350.00"),
            total=Decimal("10500.00"),
            trade="roofing",
            completed=completed,
        ),
        LineItemData(
            line_item_id=f"li-{job}-2",
            description="Seamless gutters, 120 ft",
            quantity=Decimal("120"),
            unit_price=Decimal("12.50"),
            total=Decimal("1500.00"),
            trade="gutters",
            completed=False,
        ),
    ]


def job_events(job: int) -> list[Produced]:
    """What billing hears about one job: jobs' six events, and for every other job tickets'
    complaint opened and resolved."""
    job_id = f"job-{job}"
    price = Decimal("12000.00")
    contact = CustomerContact(
        name=f"Customer {job}",
        email=f"customer{job}@home.example",
        property_address=f"{job} Elm St",
    )
    jobs: list[EventData] = [
        LeadCreated(
            job_id=job_id,
            customer_name=contact.name,
            email=contact.email,
            property_address=contact.property_address,
            salesman_id="sam",
        ),
        JobSold(
            job_id=job_id,
            job_number=f"2026-{job:05d}",
            sold_on=SOLD_ON,
            sales_rep_id="sam",
            contract_price=price,
            sale_price=None,
            customer=contact,
            trades=["roofing", "gutters"],
            line_items=line_items(job, completed=False),
        ),
        ContractSigned(job_id=job_id, signed_on=SOLD_ON, contract_price=price, by="sam"),
        ChangeOrderAdded(
            job_id=job_id,
            change_order_id=f"co-{job}",
            signed_on=SOLD_ON + timedelta(days=5),
            amount=Decimal("750.00"),
            note="snow guards",
            by="sam",
            contract_price=price + Decimal("750.00"),
            adjustment=False,
        ),
        LineItemsChanged(
            job_id=job_id,
            change="completed",
            line_item_id=f"li-{job}-1",
            line_items=line_items(job, completed=True),
        ),
        MilestoneChanged(
            job_id=job_id, from_milestone="approved", to_milestone="completed", by="pat"
        ),
    ]
    produced = [Produced("jobs", job_id, n, data) for n, data in enumerate(jobs, start=1)]
    if job % 2 == 0:
        ticket_id = f"ticket-{job}"
        customer = TicketCustomer(name=contact.name, property_address=contact.property_address)
        issues: list[EventData] = [
            IssueOpened(
                ticket_id=ticket_id,
                kind="complaint",
                job_id=job_id,
                customer=customer,
                note="Drip at the skylight after the rain",
            ),
            IssueResolved(
                ticket_id=ticket_id, kind="complaint", job_id=job_id, resolution="complete"
            ),
        ]
        produced += [Produced("tickets", ticket_id, n, d) for n, d in enumerate(issues, start=1)]
    return produced


def stream(events: int) -> Iterator[Produced]:
    """Jobs one after another until ``events`` are out (the last job's may be cut short)."""
    sent, job = 0, 0
    while True:
        for item in job_events(job):
            if sent == events:
                return
            yield item
            sent += 1
        job += 1


async def produce_events(bus: Bus, settings: Settings, items: list[Produced]) -> int:
    """``items`` to their services' topics; how many."""
    producer = AIOKafkaProducer(bootstrap_servers=bus.bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for item in items:
            event = encode_event(
                item.data,
                source=item.source,
                subject=item.subject,
                tenant_id=TENANT,
                sequence=item.sequence,
                max_bytes=settings.max_message_bytes,
            )
            await producer.send(
                settings.topic(item.source),
                event.body,
                key=event.subject.encode(),
                headers=kafka_headers(event),
            )
        await producer.flush()
    finally:
        await producer.stop()
    return len(items)


async def dead_lettered(platform: ServicePlatform) -> float:
    return sum(
        sample.value
        for family in platform.metrics.dead_letters.collect()
        for sample in family.samples
        if sample.name == "roofline_dlq_messages_total"
    )


async def projections(platform: ServicePlatform) -> dict[str, int]:
    """What billing keeps after the catch-up, by table."""
    counted = (
        "finance_folders",
        "money_records",
        "billing_timeline",
        "policy_decisions",
        "outbox",
        "inbox",
    )
    async with platform.engine.connect() as connection:
        return {
            name: (await connection.execute(sa.text(f"SELECT count(*) FROM {name}"))).scalar_one()
            for name in counted
        }


async def done_count(platform: ServicePlatform) -> float:
    """Events applied or dead-lettered so far."""
    return await applied_count(platform) + await dead_lettered(platform)


async def applying(platform: ServicePlatform, before: float, total: int) -> tuple[float, float]:
    """Once the consumer has gone past ``before`` events, until it is done with ``total``:
    (events applied meanwhile, seconds), from its first event applied to its last (the group
    join and the first fetch left out)."""
    while (first := await done_count(platform)) <= before:
        await asyncio.sleep(0.005)
    began, deadline = time.perf_counter(), time.perf_counter() + 1800
    while (done := await done_count(platform)) < total:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {done:.0f} of {total} events applied or dead-lettered")
        await asyncio.sleep(0.02)
    return total - first, time.perf_counter() - began


@dataclass(frozen=True)
class CatchUp:
    rate: float  # all the events over the time spent applying them
    jobs_rate: float
    tickets_rate: float


async def catch_up(bus: Bus, ns: str, events: int, summary: bool) -> CatchUp:
    """Jobs' events first, then tickets': a complaint is about a job billing knows (consumed
    together from the beginning, the tickets topic may come first and find no folders)."""
    settings = bus.settings("billing", ns)
    await bus.topics(*all_topics(settings, SERVICES))
    items = list(stream(events))
    jobs = await produce_events(bus, settings, [i for i in items if i.source == "jobs"])
    service = billing_app.build(settings)
    platform = service.platform
    await create_schema(platform.engine, settings.schema_name, platform.metadata)
    await platform.start(relay=False)  # as the platform figure: write the outbox, not publish
    try:
        jobs_applied, jobs_seconds = await applying(platform, 0, jobs)
        tickets = await produce_events(bus, settings, [i for i in items if i.source != "jobs"])
        tickets_applied, tickets_seconds = await applying(platform, jobs, jobs + tickets)
        if summary:
            kept = ", ".join(f"{k} {v:,}" for k, v in (await projections(platform)).items())
            dead = await dead_lettered(platform)
            say(f"  billing kept: {kept}; dead-lettered {dead:.0f}")
        return CatchUp(
            rate=(jobs_applied + tickets_applied) / (jobs_seconds + tickets_seconds),
            jobs_rate=jobs_applied / jobs_seconds,
            tickets_rate=tickets_applied / tickets_seconds if tickets_seconds else 0.0,
        )
    finally:
        await platform.stop()
        await drop_schema(platform.engine, settings.schema_name)
        await platform.engine.dispose()


async def catch_up_figures(
    bus: Bus, ns: str, events: int, rounds: int
) -> dict[str, dict[str, str]]:
    jobs = len({item.subject for item in stream(events) if item.source == "jobs"})
    say(
        f"catch-up: {events} events ({jobs} jobs: lead, sale, contract, change order, line item "
        f"completed, completed; a complaint opened and resolved for every other one: jobs' "
        f"events first, then tickets', each timed from the first applied to the last), "
        f"{rounds} round(s), each after a platform run"
    )
    ratios, rates, pipeline = [], [], []
    for n in range(rounds):
        platform = await platform_rate(bus, f"{ns}pl{n}", events)
        caught = await catch_up(bus, f"{ns}c{n}", events, summary=n == 0)
        rate = caught.rate
        say(
            f"  round {n + 1}: platform {platform:,.0f}/s, billing catch-up {rate:,.0f}/s "
            f"(jobs' {caught.jobs_rate:,.0f}/s, tickets' {caught.tickets_rate:,.0f}/s), "
            f"ratio {rate / platform:.2f}"
        )
        rates.append(rate)
        pipeline.append(platform)
        ratios.append(rate / platform)
    rate, platform, ratio = (statistics.median(x) for x in (rates, pipeline, ratios))
    say(f"platform pipeline (bench.bus):                  {platform:,.0f} events/s")
    say(f"billing catching up on jobs' and tickets' events: {rate:,.0f} events/s")
    say(f"catch-up/platform ratio: {ratio:.2f}")
    # In the table's columns: billing's catch-up against the platform pipeline as its floor.
    return {
        "catch-up events/s (bare: platform)": {
            "roofline": f"{rate:,.0f}",
            "bare": f"{platform:,.0f}",
            "ratio": f"{ratio:.2f}",
        }
    }


# -- (b) the seed ---------------------------------------------------------------------------------


def cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randrange(low * 100, high * 100)) / 100


def money_record(n: int, rng: random.Random, at: datetime) -> MoneyRecord:
    kind = rng.choices(list(KINDS), list(KINDS.values()))[0]
    amount = cents(rng, 5, 2000)
    if kind == "change_order" and rng.random() < 0.2:
        amount = -amount  # a credit change order
    return MoneyRecord(
        record_id=f"rec-{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        kind=kind,
        amount=amount,
        on=at.date(),
        description=f"{kind.replace('_', ' ')} {n}",
        method=rng.choice(["check", "card", "ach"]) if kind in ("payment", "refund") else None,
        by="bea",
        recorded_at=at,
    )


async def seed_job(deps: BillingDeps, job_id: str, records: int, rng: random.Random) -> None:
    """The job's folder and its records, in one transaction, through the repositories."""
    opened = datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(minutes=rng.randrange(10_000))
    async with deps.unit_of_work(TENANT) as uow:
        await uow.repos.folders.add(
            Folder(
                job_id=job_id,
                customer_name=f"Customer of {job_id}",
                customer_email=f"{job_id}@home.example",
                contract_price=CONTRACT,
                opened_at=opened,
            )
        )
        for n in range(records):
            at = opened + timedelta(hours=n + 1, seconds=rng.randrange(3600))
            await uow.repos.records.add(money_record(n, rng, at), job_id)
        await uow.commit()


async def seed(service: Service[BillingDeps], records: int, other_jobs: int) -> None:
    rng = random.Random(15)
    began = time.perf_counter()
    for n in range(other_jobs):
        await seed_job(service.deps, f"job-{n:05d}", 10, rng)
    await seed_job(service.deps, JOB_ID, records, rng)
    async with service.platform.engine.begin() as connection:
        await connection.execute(sa.text("ANALYZE money_records, finance_folders"))
    say(
        f"seeded in {time.perf_counter() - began:.1f} s: {JOB_ID} with {records} money records "
        f"({', '.join(f'{k} {v}%' for k, v in KINDS.items())}), {other_jobs} other jobs of 10"
    )


# -- (b) the bare app -----------------------------------------------------------------------------

BALANCE_SQL = "select kind, amount from money_records where tenant_id=$1 and job_id=$2"


def bare_balance(rows: list[Any]) -> dict[str, str]:
    """Each kind's total and what they add to the contract price (the balance less it)."""
    totals = dict.fromkeys(EFFECT, Decimal("0.00"))
    for kind, amount in rows:
        totals[kind] += amount
    net = sum((EFFECT[k] * v for k, v in totals.items()), Decimal("0.00"))
    return {**{k: str(v) for k, v in totals.items()}, "net": str(net)}


def bare_app() -> FastAPI:
    """The floor (served by uvicorn with --factory): FastAPI and an asyncpg pool, the tenant in
    the query string. ``BENCH_DATABASE_URL``, ``BENCH_SCHEMA``, ``BENCH_POOL_SIZE``."""
    dsn, schema = os.environ["BENCH_DATABASE_URL"], os.environ["BENCH_SCHEMA"]
    size = int(os.environ.get("BENCH_POOL_SIZE", "10"))
    pools: list[asyncpg.Pool] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # As many connections as the service's engine may open (pool_size + max_overflow).
        pool = await asyncpg.create_pool(
            dsn, min_size=size, max_size=2 * size, server_settings={"search_path": schema}
        )
        pools.append(pool)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/jobs/{job_id}/balance")
    async def balance(job_id: str, tenant: str) -> dict[str, str]:
        return bare_balance(await pools[0].fetch(BALANCE_SQL, tenant, job_id))

    return app


# -- (b) servers and load -------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    what: str
    roofline: Request
    bare: Request


def same_answer(ours: Mapping[str, str], bare: Mapping[str, str]) -> bool:
    """The service's balance against the bare sums: each kind's total, and the balance less the
    contract price (the bare query reads no folder)."""
    plural = {kind: f"{kind}s" for kind in EFFECT}
    totals = all(Decimal(ours[plural[k]]) == Decimal(bare[k]) for k in EFFECT)
    net = Decimal(ours["balance"]) - Decimal(ours["contract_price"])
    return totals and net == Decimal(bare["net"])


async def round_trips(service: Service[BillingDeps]) -> None:
    """What one balance read sends the database through the service's engine in this process
    (the route adds no query): its statements and the rest (BEGIN, the pool's pre-ping, ...)."""
    engine = service.platform.engine
    others: list[str] = []
    statements: list[str] = []

    def on_connect(dbapi_connection: Any, _: Any) -> None:
        # Logs what is not a prepared statement's execution: BEGIN, COMMIT, ROLLBACK, ";".
        dbapi_connection._connection.add_query_logger(lambda record: others.append(record.query))

    def on_statement(_: Any, __: Any, statement: str, *___: Any) -> None:
        statements.append(statement)

    await engine.dispose()  # the connections from now on log
    sa.event.listen(engine.sync_engine, "connect", on_connect)
    sa.event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    try:
        await folders.read_balance(service.deps, TENANT, JOB_ID)  # a connection, prepared
        await asyncio.sleep(0)
        others.clear()
        statements.clear()
        await folders.read_balance(service.deps, TENANT, JOB_ID)
        await asyncio.sleep(0)
        say(
            f"a balance read: {len(statements) + len(others)} round trips: {len(statements)} "
            f"statements ({', '.join(trip(s) for s in statements)}) and "
            f"{', '.join(trip(q) for q in others)}"
        )
    finally:
        sa.event.remove(engine.sync_engine, "connect", on_connect)
        sa.event.remove(engine.sync_engine, "before_cursor_execute", on_statement)
        await engine.dispose()


async def timed(call: Callable[[], Awaitable[object]], times: int) -> float:
    """Median ms of ``times`` calls, one at a time."""
    await call()
    spent = []
    for _ in range(times):
        began = time.perf_counter()
        await call()
        spent.append(time.perf_counter() - began)
    return statistics.median(spent) * 1000


async def in_process(service: Service[BillingDeps], dsn: str) -> None:
    """A balance read's time in this process, one at a time, split where it can be: the
    handler, its sums read alone, and the bare query with its sums."""
    deps, schema = service.deps, service.platform.settings.schema_name

    async def totals() -> object:
        async with deps.unit_of_work(TENANT) as uow:
            return await uow.repos.records.totals(JOB_ID)

    connection = await asyncpg.connect(dsn, server_settings={"search_path": schema})
    try:
        handler = await timed(lambda: folders.read_balance(deps, TENANT, JOB_ID), 50)
        of_job = await timed(totals, 50)

        async def bare() -> object:
            return bare_balance(await connection.fetch(BALANCE_SQL, TENANT, JOB_ID))

        floor = await timed(bare, 50)
    finally:
        await connection.close()
    say(
        f"a balance read in this process (median of 50, one at a time): the handler "
        f"{handler:.1f} ms; its sums by kind read alone (a unit of work, summed by the "
        f"database) {of_job:.1f} ms; the bare query (every row) and Python's sums {floor:.1f} ms"
    )


async def compare(clients: Mapping[str, httpx.AsyncClient], point: Endpoint) -> None:
    ours = await clients["roofline"].get(point.roofline[0], headers=point.roofline[1])
    bare = await clients["bare"].get(point.bare[0], headers=point.bare[1])
    if ours.status_code != 200 or bare.status_code != 200:
        say(f"the balance answered {ours.status_code} / {bare.status_code}: see the logs")
        return
    answer = ours.json()
    say(
        f"the balance: {answer['balance']} (contract {answer['contract_price']}, payments "
        f"{answer['payments']}); the same on both sides: {same_answer(answer, bare.json())}"
    )


@dataclass(frozen=True)
class Load:
    requests: int
    concurrency: int
    rounds: int


async def under_load(
    clients: Mapping[str, httpx.AsyncClient],
    pids: Mapping[str, int],
    db_pids: Mapping[int, str],
    points: list[Endpoint],
    load: Load,
) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    per_round = max(1, load.requests // load.rounds)
    for point in points:
        say(
            f"{point.what}: {per_round * load.rounds} requests a side in {load.rounds} "
            f"round(s), {load.concurrency} at a time"
        )
        requests = {"roofline": [point.roofline] * per_round, "bare": [point.bare] * per_round}
        for side in ("roofline", "bare"):  # warm-up
            await drive(clients[side], requests[side][:200], load.concurrency)
        samples = {"roofline": Sample(), "bare": Sample()}
        for r in range(load.rounds):
            order = ["roofline", "bare"]
            line = []
            for side in order if r % 2 == 0 else order[::-1]:
                # The idle side is this process's child too: not the client's.
                idle = next(pid for name, pid in pids.items() if name != side)
                kinds = {**db_pids, os.getpid(): "client", pids[side]: "server", idle: "idle side"}
                sample = await drive(clients[side], requests[side], load.concurrency, kinds)
                samples[side].add(sample)
                line.append(f"{side} p50 {sample.percentile(0.5):.1f} ms {sample.rate:,.0f}/s")
            say(f"  round {r + 1}: {', '.join(line)}")
        ours, bare = samples["roofline"], samples["bare"]
        for side, sample in samples.items():
            say(f"  {side:<8} {stats_line(sample)}; {cores_line(sample)}")
        say(
            f"  roofline/bare ratio: p50 {ours.percentile(0.5) / bare.percentile(0.5):.2f}, "
            f"p99 {ours.percentile(0.99) / bare.percentile(0.99):.2f}, "
            f"requests/s {ours.rate / bare.rate:.2f}"
        )
        for label, p in (("p50 ms", 0.5), ("p99 ms", 0.99)):
            rows[f"{point.name} {label}"] = {
                "roofline": f"{ours.percentile(p):.1f}",
                "bare": f"{bare.percentile(p):.1f}",
                "ratio": f"{ours.percentile(p) / bare.percentile(p):.2f}",
            }
        rows[f"{point.name} requests/s"] = {
            "roofline": f"{ours.rate:,.0f}",
            "bare": f"{bare.rate:,.0f}",
            "ratio": f"{ours.rate / bare.rate:.2f}",
        }
        if min(ours.cpu_ms("server"), bare.cpu_ms("server")) >= 0.05:
            rows[f"{point.name} server CPU ms/request"] = {
                "roofline": f"{ours.cpu_ms('server'):.2f}",
                "bare": f"{bare.cpu_ms('server'):.2f}",
                "ratio": f"{ours.cpu_ms('server') / bare.cpu_ms('server'):.2f}",
            }
    return rows


async def balance_figures(
    bus: Bus, ns: str, tmp: Path, records: int, other_jobs: int, load: Load
) -> dict[str, dict[str, str]]:
    settings = bus.settings("billing", ns)
    await bus.topics(*all_topics(settings))
    service = billing_app.build(settings)
    await create_schema(service.platform.engine, settings.schema_name, service.platform.metadata)
    try:
        await seed(service, records, other_jobs)
        await round_trips(service)
        await in_process(service, asyncpg_dsn(bus.database_url))
        token = mint_token(settings, user="bea", tenant=TENANT, roles=["billing"])
        points = [
            Endpoint(
                "balance",
                f"GET /jobs/{{id}}/balance: a job of {records} money records",
                (f"/jobs/{JOB_ID}/balance", {"Authorization": f"Bearer {token}"}),
                (f"/jobs/{JOB_ID}/balance?tenant={TENANT}", {}),
            ),
            Endpoint(
                "no-db",
                "GET /health/live vs /ping: no database, the HTTP floor",
                ("/health/live", {}),
                ("/ping", {}),
            ),
        ]
        # The client's own collections out of the latencies (set up as a service is).
        tune_garbage_collector(settings.gc_gen0_threshold)
        async with service_and_bare(bus, settings, "bench.billing", tmp) as (roofline, bare):
            limits = httpx.Limits(
                max_connections=load.concurrency, max_keepalive_connections=load.concurrency
            )
            async with (
                httpx.AsyncClient(base_url=roofline.url, limits=limits, timeout=60) as ours,
                httpx.AsyncClient(base_url=bare.url, limits=limits, timeout=60) as theirs,
            ):
                clients = {"roofline": ours, "bare": theirs}
                await compare(clients, points[0])
                pids = {"roofline": roofline.process.pid, "bare": bare.process.pid}
                return await under_load(clients, pids, bus.pids, points, load)
    finally:
        await drop_schema(service.platform.engine, settings.schema_name)
        await service.platform.engine.dispose()


# -- the run --------------------------------------------------------------------------------------


async def main(events: int, rounds: int, records: int, other_jobs: int, load: Load) -> None:
    started = time.perf_counter()
    ns = f"benchbl{uuid.uuid4().hex[:6]}"
    with (
        tempfile.TemporaryDirectory(prefix="roofline-bench-") as tmp,
        postgres(Path(tmp)) as db,
        tansu(db) as bus,
    ):
        say(f"{os.cpu_count()} cores")
        caught_up = await catch_up_figures(bus, ns, events, rounds) if events else {}
        rows = await balance_figures(bus, f"{ns}b", Path(tmp), records, other_jobs, load)
        say(
            f"== billing: catch-up on {events} events; the balance of a job of {records} "
            f"records, {load.concurrency} concurrent requests"
        )
        columns: dict[str, dict[str, str]] = {"roofline": {}, "bare": {}, "ratio": {}}
        for figure, values in (caught_up | rows).items():
            for column, value in values.items():
                columns[column][figure] = value
        table(columns)
        say(f"(the whole run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="catch-up events (0: none)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each figure")
    parser.add_argument("--records", type=int, default=1000, help="money records on the job")
    parser.add_argument("--other-jobs", type=int, default=100, help="jobs of 10 records around")
    parser.add_argument(
        "--requests", type=int, default=3000, help="balance requests a side (and no-db ones)"
    )
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight")
    args = parser.parse_args()
    asyncio.run(
        main(
            args.events,
            args.rounds,
            args.records,
            args.other_jobs,
            Load(args.requests, args.concurrency, args.rounds),
        )
    )
