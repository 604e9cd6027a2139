"""Helpers for integration tests: settings in a test namespace, running platforms, raw Kafka."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from shared.platform.messaging.broker import all_topics, dlq_topic, ensure_topics
from shared.platform.messaging.envelope import OutgoingEvent
from shared.platform.service import ServicePlatform
from shared.platform.settings import Settings, load_settings
from shared.platform.storage.db import create_schema, drop_schema

TEST_PARTITIONS = 4


def settings_for(
    service: str, namespace: str, database_url: str, bootstrap_servers: str, **extra: Any
) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "kafka_bootstrap_servers": bootstrap_servers,
        "topic_prefix": namespace,
        "db_schema": f"{namespace}_{service}",
        "topic_partitions": TEST_PARTITIONS,
        "relay_poll_interval_s": 0.2,
        "consumer_retry_backoff_s": 0.05,
        "consumer_retry_backoff_max_s": 1.0,
        "db_pool_size": 5,
        # The embedded broker rejects the idempotent producer; a real Kafka named by
        # ROOFLINE_TEST_KAFKA_BOOTSTRAP_SERVERS can have it with ROOFLINE_TEST_KAFKA_IDEMPOTENCE=1.
        "kafka_enable_idempotence": os.environ.get("ROOFLINE_TEST_KAFKA_IDEMPOTENCE") == "1",
    }
    values.update(extra)
    return load_settings(service, **values)


async def create_topics(settings: Settings, *services: str) -> None:
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        all_topics(settings, services),
        settings.topic_partitions,
        replication_factor=settings.topic_replication_factor,
        min_insync_replicas=settings.topic_min_insync_replicas,
    )


@contextlib.asynccontextmanager
async def running(
    platform: ServicePlatform, *, drop: bool = True, consume: bool = True
) -> AsyncIterator[ServicePlatform]:
    """The platform started on a fresh schema (``consume=False``: without joining the consumer
    group, for tests that apply the handlers themselves)."""
    await platform.start(create_tables=True, consume=consume)
    try:
        yield platform
    finally:
        await platform.stop()
        if drop:
            from shared.platform.storage.db import create_engine

            engine = create_engine(platform.settings)
            await drop_schema(engine, platform.settings.schema_name)
            await engine.dispose()


async def prepare_schema(platform: ServicePlatform) -> None:
    await create_schema(platform.engine, platform.settings.schema_name, platform.metadata)


async def eventually(
    check: Callable[[], Awaitable[Any]],
    *,
    timeout: float = 60.0,
    interval: float = 0.2,
    what: str = "condition",
) -> Any:
    """Poll ``check`` until it returns something truthy; fail with the last value after
    ``timeout``. A wait for a condition, not a timing assertion: the timeout is generous."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


@contextlib.asynccontextmanager
async def raw_producer(bootstrap_servers: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


def kafka_headers(event: OutgoingEvent) -> list[tuple[str, bytes]]:
    """``event``'s ``ce_*`` headers as a Kafka client sends them."""
    return [(name, value.encode()) for name, value in event.headers().items()]


async def send_envelope(producer: AIOKafkaProducer, topic: str, event: OutgoingEvent) -> None:
    """Publish ``event`` as the relay would: its envelope, keyed by subject, ``ce_*`` headers."""
    await producer.send_and_wait(
        topic, event.body, key=event.subject.encode(), headers=kafka_headers(event)
    )


async def produce_increments(bootstrap_servers: str, topic: str, counters: int, each: int) -> None:
    """Publish ``each`` increments for each of ``counters`` counters (c00, c01, ...), interleaved,
    as the tally service would, without waiting on each send."""
    from tests.support.tally import incremented

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        for seq in range(1, each + 1):
            for counter in range(counters):
                event = incremented(f"c{counter:02d}", seq)
                await producer.send(
                    topic, event.body, key=event.subject.encode(), headers=kafka_headers(event)
                )
        await producer.flush()
    finally:
        await producer.stop()


async def read_topic(bootstrap_servers: str, topic: str, *, idle_ms: int = 1500) -> list[Any]:
    """Every record currently on ``topic`` (reads from the start until idle)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=idle_ms)
            if not batch:
                break
            for partition_records in batch.values():
                records.extend(partition_records)
    finally:
        await consumer.stop()
    return records


async def read_dlq(bootstrap_servers: str, topic: str) -> list[dict[str, Any]]:
    return [
        {"key": r.key, "value": r.value, "headers": {k: v.decode() for k, v in r.headers}}
        for r in await read_topic(bootstrap_servers, dlq_topic(topic))
    ]


def metric_value(platform: ServicePlatform, name: str, **labels: str) -> float:
    value = platform.metrics.registry.get_sample_value(name, labels or None)
    return float(value or 0.0)


def metric_total(platform: ServicePlatform, name: str) -> float:
    """Sum of a metric over all label values."""
    total = 0.0
    for family in platform.metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name:
                total += sample.value
    return total


def decode(record: Any) -> dict[str, Any]:
    return json.loads(record.value)


async def scrape_metrics(port: int) -> dict[str, float]:
    """A process's /metrics on 127.0.0.1:``port``, each metric summed over its labels."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics", timeout=5)).text
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def first_sequences(records: list[Any]) -> dict[str, list[int]]:
    """Per key, the sequences of a topic's records in log order, each at its first occurrence
    (an at-least-once publisher may repeat a record; a consumer's inbox drops the repeat)."""
    sequences: dict[str, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        seen = sequences.setdefault(record.key.decode(), [])
        sequence = json.loads(record.value)["sequence"]
        if sequence not in seen:
            seen.append(sequence)
    return sequences
