"""The relay's leader stops mid-stream on the cluster: the standby relay takes over, nothing is
lost or reordered (the same scenario as on the embedded broker, with the production settings)."""

from __future__ import annotations

from shared.cli.kafka_cluster import KafkaCluster
from tests.cluster.conftest import cluster_settings
from tests.integration.test_outbox_ordering import relays_compete


async def test_a_standby_relay_takes_over_on_the_cluster(
    cluster: KafkaCluster, namespace: str, database_url: str
) -> None:
    await relays_compete(
        cluster_settings("tally", namespace, database_url, cluster),
        cluster_settings("tallyview", namespace, database_url, cluster),
    )
