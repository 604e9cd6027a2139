"""Three replicas of one service consume one topic in one group on the cluster; one is
SIGKILLed mid-stream. The group rebalances its partitions to the other two, and every event is
applied exactly once, in order per aggregate."""

from __future__ import annotations

import signal
import subprocess

from shared.cli.embedded import free_port
from shared.cli.kafka_cluster import KafkaCluster
from tests.cluster.conftest import cluster_settings
from tests.support.harness import create_topics, eventually, produce_increments
from tests.support.tally import projection_summary, view_platform
from tests.support.view_process import spawn

EVENTS = 10_000
COUNTERS = 50
REPLICAS = 3


async def test_a_replica_killed_mid_stream_leaves_its_partitions_to_the_others(
    cluster: KafkaCluster, namespace: str, database_url: str
) -> None:
    settings = cluster_settings("tallyview", namespace, database_url, cluster)
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    reader = view_platform(settings, source)  # only for reading the projection
    await produce_increments(cluster.bootstrap_servers, source, COUNTERS, EVENTS // COUNTERS)

    replicas: list[subprocess.Popen[bytes]] = [
        spawn(settings, source, free_port()) for _ in range(REPLICAS)
    ]
    try:

        async def applied_at_least(count: int) -> dict[str, int] | None:
            try:
                summary = await projection_summary(reader)
            except Exception:  # the processes are still creating their tables
                return None
            return summary if summary["applied"] >= count else None

        await eventually(
            lambda: applied_at_least(EVENTS // 10), timeout=180, what="the group mid-stream"
        )
        replicas[0].send_signal(signal.SIGKILL)
        replicas[0].wait(10)
        killed_at = (await projection_summary(reader))["applied"]
        assert killed_at < EVENTS, "the stream finished before the kill; the test proves nothing"

        summary = await eventually(
            lambda: applied_at_least(EVENTS), timeout=300, what=f"{EVENTS} events applied"
        )
        assert summary == {"applied": EVENTS, "out_of_order": 0, "counters": COUNTERS}
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.terminate()
                replica.wait(30)
        await reader.engine.dispose()
