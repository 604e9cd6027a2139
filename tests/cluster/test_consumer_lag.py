"""The consumer-lag metric against the group's real lag as Kafka's admin API reports it (log end
minus the group's committed offset, per partition): mid-stream, with the consumer held up by a
lock on its projection, and once it has caught up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from shared.cli.kafka_cluster import KafkaCluster
from shared.platform.service import ServicePlatform
from shared.platform.storage.db import asyncpg_dsn
from tests.cluster.conftest import cluster_settings
from tests.support.harness import create_topics, eventually, produce_increments, running
from tests.support.tally import projection_summary, view_platform

COUNTERS = 30
EACH = 200
EVENTS = COUNTERS * EACH


async def admin_lag(cluster: KafkaCluster, group: str, topic: str) -> dict[int, int]:
    """Per partition the group has committed on: log end offset - committed offset, read with
    clients of the test's own (the admin API for the commits, a group-less consumer for the end)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap_servers)
    reader = AIOKafkaConsumer(bootstrap_servers=cluster.bootstrap_servers, group_id=None)
    await admin.start()
    await reader.start()
    try:
        committed = {
            partition: meta.offset
            for partition, meta in (await admin.list_consumer_group_offsets(group)).items()
            if partition.topic == topic and meta.offset >= 0
        }
        ends = await reader.end_offsets(list(committed))
        return {p.partition: ends[p] - offset for p, offset in committed.items()}
    finally:
        await reader.stop()
        await admin.close()


def metric_lag(view: ServicePlatform, topic: str) -> dict[int, int]:
    return {
        int(sample.labels["partition"]): int(sample.value)
        for family in view.metrics.registry.collect()
        if family.name == "roofline_consumer_lag"
        for sample in family.samples
        if sample.labels["topic"] == topic
    }


@asynccontextmanager
async def projection_locked(database_url: str, schema: str) -> AsyncIterator[None]:
    """Writes to the projection wait (reads go on) until the block ends: the consumer's batch in
    flight stalls in its transaction, and the batches before it have committed their offsets."""
    connection = await asyncpg.connect(asyncpg_dsn(database_url))
    try:
        async with connection.transaction():
            await connection.execute(f'LOCK TABLE "{schema}".projection IN EXCLUSIVE MODE')
            yield
    finally:
        await connection.close()


async def test_the_lag_metric_is_the_groups_lag_as_kafka_reports_it(
    cluster: KafkaCluster, namespace: str, database_url: str
) -> None:
    # Small batches: the stream takes long enough to be stopped in the middle of it.
    settings = cluster_settings(
        "tallyview", namespace, database_url, cluster, consumer_max_records=10
    )
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    # All of it on the log before the consumer starts: every fetch sees the final log end.
    await produce_increments(cluster.bootstrap_servers, source, COUNTERS, EACH)

    async with running(view_platform(settings, source)) as view:

        async def applied_at_least(count: int) -> int | None:
            applied = (await projection_summary(view))["applied"]
            return applied if applied >= count else None

        async def lags_agree(*, caught_up: bool) -> dict[int, int] | None:
            metric = metric_lag(view, source)
            real = await admin_lag(cluster, settings.consumer_group, source)
            behind = sum(real.values()) > 0
            return real if metric == real and real and behind != caught_up else None

        await eventually(lambda: applied_at_least(EVENTS // 10), timeout=120, what="mid-stream")
        async with projection_locked(database_url, settings.schema_name):
            # (Partitions the group has not committed on yet have no lag in the admin API's terms
            # either: kafka-consumer-groups prints "-" for them.)
            await eventually(
                lambda: lags_agree(caught_up=False),
                timeout=60,
                what="the metric to equal the admin API's lag while the consumer is held",
            )
            applied = (await projection_summary(view))["applied"]
            assert applied < EVENTS, "the stream finished before the hold; the test proves nothing"

        await eventually(lambda: applied_at_least(EVENTS), timeout=180, what="all applied")
        final = await eventually(
            lambda: lags_agree(caught_up=True), timeout=60, what="the lag to reach 0 on both"
        )
        assert set(final) == set(range(settings.topic_partitions)), "every partition reported"
