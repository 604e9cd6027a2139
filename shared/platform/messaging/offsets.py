"""Kafka offsets and lag for a consumed batch: commit its own offsets, never the position.

Kept apart from the pipeline because the rule is subtle and shared: a batch commits the offset
after its last record per partition (the consumer's position may already be past the next
batch, which is not applied yet), only for partitions still assigned (aiokafka refuses the whole
commit otherwise), and a failed commit is logged, not raised: the new owner re-reads from the
last commit and the inbox turns the redelivery into no-ops. Lag comes from ``highwater()``
(the embedded broker's ``end_offsets()`` can be wrong after a batched produce).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared.platform.metrics import ServiceMetrics

log = logging.getLogger(__name__)

Records = Sequence[ConsumerRecord]


def first_offsets(records: Records) -> dict[TopicPartition, int]:
    """Each partition's first offset in ``records`` (where a hand-back seeks to)."""
    # Keyed by plain (topic, partition) tuples while scanning (a TopicPartition per record cost
    # more than the scan): a TopicPartition is built once per partition.
    first: dict[tuple[str, int], int] = {}
    for record in records:
        key = (record.topic, record.partition)
        if key not in first:
            first[key] = record.offset
    return {TopicPartition(*key): offset for key, offset in first.items()}


def last_offsets(records: Records) -> dict[TopicPartition, int]:
    """Each partition's last offset in ``records``."""
    last = {(record.topic, record.partition): record.offset for record in records}
    return {TopicPartition(*key): offset for key, offset in last.items()}


async def commit_offsets(
    kafka: Any, records: Records, *, timeout_s: float, lag: PartitionLag, consumer: str
) -> None:
    """Commit the offsets after ``records`` (their own, not the consumer's position, which
    may already be past the next batch), then report the lag behind each partition."""
    last = last_offsets(records)
    # A partition a rebalance took away is its new owner's to commit (aiokafka refuses the
    # whole commit if one partition is not assigned, and the others would be left behind).
    assigned = kafka.assignment()
    offsets = {p: offset + 1 for p, offset in last.items() if p in assigned}
    try:
        if offsets:
            # Bounded: aiokafka retries a commit for as long as Kafka is unreachable, and a
            # stopping service waits for this batch.
            await asyncio.wait_for(kafka.commit(offsets), timeout=timeout_s)
    except (KafkaError, TimeoutError) as exc:
        # A rebalance took the partitions away: the new owner re-reads from the last commit,
        # and the inbox turns that redelivery into no-ops.
        log.warning(
            "offset commit failed; redelivery will be absorbed by the inbox",
            extra={"consumer": consumer, "error": repr(exc)},
        )
        offsets = {}
    lag.update(kafka, offsets)


class PartitionLag:
    """``roofline_consumer_lag``: per partition this process owns, the log end (high watermark)
    minus the group's committed offset, the figure Kafka's admin tools report as the group's lag.

    Every owned partition is refreshed after each batch, not only the batch's own (a partition
    with no records in the batch may have fallen behind meanwhile), and a partition a rebalance
    moved to another replica is dropped from this process's metric: summed over the replicas,
    the metric is the group's lag, never a stale figure counted twice."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics
        # Per Kafka consumer (a service may subscribe with several): the committed offset of
        # each partition it owns.
        self._committed: weakref.WeakKeyDictionary[Any, dict[TopicPartition, int]] = (
            weakref.WeakKeyDictionary()
        )

    def update(self, kafka: Any, committed: dict[TopicPartition, int]) -> None:
        owned = self._committed.setdefault(kafka, {})
        owned.update(committed)
        assigned = kafka.assignment()
        for partition in [p for p in owned if p not in assigned]:
            del owned[partition]
            with contextlib.suppress(KeyError):  # never reported (no high watermark yet)
                self.metrics.consumer_lag.remove(partition.topic, str(partition.partition))
        for partition, offset in owned.items():
            try:
                highwater = kafka.highwater(partition)
            except Exception:  # consumer stopping
                continue
            if highwater is not None:
                self.metrics.consumer_lag.labels(partition.topic, str(partition.partition)).set(
                    max(highwater - offset, 0)
                )
