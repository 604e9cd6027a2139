"""Outbox -> relay -> Kafka -> consumer keeps each aggregate's order, with two relays competing;
and what the relay puts on the topic is the recorded event, byte for byte."""

from __future__ import annotations

import asyncio
import random

from shared.platform.messaging.relay import KafkaPublisher, OutboxRelay
from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import Settings
from tests.support.harness import (
    create_topics,
    eventually,
    first_sequences,
    kafka_headers,
    prepare_schema,
    read_topic,
    running,
    settings_for,
)
from tests.support.tally import increment, projection_summary, tally_platform, view_platform

AGGREGATES = 50
EVENTS_EACH = 20


async def test_fifty_aggregates_arrive_in_order_while_relays_compete(
    namespace: str, database_url: str, bootstrap_servers: str
) -> None:
    await relays_compete(
        settings_for("tally", namespace, database_url, bootstrap_servers),
        settings_for("tallyview", namespace, database_url, bootstrap_servers),
    )


async def relays_compete(producer_settings: Settings, view_settings: Settings) -> None:
    """Two relays of one service, the leader stopped mid-stream: the standby takes over, and
    every aggregate's events arrive once and in order (also run on the Kafka cluster)."""
    bootstrap_servers = producer_settings.kafka_bootstrap_servers
    await create_topics(producer_settings, "tally", "tallyview")
    producer = tally_platform(producer_settings)
    await prepare_schema(producer)

    # Two relay instances for the same service, each with its own Kafka producer: only the one
    # holding the advisory lock publishes. Midway the leader goes away and the other takes over.
    relays, publishers, tasks = [], [], []
    for name in ("relay-a", "relay-b"):
        publisher = KafkaPublisher(producer_settings)
        await publisher.start()
        metrics = ServiceMetrics("tally")
        relay = OutboxRelay(producer_settings, publisher, metrics, name=name)
        relays.append(relay)
        publishers.append(publisher)
        tasks.append(asyncio.create_task(relay.run()))

    async with running(view_platform(view_settings, producer_settings.own_topic)) as view:
        await eventually(lambda: _leader_count(relays), what="one relay to lead")
        first_leader = next(r for r in relays if r.is_leader)

        async def write_counter(counter: int) -> None:
            for _ in range(EVENTS_EACH):
                await increment(producer.uow_factory, "acme", f"c{counter:02d}", 1)
                await asyncio.sleep(random.random() / 200)

        writers = [asyncio.create_task(write_counter(i)) for i in range(AGGREGATES)]
        await eventually(
            lambda: _published(first_leader), what="the first leader to publish something"
        )
        first_leader.stop()  # leader leaves mid-stream; the standby must take over
        await asyncio.gather(*writers)
        second_leader = next(r for r in relays if r is not first_leader)
        await eventually(
            lambda: asyncio.sleep(0, second_leader.is_leader), what="the standby relay to take over"
        )

        total = AGGREGATES * EVENTS_EACH
        summary = await eventually(
            lambda: _summary_when(view, total), timeout=120, what=f"{total} events applied"
        )
        assert summary == {"applied": total, "out_of_order": 0, "counters": AGGREGATES}
        assert _published_count(first_leader) > 0
        assert _published_count(second_leader) > 0

        # On the topic itself, each key's first occurrences run 1..20 in order.
        records = await read_topic(bootstrap_servers, producer_settings.own_topic)
        sequences = first_sequences(records)
        assert len(sequences) == AGGREGATES
        assert all(seq == list(range(1, EVENTS_EACH + 1)) for seq in sequences.values())

    for relay in relays:
        relay.stop()
    await asyncio.gather(*tasks)
    for publisher in publishers:
        await publisher.stop()
    await producer.engine.dispose()


async def test_a_relayed_record_is_the_recorded_event_byte_for_byte(
    namespace: str, database_url: str, bootstrap_servers: str
) -> None:
    """Value, key and ``ce_*`` headers (names, order, values) as the encoder gave them, and no
    other headers: the relay builds them from outbox columns and the stored envelope."""
    settings = settings_for("tally", f"{namespace}x", database_url, bootstrap_servers)
    await create_topics(settings, "tally")
    producer = tally_platform(settings)
    await prepare_schema(producer)
    events = [await increment(producer.uow_factory, "acme", f"c{n % 2}", n) for n in (1, 2, 3)]
    publisher = KafkaPublisher(settings)
    await publisher.start()
    relay = OutboxRelay(settings, publisher, ServiceMetrics("tally"))
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: asyncio.sleep(0, _published_count(relay) >= 3), what="relayed")
        records = await read_topic(bootstrap_servers, settings.own_topic)
    finally:
        relay.stop()
        await task
        await publisher.stop()
        await producer.engine.dispose()
    by_value = {record.value: record for record in records}
    assert len(records) == len(events)
    for event in events:
        record = by_value[event.body]
        assert record.key == event.subject.encode()
        assert list(record.headers) == kafka_headers(event)


async def _leader_count(relays: list[OutboxRelay]) -> bool:
    return sum(r.is_leader for r in relays) == 1


def _published_count(relay: OutboxRelay) -> float:
    assert relay.metrics is not None
    return relay.metrics.registry.get_sample_value("roofline_outbox_published_total") or 0.0


async def _published(relay: OutboxRelay) -> bool:
    return _published_count(relay) > 0


async def _summary_when(view, total: int) -> dict[str, int] | None:
    summary = await projection_summary(view)
    return summary if summary["applied"] >= total else None
