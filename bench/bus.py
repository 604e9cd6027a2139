"""Message bus benchmark: the floor, the platform on top of it, the relay, and latency.

    make bench            # or: python -m bench.bus --events 20000 --rate 200 --seconds 15

(a) floor: raw aiokafka consume + one asyncpg transaction per batch inserting into an inbox and an
    outbox table (a service's own table definitions); (b) platform: the same number of events
    through a consumer built on shared/ (FastStream batch subscriber, envelope parsing and
    validation, inbox, a projection write, outbox). Prints events/s for both and
    ``platform/floor ratio: X`` on a line of its own. (c) the relay's publish rate against its
    floor, the same outbox rows read, sent with a plain aiokafka producer (same settings) and
    marked sent, ``relay/produce floor ratio: X``; (d) command -> consumed latency at a steady
    command rate.

Uses the embedded servers unless ROOFLINE_TEST_DATABASE_URL / ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS
name others. Numbers, not assertions: nothing here fails on a slow machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from shared.cli.embedded import EmbeddedBroker, EmbeddedPostgres
from shared.platform.messaging.broker import create_producer, ensure_topics
from shared.platform.messaging.relay import KafkaPublisher, OutboxRelay
from shared.platform.service import ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.db import (
    asyncpg_dsn,
    create_engine,
    create_schema,
    drop_schema,
    inbox_table,
    outbox_table,
)
from tests.support.harness import produce_increments
from tests.support.tally import (
    Incremented,
    apply_increments,
    increment,
    tally_platform,
    view_metadata,
)

COUNTERS = 50
BATCH = 500


def say(message: str) -> None:
    print(message, flush=True)


@contextlib.asynccontextmanager
async def servers() -> AsyncIterator[tuple[str, str]]:
    database_url = os.environ.get("ROOFLINE_TEST_DATABASE_URL")
    bootstrap = os.environ.get("ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS")
    with tempfile.TemporaryDirectory(prefix="roofline-bench-") as tmp:
        postgres = broker = None
        if not database_url:
            postgres = EmbeddedPostgres(Path(tmp) / "pg", durable=False).start()
            database_url = postgres.url()
        if not bootstrap:
            broker = EmbeddedBroker().start()
            bootstrap = broker.bootstrap_servers
        try:
            yield database_url, bootstrap
        finally:
            if broker:
                broker.stop()
            if postgres:
                postgres.stop("immediate")


def bench_settings(service: str, ns: str, database_url: str, bootstrap: str) -> Settings:
    # On the embedded broker, services run as `roofline up` runs them (a short fetch wait).
    embedded = not os.environ.get("ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS")
    fetch_wait = {"consumer_fetch_max_wait_ms": EmbeddedBroker.CONSUMER_FETCH_MAX_WAIT_MS}
    return load_settings(
        service,
        **(fetch_wait if embedded else {}),
        database_url=database_url,
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=ns,
        db_schema=f"{ns}_{service}",
        kafka_enable_idempotence=False,  # the embedded broker rejects it
        consumer_max_records=BATCH,
        relay_batch_size=BATCH,
    )


async def produce(bootstrap: str, topic: str, count: int) -> None:
    await produce_increments(bootstrap, topic, COUNTERS, count // COUNTERS)


# -- (a) the floor --------------------------------------------------------------------------------

# The very inbox and outbox tables a service has (same columns, keys and indexes), so the ratio
# measures the platform's code, not the richness of its rows.
floor_metadata = sa.MetaData()
inbox_table(floor_metadata)
outbox_table(floor_metadata)

FLOOR_INBOX = (
    'INSERT INTO {s}.inbox (consumer, event_id, event_type, tenant_id, topic, partition, "offset") '
    "SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], "
    "$7::bigint[]) ON CONFLICT DO NOTHING"
)
FLOOR_OUTBOX = (
    "INSERT INTO {s}.outbox (event_id, topic, key, event_type, tenant_id, payload) "
    "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])"
)


async def floor(database_url: str, bootstrap: str, ns: str, count: int) -> float:
    topic = f"{ns}.floor"
    settings = bench_settings("floor", ns, database_url, bootstrap)
    schema = settings.schema_name
    await ensure_topics(bootstrap, [topic], 6)
    await produce(bootstrap, topic, count)
    engine = create_engine(settings)
    await create_schema(engine, schema, floor_metadata)
    await engine.dispose()
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    inbox, outbox = FLOOR_INBOX.format(s=schema), FLOOR_OUTBOX.format(s=schema)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"{ns}.floor",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
        # The platform's consumer's fetch wait: on the embedded broker it decides how long an
        # idle fetch holds the consumer, so a floor with aiokafka's default (500 ms) is not one.
        fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
    )
    await consumer.start()
    done, started = 0, None
    try:
        while done < count:
            batch = await consumer.getmany(timeout_ms=200, max_records=BATCH)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                continue
            started = started or time.perf_counter()
            headers = [dict(r.headers) for r in records]
            ids = [uuid.UUID(h["ce_id"].decode()) for h in headers]
            types = [h["ce_type"].decode() for h in headers]
            tenants = [h["ce_tenant_id"].decode() for h in headers]
            async with connection.transaction():
                await connection.execute(
                    inbox,
                    "floor",
                    ids,
                    types,
                    tenants,
                    [r.topic for r in records],
                    [r.partition for r in records],
                    [r.offset for r in records],
                )
                await connection.execute(
                    outbox,
                    ids,
                    [f"{ns}.out"] * len(records),
                    [r.key.decode() for r in records],
                    types,
                    tenants,
                    [r.value for r in records],
                )
            await consumer.commit()
            done += len(records)
        elapsed = time.perf_counter() - (started or time.perf_counter())
    finally:
        await consumer.stop()
        await connection.execute(f"DROP SCHEMA {schema} CASCADE")
        await connection.close()
    return count / elapsed


# -- (b) the platform -----------------------------------------------------------------------------


def timed_view(
    settings: Settings, topic: str, marks: dict[str, Any], *, latencies: bool = False
) -> ServicePlatform:
    """The tally projection, wrapped to note when work starts (and, for the latency run, to
    collect each event's age when it is applied)."""
    platform = ServicePlatform(settings, view_metadata)

    @platform.consumer.on_batch(Incremented)
    async def apply(uow, events):
        marks.setdefault("started", time.perf_counter())
        if latencies:
            now = datetime.now(UTC)
            marks["latencies"].extend(
                (now - envelope.time).total_seconds() for envelope, _ in events
            )
        await apply_increments(uow, events)

    platform.consumer.subscribe(platform.broker, topic)
    return platform


async def applied_count(platform: ServicePlatform) -> float:
    """Events applied so far. Collects that one counter, not the whole registry: the bench
    polls this every 20 ms in the platform's process, and a whole collection (FastStream's
    histograms included) took about 5% of the process's CPU time during a run."""
    return sum(
        sample.value
        for family in platform.metrics.events_applied.collect()
        for sample in family.samples
        if sample.name == "roofline_events_applied_total"
    )


async def wait_applied(platform: ServicePlatform, count: int, timeout: float = 600) -> None:
    deadline = time.perf_counter() + timeout
    while await applied_count(platform) < count:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {await applied_count(platform):.0f} of {count} applied")
        await asyncio.sleep(0.02)


async def platform_rate(database_url: str, bootstrap: str, ns: str, count: int) -> float:
    settings = bench_settings("tallyview", ns, database_url, bootstrap)
    source = f"{ns}.platform"
    await ensure_topics(bootstrap, [source, f"{source}.dlq", settings.own_topic], 6)
    await produce(bootstrap, source, count)
    marks: dict[str, Any] = {}
    view = timed_view(settings, source, marks)
    await create_schema(view.engine, settings.schema_name, view.metadata)
    await view.start(relay=False)  # like the floor: write the outbox, do not publish it
    try:
        await wait_applied(view, count)
        return count / (time.perf_counter() - marks["started"])
    finally:
        await view.stop()
        await _drop(settings)


# -- relay and latency ----------------------------------------------------------------------------


async def fill_outbox(settings: Settings, count: int) -> tuple[ServicePlatform, dict[Any, Any]]:
    """``count`` unsent outbox rows, recorded as the tally service records them; and each
    event's Kafka headers, by event id, as the relay sends them (for the produce floor)."""
    await ensure_topics(settings.kafka_bootstrap_servers, [settings.own_topic], 6)
    producer = tally_platform(settings)
    await create_schema(producer.engine, settings.schema_name, producer.metadata)
    headers = {}
    for start in range(0, count, BATCH):
        async with producer.uow_factory() as uow:
            for i in range(start, min(start + BATCH, count)):
                event = uow.record(
                    Incremented(counter_id=f"c{i % COUNTERS}", amount=1, seq=i),
                    subject=f"c{i % COUNTERS}",
                    tenant_id="bench",
                )
                headers[event.id] = [(k, v.encode()) for k, v in event.headers().items()]
            await uow.commit()
    return producer, headers


async def relay_rate(database_url: str, bootstrap: str, ns: str, count: int) -> float:
    settings = bench_settings("tally", f"{ns}r", database_url, bootstrap)
    producer, _ = await fill_outbox(settings, count)
    publisher = KafkaPublisher(settings)  # as a service's platform runs it
    await publisher.start()
    relay = OutboxRelay(settings, publisher, producer.metrics)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    try:
        while (
            producer.metrics.registry.get_sample_value("roofline_outbox_published_total") or 0
        ) < count:
            await asyncio.sleep(0.01)
        return count / (time.perf_counter() - started)
    finally:
        relay.stop()
        await task
        await publisher.stop()
        await producer.engine.dispose()
        await _drop(settings)


async def produce_floor(database_url: str, bootstrap: str, ns: str, count: int) -> float:
    """The relay's floor: the same outbox rows read, published with a plain AIOKafkaProducer
    (the producer settings every service producer has: acks, linger, batch, request size) and
    marked sent, batch by batch, with the Kafka headers built before the clock starts. Its
    database connection is opened on the clock, like the relay's."""
    settings = bench_settings("tally", f"{ns}rf", database_url, bootstrap)
    platform, headers = await fill_outbox(settings, count)
    await platform.engine.dispose()
    producer = create_producer(settings)
    await producer.start()
    started = time.perf_counter()
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    select = (
        f'SELECT id, event_id, topic, key, payload FROM "{settings.schema_name}".outbox '
        "WHERE sent_at IS NULL ORDER BY id LIMIT $1"
    )
    schema = settings.schema_name
    mark = f'UPDATE "{schema}".outbox SET sent_at = now() WHERE id = ANY($1::bigint[])'
    try:
        done = 0
        while done < count:
            rows = await connection.fetch(select, settings.relay_batch_size)
            acks = [
                await producer.send(
                    topic, bytes(payload), key=key.encode(), headers=headers[event_id]
                )
                for _, event_id, topic, key, payload in rows
            ]
            await asyncio.gather(*acks)
            await connection.execute(mark, [row[0] for row in rows])
            done += len(rows)
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()
        await connection.close()
        await _drop(settings)


async def latency(
    database_url: str, bootstrap: str, ns: str, rate: int, seconds: float
) -> tuple[float, float, int]:
    producer_settings = bench_settings("tally", f"{ns}l", database_url, bootstrap)
    view_settings = bench_settings("tallyview", f"{ns}l", database_url, bootstrap)
    await ensure_topics(
        bootstrap,
        [
            producer_settings.own_topic,
            view_settings.own_topic,
            f"{producer_settings.own_topic}.dlq",
        ],
        6,
    )
    producer = tally_platform(producer_settings)
    marks: dict[str, Any] = {"latencies": []}
    view = timed_view(view_settings, producer_settings.own_topic, marks, latencies=True)
    await create_schema(producer.engine, producer_settings.schema_name, producer.metadata)
    await create_schema(view.engine, view_settings.schema_name, view.metadata)
    await producer.start()
    await view.start()
    try:
        # Warm up until the consumer group is joined and one event made the whole trip.
        await increment(producer.uow_factory, "bench", "warmup", 1)
        await wait_applied(view, 1, timeout=120)
        marks["latencies"] = []
        total = int(rate * seconds)
        loop = asyncio.get_running_loop()
        begin = loop.time()
        pending = set()
        for n in range(total):
            await asyncio.sleep(max(0.0, begin + n / rate - loop.time()))
            task = asyncio.create_task(
                increment(producer.uow_factory, "bench", f"c{n % COUNTERS}", 1)
            )
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        await wait_applied(view, total + 1, timeout=120)
        samples = sorted(marks["latencies"])
        p50 = statistics.median(samples)
        p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
        return p50 * 1000, p99 * 1000, len(samples)
    finally:
        await view.stop()
        await producer.stop()
        await _drop(producer_settings)
        await _drop(view_settings)


async def _drop(settings: Settings) -> None:
    engine = create_engine(settings)
    await drop_schema(engine, settings.schema_name)
    await engine.dispose()


async def main(events: int, rate: int, seconds: float, rounds: int) -> None:
    ns = f"bench{uuid.uuid4().hex[:6]}"
    async with servers() as (database_url, bootstrap):
        say(
            f"events: {events} on 6 partitions, batches of up to {BATCH}, {os.cpu_count()} cores; "
            f"{rounds} platform runs, each between two floor runs; medians, and the median of the "
            "rounds' ratios (platform / geometric mean of the floors either side)"
        )
        # Floor, platform, floor, platform, ..., floor: each platform run is compared with the
        # floor runs either side of it, so a drift in the machine's speed (this VM's runs swing
        # twofold within a minute) cancels instead of landing on one side of the ratio.
        floors = [await floor(database_url, bootstrap, f"{ns}f0", events)]
        platforms, ratios = [], []
        for n in range(rounds):
            platforms.append(await platform_rate(database_url, bootstrap, f"{ns}p{n}", events))
            floors.append(await floor(database_url, bootstrap, f"{ns}f{n + 1}", events))
            around = statistics.geometric_mean(floors[-2:])
            ratios.append(platforms[-1] / around)
            say(
                f"  round {n + 1}: floor {floors[-2]:,.0f}/s, platform {platforms[-1]:,.0f}/s, "
                f"floor {floors[-1]:,.0f}/s, ratio {ratios[-1]:.2f}"
            )
        floor_rate, platform = statistics.median(floors), statistics.median(platforms)
        ratio = statistics.median(ratios)
        say(f"floor (aiokafka + asyncpg, inbox + outbox):          {floor_rate:9,.0f} events/s")
        say(f"platform (shared/: envelope, inbox, projection, outbox): {platform:7,.0f} events/s")
        say(f"platform/floor ratio: {ratio:.2f}")
        # The relay the same way: each relay run between two produce-floor runs.
        produce_floors = [await produce_floor(database_url, bootstrap, f"{ns}g0", events)]
        relays, relay_ratios = [], []
        for n in range(rounds):
            relays.append(await relay_rate(database_url, bootstrap, f"{ns}r{n}", events))
            produce_floors.append(
                await produce_floor(database_url, bootstrap, f"{ns}g{n + 1}", events)
            )
            relay_ratios.append(relays[-1] / statistics.geometric_mean(produce_floors[-2:]))
            say(
                f"  relay round {n + 1}: floor {produce_floors[-2]:,.0f}/s, relay "
                f"{relays[-1]:,.0f}/s, floor {produce_floors[-1]:,.0f}/s, "
                f"ratio {relay_ratios[-1]:.2f}"
            )
        pfloor, relay = statistics.median(produce_floors), statistics.median(relays)
        say(f"produce floor (asyncpg + aiokafka producer):       {pfloor:9,.0f} events/s")
        say(f"relay publish rate:                                 {relay:9,.0f} events/s")
        say(f"relay/produce floor ratio: {statistics.median(relay_ratios):.2f}")
        p50, p99, n = await latency(database_url, bootstrap, ns, rate, seconds)
        say(
            f"command->consumed latency at {rate} commands/s ({n} commands): "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=200, help="commands per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="latency run length")
    parser.add_argument("--rounds", type=int, default=5, help="floor/platform repetitions")
    args = parser.parse_args()
    asyncio.run(main(args.events, args.rate, args.seconds, args.rounds))
