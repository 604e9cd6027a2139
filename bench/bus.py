"""Message bus benchmark: the floor, the platform on top of it, the relay, latency, replicas.

    make bench            # or: python -m bench.bus --events 20000 --rate 200 --seconds 15
    make bench-kafka      # or: python -m bench.bus --broker kafka --replicas 1,2,3

(a) floor: raw aiokafka consume + one asyncpg transaction per batch inserting into an inbox and an
    outbox table (a service's own table definitions); (b) platform: the same number of events
    through a consumer built on shared/ (FastStream batch subscriber, envelope parsing and
    validation, inbox, a projection write, outbox). Prints events/s for both and
    ``platform/floor ratio: X`` on a line of its own. (c) the relay's publish rate against its
    floor, the same outbox rows read, sent with a plain aiokafka producer (same settings) and
    marked sent, ``relay/produce floor ratio: X``; (d) command -> consumed latency at a steady
    command rate; (e) with ``--replicas 1,2,3``: consumer throughput of 1, 2, 3 processes of one
    service in one consumer group (tests/support/view_process.py, each a whole service: consumer
    and relay), paused once the group is stable while the events are produced, timed from their
    resumption to the last event applied, with the machine's CPU over that time split by
    process (replicas, PostgreSQL, broker, bench, other).

``--broker tansu`` (the default) runs on the embedded Tansu broker. ``--broker kafka`` runs the
same figures on Tansu, then on a local 3-broker Apache Kafka cluster (shared/cli/kafka_cluster.py)
with production settings (topics replicated 3 ways, min.insync.replicas 2, acks=all, the
idempotent producer), and prints them side by side; its replica runs default to 1,2,3.

Uses embedded PostgreSQL and Tansu unless ROOFLINE_TEST_DATABASE_URL /
ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS name others. Numbers, not assertions: nothing here fails on
a slow machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from shared.cli.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from shared.cli.kafka_cluster import KafkaCluster
from shared.platform.messaging.broker import all_topics, create_producer, ensure_topics
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
    projection_summary,
    tally_platform,
    view_metadata,
)
from tests.support.view_process import spawn

COUNTERS = 50
BATCH = 500
PARTITIONS = 6
CACHE = Path(__file__).resolve().parents[1] / ".roofline" / "cache"  # the cluster's broker jars


def say(message: str) -> None:
    print(message, flush=True)


@dataclass(frozen=True)
class Bus:
    """A broker the figures run on, and the settings a service has on it."""

    name: str  # the figures' column: "tansu", "kafka-3", "external"
    bootstrap: str
    database_url: str
    overrides: Mapping[str, Any]  # Settings fields services run with on this broker
    replication_factor: int = 1
    min_insync_replicas: int | None = None
    pids: Mapping[int, str] = field(default_factory=dict)  # local servers' processes, by kind
    replica_env: Mapping[str, str] = field(default_factory=dict)  # more for replica processes

    def settings(self, service: str, ns: str) -> Settings:
        return load_settings(
            service,
            **self.overrides,
            database_url=self.database_url,
            kafka_bootstrap_servers=self.bootstrap,
            topic_prefix=ns,
            db_schema=f"{ns}_{service}",
            consumer_max_records=BATCH,
            relay_batch_size=BATCH,
        )

    async def topics(self, *names: str) -> None:
        await ensure_topics(
            self.bootstrap,
            names,
            PARTITIONS,
            replication_factor=self.replication_factor,
            min_insync_replicas=self.min_insync_replicas,
        )


@dataclass(frozen=True)
class Database:
    url: str
    pids: Mapping[int, str]  # the postmaster's, if it runs here (its backends are its children)


@contextlib.contextmanager
def postgres(tmp: Path) -> Iterator[Database]:
    """ROOFLINE_TEST_DATABASE_URL, or an embedded PostgreSQL."""
    database_url = os.environ.get("ROOFLINE_TEST_DATABASE_URL")
    if database_url:
        yield Database(database_url, {})
        return
    server = EmbeddedPostgres(tmp / "pg", durable=False).start()
    postmaster = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    try:
        yield Database(server.url(), {postmaster: "postgres"})
    finally:
        server.stop("immediate")


@contextlib.contextmanager
def tansu(db: Database) -> Iterator[Bus]:
    """The embedded Tansu broker, or the one ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS names. Either
    way without the idempotent producer (Tansu rejects it); on the embedded one, services run as
    `roofline up` runs them (a short fetch wait)."""
    external = os.environ.get("ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS")
    overrides: dict[str, Any] = {"kafka_enable_idempotence": False}
    if external:
        yield Bus("external", external, db.url, overrides, pids=db.pids)
        return
    overrides["consumer_fetch_max_wait_ms"] = EmbeddedBroker.CONSUMER_FETCH_MAX_WAIT_MS
    broker = EmbeddedBroker().start()
    pids = {**db.pids, **({broker.process.pid: "broker"} if broker.process else {})}
    try:
        yield Bus("tansu", broker.bootstrap_servers, db.url, overrides, pids=pids)
    finally:
        broker.stop()


@contextlib.asynccontextmanager
async def kafka(tmp: Path, db: Database, brokers: int = 3) -> AsyncIterator[Bus]:
    """A local Apache Kafka cluster with production settings (tests/cluster/conftest.py's)."""
    cluster = KafkaCluster(tmp / "kafka", brokers=brokers, cache=CACHE)
    began = time.perf_counter()
    await asyncio.to_thread(cluster.start)  # blocking, and it runs an event loop of its own
    say(f"(the {brokers}-broker cluster started in {time.perf_counter() - began:.0f} s)")
    try:
        yield Bus(
            f"kafka-{brokers}",
            cluster.bootstrap_servers,
            db.url,
            {
                "kafka_enable_idempotence": True,
                "topic_replication_factor": cluster.replication_factor,
                "topic_min_insync_replicas": cluster.min_insync_replicas,
            },
            replication_factor=cluster.replication_factor,
            min_insync_replicas=cluster.min_insync_replicas,
            pids={**db.pids, **{n.process.pid: "broker" for n in cluster.nodes if n.process}},
            # Producing a replica run's events takes seconds on the cluster, while the replicas
            # are paused: they must not be taken for dead meanwhile (the rebalance would be
            # timed). Kafka forms a group at once whatever the timeout; Tansu holds a join for
            # half of it, so there they keep the default (their pause is under a second).
            replica_env={"ROOFLINE_KAFKA_SESSION_TIMEOUT_MS": "60000"},
        )
    finally:
        cluster.stop()


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


async def floor(bus: Bus, ns: str, count: int) -> float:
    topic = f"{ns}.floor"
    settings = bus.settings("floor", ns)
    schema = settings.schema_name
    await bus.topics(topic)
    await produce(bus.bootstrap, topic, count)
    engine = create_engine(settings)
    await create_schema(engine, schema, floor_metadata)
    await engine.dispose()
    connection = await asyncpg.connect(asyncpg_dsn(bus.database_url))
    inbox, outbox = FLOOR_INBOX.format(s=schema), FLOOR_OUTBOX.format(s=schema)
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bus.bootstrap,
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


async def platform_rate(bus: Bus, ns: str, count: int) -> float:
    settings = bus.settings("tallyview", ns)
    source = f"{ns}.platform"
    await bus.topics(source, f"{source}.dlq", settings.own_topic)
    await produce(bus.bootstrap, source, count)
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


async def fill_outbox(
    bus: Bus, settings: Settings, count: int
) -> tuple[ServicePlatform, dict[Any, Any]]:
    """``count`` unsent outbox rows, recorded as the tally service records them; and each
    event's Kafka headers, by event id, as the relay sends them (for the produce floor)."""
    await bus.topics(settings.own_topic)
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


async def relay_rate(bus: Bus, ns: str, count: int) -> float:
    settings = bus.settings("tally", f"{ns}r")
    producer, _ = await fill_outbox(bus, settings, count)
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


async def produce_floor(bus: Bus, ns: str, count: int) -> float:
    """The relay's floor: the same outbox rows read, published with a plain AIOKafkaProducer
    (the producer settings every service producer has: acks, linger, batch, request size) and
    marked sent, batch by batch, with the Kafka headers built before the clock starts. Its
    database connection is opened on the clock, like the relay's."""
    settings = bus.settings("tally", f"{ns}rf")
    platform, headers = await fill_outbox(bus, settings, count)
    await platform.engine.dispose()
    producer = create_producer(settings)
    await producer.start()
    started = time.perf_counter()
    connection = await asyncpg.connect(asyncpg_dsn(bus.database_url))
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


async def latency(bus: Bus, ns: str, rate: int, seconds: float) -> tuple[float, float, int]:
    producer_settings = bus.settings("tally", f"{ns}l")
    view_settings = bus.settings("tallyview", f"{ns}l")
    await bus.topics(
        producer_settings.own_topic,
        view_settings.own_topic,
        f"{producer_settings.own_topic}.dlq",
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


# -- (e) replicas ---------------------------------------------------------------------------------


@dataclass
class ReplicaRun:
    rate: float  # events/s from the replicas' resumption to the last event applied
    settled_after: float  # s from spawning the processes to the group stable with all of them
    produced_in: float  # s the replicas were paused while the events were produced
    cpu: dict[str, float]  # cores busy over the timed span: "busy" the machine's, then by kind
    in_order: bool  # every event applied once, in order per counter
    rebalanced: bool  # the group's members changed while timed (a paused one timed out)


async def group_members(admin: AIOKafkaAdminClient, group: str) -> frozenset[str] | None:
    """The consumer group's member ids if it is stable, else None."""
    try:
        responses = await admin.describe_consumer_groups([group])
    except Exception:  # its coordinator not known yet
        return None
    described = [found for response in responses for found in response.groups]
    if len(described) != 1:
        return None
    error, _, state, _, _, members = described[0]
    if error or state != "Stable":
        return None
    return frozenset(member[0] for member in members)


async def until(
    check: Callable[[], Awaitable[bool]], processes: list[subprocess.Popen[bytes]], timeout: float
) -> None:
    """Poll ``check`` every 50 ms; fail if one of ``processes`` exits or time runs out."""
    deadline = time.perf_counter() + timeout
    while not await check():
        exited = [process.returncode for process in processes if process.poll() is not None]
        if exited:
            raise RuntimeError(f"a replica exited (codes {exited})")
        if time.perf_counter() > deadline:
            raise TimeoutError(f"not within {timeout:.0f} s")
        await asyncio.sleep(0.05)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(kinds: Mapping[int, str]) -> dict[str, float]:
    """CPU seconds used so far, from /proc (Linux): ``busy`` the machine's, then by kind, a
    process counted under its own pid's kind or else its parent's (PostgreSQL's backends are
    its postmaster's children). Empty where there is no /proc."""
    used: dict[str, float] = defaultdict(float)
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]
    except OSError:
        return {}
    used["busy"] = (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS  # less idle and iowait
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        after_name = stat[stat.rindex(")") + 2 :].split()  # from field 3, the state
        parent, user, system = int(after_name[1]), int(after_name[11]), int(after_name[12])
        kind = kinds.get(int(entry.name)) or kinds.get(parent)
        if kind:
            used[kind] += (user + system) / CLOCK_TICKS
    return dict(used)


def cores_busy(
    before: Mapping[str, float], after: Mapping[str, float], seconds: float
) -> dict[str, float]:
    cores = {kind: (used - before.get(kind, 0.0)) / seconds for kind, used in after.items()}
    if cores:
        # The rest of the machine (other processes, the kernel); not below 0 (sampling skew).
        cores["other"] = max(0.0, cores["busy"] - sum(v for k, v in cores.items() if k != "busy"))
    return cores


def signal_all(processes: list[subprocess.Popen[bytes]], sig: signal.Signals) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(sig)


async def replicas_run(bus: Bus, ns: str, count: int, replicas: int) -> ReplicaRun:
    """``replicas`` tallyview processes in one group on an empty topic; once the group is stable
    with all of them, they are paused (SIGSTOP) while ``count`` events are produced and resumed
    (SIGCONT) to consume them: the clock runs from the resumption to the last event applied, so
    it holds neither their start-up, nor the joining rebalances (during which the first members
    would have the partitions to themselves), nor the producer."""
    settings = bus.settings("tallyview", ns)
    source = settings.topic("tally")
    await bus.topics(*all_topics(settings, ("tally", "tallyview")))
    reader = ServicePlatform(settings, view_metadata)  # only for reading the projection
    # Made here, so the replicas do not race each other to create it.
    await create_schema(reader.engine, settings.schema_name, view_metadata)
    extra = {  # the settings the in-process figures run with
        "ROOFLINE_CONSUMER_MAX_RECORDS": str(settings.consumer_max_records),
        "ROOFLINE_RELAY_BATCH_SIZE": str(settings.relay_batch_size),
        "ROOFLINE_CONSUMER_FETCH_MAX_WAIT_MS": str(settings.consumer_fetch_max_wait_ms),
        **bus.replica_env,
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=bus.bootstrap)
    await admin.start()
    group = settings.consumer_group
    began = time.perf_counter()
    processes = [
        spawn(settings, source, free_port(), extra_env=extra, stdout=subprocess.DEVNULL)
        for _ in range(replicas)
    ]

    async def settled() -> bool:
        members = await group_members(admin, group)
        return members is not None and len(members) == replicas

    async def all_applied() -> bool:
        return (await projection_summary(reader))["applied"] >= count

    try:
        await until(settled, processes, timeout=180)
        settled_after = time.perf_counter() - began
        members = await group_members(admin, group)
        signal_all(processes, signal.SIGSTOP)
        paused = time.perf_counter()
        try:
            await produce(bus.bootstrap, source, count)
        finally:
            signal_all(processes, signal.SIGCONT)
        produced_in = time.perf_counter() - paused
        kinds = {**bus.pids, os.getpid(): "bench", **{p.pid: "replicas" for p in processes}}
        cpu_before, resumed = cpu_seconds(kinds), time.perf_counter()
        await until(all_applied, processes, timeout=600)
        elapsed = time.perf_counter() - resumed
        cpu = cores_busy(cpu_before, cpu_seconds(kinds), elapsed)
        summary = await projection_summary(reader)
        return ReplicaRun(
            rate=count / elapsed,
            settled_after=settled_after,
            produced_in=produced_in,
            cpu=cpu,
            in_order=summary == {"applied": count, "out_of_order": 0, "counters": COUNTERS},
            rebalanced=await group_members(admin, group) != members,
        )
    finally:
        signal_all(processes, signal.SIGCONT)
        signal_all(processes, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        await admin.close()
        await reader.engine.dispose()
        await _drop(settings)


def cpu_line(cpu: Mapping[str, float]) -> str:
    if not cpu:
        return ""
    kinds = ", ".join(f"{k} {v:.2f}" for k, v in cpu.items() if k != "busy")
    return f"; cores busy {cpu['busy']:.2f} of {os.cpu_count()} ({kinds})"


def plural(n: int) -> str:
    return f"{n} replica{'s' if n != 1 else ''}"


async def replica_figures(
    bus: Bus, ns: str, events: int, rounds: int, counts: list[int]
) -> dict[str, str]:
    say(
        f"replicas: {', '.join(map(str, counts))} tallyview processes (each a whole service: "
        f"consumer and relay) in one consumer group on {PARTITIONS} partitions; once the group "
        f"is stable with all of them they are paused, {events} events produced, and resumed: "
        "timed from the resumption to the last event applied (start-up, joining rebalances and "
        "the producer left out); cores busy over that time by process"
    )
    rates: dict[int, list[float]] = {n: [] for n in counts}
    for r in range(rounds):
        # Alternate the order, so a drift in the machine's speed does not favour one count.
        for n in counts if r % 2 == 0 else counts[::-1]:
            run = await replicas_run(bus, f"{ns}x{r}n{n}", events, n)
            rates[n].append(run.rate)
            notes = "".join(
                [
                    "" if run.in_order else "; NOT every event once and in order",
                    "; the group rebalanced while timed" if run.rebalanced else "",
                ]
            )
            say(
                f"  round {r + 1}, {plural(n)}: {run.rate:,.0f} events/s (group stable after "
                f"{run.settled_after:.1f} s, paused {run.produced_in:.1f} s{notes})"
                f"{cpu_line(run.cpu)}"
            )
    rows = {}
    for n in counts:
        rate = statistics.median(rates[n])
        say(f"{plural(n) + ':':<12} {rate:9,.0f} events/s")
        rows[f"{plural(n)} (processes) events/s"] = f"{rate:,.0f}"
    return rows


# -- the runs -------------------------------------------------------------------------------------


async def consumer_figures(bus: Bus, ns: str, events: int, rounds: int) -> dict[str, str]:
    # Floor, platform, floor, platform, ..., floor: each platform run is compared with the
    # floor runs either side of it, so a drift in the machine's speed (this VM's runs swing
    # twofold within a minute) cancels instead of landing on one side of the ratio.
    floors = [await floor(bus, f"{ns}f0", events)]
    platforms, ratios = [], []
    for n in range(rounds):
        platforms.append(await platform_rate(bus, f"{ns}p{n}", events))
        floors.append(await floor(bus, f"{ns}f{n + 1}", events))
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
    return {
        "floor events/s": f"{floor_rate:,.0f}",
        "platform events/s": f"{platform:,.0f}",
        "platform/floor ratio": f"{ratio:.2f}",
    }


async def relay_figures(bus: Bus, ns: str, events: int, rounds: int) -> dict[str, str]:
    # The relay the same way: each relay run between two produce-floor runs.
    produce_floors = [await produce_floor(bus, f"{ns}g0", events)]
    relays, relay_ratios = [], []
    for n in range(rounds):
        relays.append(await relay_rate(bus, f"{ns}r{n}", events))
        produce_floors.append(await produce_floor(bus, f"{ns}g{n + 1}", events))
        relay_ratios.append(relays[-1] / statistics.geometric_mean(produce_floors[-2:]))
        say(
            f"  relay round {n + 1}: floor {produce_floors[-2]:,.0f}/s, relay "
            f"{relays[-1]:,.0f}/s, floor {produce_floors[-1]:,.0f}/s, "
            f"ratio {relay_ratios[-1]:.2f}"
        )
    pfloor, relay = statistics.median(produce_floors), statistics.median(relays)
    ratio = statistics.median(relay_ratios)
    say(f"produce floor (asyncpg + aiokafka producer):       {pfloor:9,.0f} events/s")
    say(f"relay publish rate:                                 {relay:9,.0f} events/s")
    say(f"relay/produce floor ratio: {ratio:.2f}")
    return {
        "produce floor events/s": f"{pfloor:,.0f}",
        "relay events/s": f"{relay:,.0f}",
        "relay/produce floor ratio": f"{ratio:.2f}",
    }


@dataclass(frozen=True)
class Run:
    events: int
    rate: int
    seconds: float
    rounds: int
    replicas: list[int] = field(default_factory=list)


async def figures(bus: Bus, ns: str, run: Run) -> dict[str, str]:
    """Every figure on ``bus``, printed as measured; returned as the table's column."""
    rows = await consumer_figures(bus, ns, run.events, run.rounds)
    rows |= await relay_figures(bus, ns, run.events, run.rounds)
    p50, p99, n = await latency(bus, ns, run.rate, run.seconds)
    say(
        f"command->consumed latency at {run.rate} commands/s ({n} commands): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    rows[f"latency p50 ms ({run.rate}/s)"] = f"{p50:.1f}"
    rows[f"latency p99 ms ({run.rate}/s)"] = f"{p99:.1f}"
    if run.replicas:
        rows |= await replica_figures(bus, ns, run.events, run.rounds, run.replicas)
    return rows


def table(columns: Mapping[str, Mapping[str, str]]) -> None:
    names = list(dict.fromkeys(row for column in columns.values() for row in column))
    width = max(len(name) for name in names)
    say(f"{'figure':<{width}}  " + "  ".join(f"{c:>10}" for c in columns))
    for name in names:
        values = (column.get(name, "-") for column in columns.values())
        say(f"{name:<{width}}  " + "  ".join(f"{v:>10}" for v in values))


async def main(broker: str, run: Run) -> None:
    ns = f"bench{uuid.uuid4().hex[:6]}"
    side_by_side = broker == "kafka"
    columns: dict[str, dict[str, str]] = {}
    with tempfile.TemporaryDirectory(prefix="roofline-bench-") as tmp, postgres(Path(tmp)) as db:
        say(
            f"events: {run.events} on {PARTITIONS} partitions, batches of up to {BATCH}, "
            f"{os.cpu_count()} cores; {run.rounds} platform runs, each between two floor runs; "
            "medians, and the median of the rounds' ratios (platform / geometric mean of the "
            "floors either side)"
        )
        with tansu(db) as bus:
            if side_by_side:
                say(f"== {bus.name}: {bus.bootstrap}, one node, topics unreplicated")
            columns[bus.name] = await figures(bus, f"{ns}t", run)
        if side_by_side:
            async with kafka(Path(tmp), db) as bus:
                say(
                    f"== {bus.name}: Apache Kafka, topics replicated "
                    f"{bus.replication_factor} ways, min.insync.replicas "
                    f"{bus.min_insync_replicas}, acks=all, idempotent producer"
                )
                columns[bus.name] = await figures(bus, f"{ns}k", run)
            table(columns)


def replica_counts(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n.strip()]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=200, help="commands per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="latency run length")
    parser.add_argument(
        "--rounds", type=int, default=5, help="repetitions: floor/platform, relay, replicas"
    )
    parser.add_argument(
        "--broker",
        choices=["tansu", "kafka"],
        default="tansu",
        help="kafka: the figures on Tansu and on a local 3-broker Apache Kafka cluster",
    )
    parser.add_argument(
        "--replicas",
        type=replica_counts,
        default=None,
        help="consumer processes per replica run, e.g. 1,2,3 (default: 1,2,3 with --broker "
        "kafka, none with tansu; '' for none)",
    )
    args = parser.parse_args()
    replicas = args.replicas
    if replicas is None:
        replicas = [1, 2, 3] if args.broker == "kafka" else []
    run = Run(args.events, args.rate, args.seconds, args.rounds, replicas)
    asyncio.run(main(args.broker, run))
