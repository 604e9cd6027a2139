"""The cluster tier: the platform on a local 3-broker Apache Kafka cluster (KRaft) with the
production settings: topics replicated 3 ways, ``min.insync.replicas=2``, ``acks=all`` with the
idempotent producer on. The cluster starts once per test run, from the broker jars Maven fetched
into ``.roofline/cache`` (once per machine). PostgreSQL is the session's embedded one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.cli.kafka_cluster import KafkaCluster
from shared.platform.settings import Settings
from tests.support.harness import settings_for

CACHE = Path(__file__).resolve().parents[2] / ".roofline" / "cache"


@pytest.fixture(scope="session")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    cluster = KafkaCluster(tmp_path_factory.mktemp("kafka"), brokers=3, cache=CACHE).start()
    yield cluster
    cluster.stop(graceful=False)  # thrown away: no controlled shutdown to wait for


@pytest.fixture
def cluster(kafka_cluster: KafkaCluster) -> Iterator[KafkaCluster]:
    """The session's cluster, every node running again after the test (a test kills some)."""
    yield kafka_cluster
    for node in kafka_cluster.nodes:
        if not node.running():
            kafka_cluster.restart(node)


def cluster_settings(
    service: str, namespace: str, database_url: str, cluster: KafkaCluster, **extra: Any
) -> Settings:
    return settings_for(
        service,
        namespace,
        database_url,
        cluster.bootstrap_servers,
        kafka_enable_idempotence=True,
        topic_replication_factor=cluster.replication_factor,
        topic_min_insync_replicas=cluster.min_insync_replicas,
        **extra,
    )
