"""A broker fails under load: the leader of the partitions in use is SIGKILLed, or paused
(SIGSTOP) for longer than the session timeouts and then resumed, while the relay publishes and a
consumer applies 10,000 events. Nothing is lost, nothing applied twice, each aggregate's order
holds, and the relay goes on by itself."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import pytest
import sqlalchemy as sa
from aiokafka.admin import AIOKafkaAdminClient

from shared.cli.kafka_cluster import KafkaCluster
from shared.platform.service import ServicePlatform
from tests.cluster.conftest import cluster_settings
from tests.support.harness import create_topics, eventually, read_topic, running
from tests.support.tally import increment, projection_summary, tally_platform, view_platform

AGGREGATES = 50
EVENTS_EACH = 200
# Longer than the consumer's session (6 s) and the broker's own (broker.session.timeout.ms, 9 s):
# the group and the controller both give the paused broker up before it comes back.
PAUSE_S = 12.0


async def partition_leaders(cluster: KafkaCluster, topic: str) -> Counter[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=cluster.bootstrap_servers)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([topic])
        return Counter(partition["leader"] for partition in description["partitions"])
    finally:
        await admin.close()


@pytest.mark.parametrize("failure", ["killed", "paused"])
async def test_the_leader_failing_mid_stream_loses_and_repeats_nothing(
    failure: str, cluster: KafkaCluster, namespace: str, database_url: str
) -> None:
    namespace = f"{namespace}{failure}"  # topics and schemas of this case alone
    producer_settings = cluster_settings("tally", namespace, database_url, cluster)
    view_settings = cluster_settings("tallyview", namespace, database_url, cluster)
    await create_topics(producer_settings, "tally", "tallyview")
    total = AGGREGATES * EVENTS_EACH

    async with (
        running(tally_platform(producer_settings)) as producer,
        running(view_platform(view_settings, producer_settings.own_topic)) as view,
    ):

        async def write(counter: int) -> None:
            for _ in range(EVENTS_EACH):
                await increment(producer.uow_factory, "acme", f"c{counter:02d}", 1)

        writers = [asyncio.create_task(write(n)) for n in range(AGGREGATES)]
        await eventually(
            lambda: _applied_at_least(view, total // 10), timeout=120, what="a tenth applied"
        )
        leaders = await partition_leaders(cluster, producer_settings.own_topic)
        victim, _ = leaders.most_common(1)[0]
        node = cluster.node(victim)
        if failure == "killed":
            node.signal(signal.SIGKILL)
        else:
            node.signal(signal.SIGSTOP)
            await asyncio.sleep(PAUSE_S)
            node.signal(signal.SIGCONT)

        await asyncio.gather(*writers)
        summary = await eventually(
            lambda: _summary_when(view, total), timeout=300, what=f"{total} events applied"
        )
        assert summary == {"applied": total, "out_of_order": 0, "counters": AGGREGATES}
        # The relay published everything by itself: no row is left unsent.
        await eventually(lambda: _unsent_is(producer, 0), timeout=60, what="the outbox to drain")

        # Read back by an independent client: with the idempotent producer, the broker's
        # failover left no record twice in the log (the inbox would absorb one, but none is
        # there to absorb).
        # (Read until every id is there: a fresh reader's fetches can pause for seconds while the
        # cluster settles after the failure, and one read stops at the first idle gap.)
        async def read_back() -> Counter[str] | None:
            records = await read_topic(cluster.bootstrap_servers, producer_settings.own_topic)
            ids = Counter(dict(record.headers)["ce_id"] for record in records)
            return ids if len(ids) >= total else None

        ids = await eventually(read_back, timeout=120, what=f"{total} records read back")
        assert (len(ids), max(ids.values())) == (total, 1)
        if failure == "killed":
            after = await partition_leaders(cluster, producer_settings.own_topic)
            assert victim not in after  # the cluster moved leadership off the dead broker


async def _applied_at_least(view: ServicePlatform, count: int) -> bool:
    return (await projection_summary(view))["applied"] >= count


async def _summary_when(view: ServicePlatform, total: int) -> dict[str, int] | None:
    summary = await projection_summary(view)
    return summary if summary["applied"] >= total else None


async def _unsent_is(producer: ServicePlatform, count: int) -> bool:
    async with producer.engine.connect() as connection:
        unsent = await connection.scalar(
            sa.text(
                f'SELECT count(*) FROM "{producer.settings.schema_name}".outbox '
                "WHERE sent_at IS NULL"
            )
        )
    return unsent == count
