"""The consumer-lag metric: log end minus the committed offset, for every partition this process
owns, and nothing for partitions a rebalance moved elsewhere (the cluster tier checks it against
Kafka's admin API)."""

from __future__ import annotations

from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaTimeoutError

from shared.platform.messaging.offsets import PartitionLag, commit_offsets
from shared.platform.metrics import ServiceMetrics

TOPIC = "t"
P0, P1, P2 = (TopicPartition(TOPIC, n) for n in range(3))


class FakeKafka:
    def __init__(self, highwater: dict[TopicPartition, int]) -> None:
        self.highwaters = highwater
        self.assigned = set(highwater)
        self.fail_commits = False

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.highwaters.get(partition)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        if self.fail_commits:
            raise KafkaTimeoutError("no coordinator")


def record(partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


def lag_by_partition(metrics: ServiceMetrics) -> dict[str, float]:
    return {
        sample.labels["partition"]: sample.value
        for family in metrics.registry.collect()
        if family.name == "roofline_consumer_lag"
        for sample in family.samples
    }


async def commit(kafka: Any, lag: PartitionLag, *records: ConsumerRecord) -> None:
    await commit_offsets(kafka, list(records), timeout_s=1, lag=lag, consumer="c")


async def test_every_owned_partition_is_refreshed_not_only_the_batchs() -> None:
    metrics = ServiceMetrics("svc")
    lag, kafka = PartitionLag(metrics), FakeKafka({P0: 100, P1: 50})
    await commit(kafka, lag, record(0, 9), record(1, 49))
    assert lag_by_partition(metrics) == {"0": 90, "1": 0}

    kafka.highwaters[P1] = 80  # more arrived on partition 1; the next batch is partition 0's
    await commit(kafka, lag, record(0, 19))
    assert lag_by_partition(metrics) == {"0": 80, "1": 30}


async def test_a_partition_moved_to_another_replica_leaves_this_ones_metric() -> None:
    metrics = ServiceMetrics("svc")
    lag, kafka = PartitionLag(metrics), FakeKafka({P0: 100, P1: 50, P2: 10})
    await commit(kafka, lag, record(0, 9), record(1, 9), record(2, 9))
    kafka.assigned = {P0}  # a rebalance gave partitions 1 and 2 to another replica
    await commit(kafka, lag, record(0, 10), record(1, 10))
    assert lag_by_partition(metrics) == {"0": 89}


async def test_a_failed_commit_leaves_the_lag_at_the_last_committed_offset() -> None:
    metrics = ServiceMetrics("svc")
    lag, kafka = PartitionLag(metrics), FakeKafka({P0: 100})
    await commit(kafka, lag, record(0, 9))
    kafka.fail_commits = True
    await commit(kafka, lag, record(0, 59))
    assert lag_by_partition(metrics) == {"0": 90}
