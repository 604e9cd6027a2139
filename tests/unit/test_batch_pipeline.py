"""The consumer's one-deep pipeline: batch N+1 is parsed while N's transaction runs, but its own
transaction waits for N; each batch commits its own offsets; a batch handed back takes the next
one along. The database side is faked here (``apply_batch``); the integration tests run the same
machinery against real servers and faults."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from shared.consumer import BatchPipeline, BatchResult, EventConsumer, ParsedBatch
from shared.metrics import ServiceMetrics
from shared.settings import load_settings
from tests.support.tally import Incremented, apply_increments, incremented

TOPIC = "unit.tally.events"


def record(partition: int, offset: int, seq: int = 1) -> ConsumerRecord:
    envelope = incremented(f"c{partition}", seq)
    value = envelope.to_bytes(100_000)
    headers = tuple((key, value.encode()) for key, value in envelope.headers().items())
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, b"c", value, None, 1, len(value), headers)


class FakeKafka:
    def __init__(self) -> None:
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.commits: list[dict[TopicPartition, int]] = []

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition, offset))

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(offsets)

    def highwater(self, partition: TopicPartition) -> int | None:
        return None


class Message:
    def __init__(self, kafka: FakeKafka, *records: ConsumerRecord) -> None:
        self.consumer = kafka
        self.raw_message = records


class FakeTransaction:
    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


class ScriptedConsumer(EventConsumer):
    """A real consumer (parsing, offsets) whose transactions are scripted: each batch's
    ``apply_batch`` waits for the test to release it with an outcome."""

    def __init__(self) -> None:
        super().__init__(load_settings("unit"), None, ServiceMetrics("unit"), self._no_dlq)  # type: ignore[arg-type]
        self.on_batch(Incremented)(apply_increments)
        self.started: list[list[int]] = []  # offsets of each batch whose transaction began
        self.outcomes: list[asyncio.Future[BatchResult]] = []
        self.transactions: list[FakeTransaction] = []

    async def _no_dlq(self, *args: Any) -> None:
        raise AssertionError("nothing here is dead-lettered")

    async def open_transaction(self) -> Any:
        self.transactions.append(FakeTransaction())
        return self.transactions[-1]

    async def apply_batch(self, batch: ParsedBatch, opened: Any = None) -> BatchResult:
        self.started.append([item.record.offset for item in batch.incoming])
        outcome: asyncio.Future[BatchResult] = asyncio.get_running_loop().create_future()
        self.outcomes.append(outcome)
        return await outcome


async def until(condition: Any) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


async def test_next_batch_waits_for_the_one_in_flight_and_offsets_are_each_batchs_own() -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)

    await pipeline.handle(Message(kafka, record(0, 10), record(0, 11)))
    await until(lambda: consumer.started == [[10, 11]])
    second = asyncio.create_task(pipeline.handle(Message(kafka, record(0, 12), record(1, 5))))
    await asyncio.sleep(0.01)
    assert consumer.started == [[10, 11]], "batch 2 began its transaction before batch 1 ended"
    assert kafka.commits == []

    consumer.outcomes[0].set_result(BatchResult.DONE)
    await second
    await until(lambda: len(consumer.started) == 2)
    # Batch 1's offsets only, although the consumer has already fetched batch 2.
    assert kafka.commits == [{P0: 12}]

    consumer.outcomes[1].set_result(BatchResult.DONE)
    await pipeline.settle()
    assert kafka.commits == [{P0: 12}, {P0: 13, P1: 6}]
    assert kafka.seeks == []


async def test_a_batch_handed_back_takes_the_next_one_along() -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)

    await pipeline.handle(Message(kafka, record(0, 10), record(0, 11)))
    await until(lambda: consumer.started)
    second = asyncio.create_task(pipeline.handle(Message(kafka, record(0, 12), record(1, 5))))
    await asyncio.sleep(0)
    consumer.outcomes[0].set_result(BatchResult.REQUEUE)
    await second

    # Partition 0 goes back to batch 1's first offset (not batch 2's, which would skip 10-11);
    # partition 1, which batch 1 did not have, to batch 2's first offset.
    assert kafka.seeks == [(P0, 10), (P1, 5)]
    assert consumer.started == [[10, 11]], "batch 2 must not be applied"
    assert kafka.commits == []
    assert consumer.transactions[1].closed, "batch 2's transaction begun ahead is given back"

    # What Kafka delivers next (from the sought offsets) is processed normally.
    await pipeline.handle(Message(kafka, record(0, 10), record(0, 11), record(1, 5)))
    await until(lambda: len(consumer.started) == 2)
    consumer.outcomes[1].set_result(BatchResult.DONE)
    await pipeline.settle()
    assert kafka.commits == [{P0: 12, P1: 6}]


async def test_a_batch_that_fails_unexpectedly_is_handed_back_with_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)

    await pipeline.handle(Message(kafka, record(1, 7)))
    await until(lambda: consumer.started)
    second = asyncio.create_task(pipeline.handle(Message(kafka, record(1, 8))))
    await asyncio.sleep(0)
    consumer.outcomes[0].set_exception(RuntimeError("bug in a handler"))
    await second

    assert kafka.seeks == [(P1, 7)]
    assert kafka.commits == []
    assert consumer.started == [[7]]
    assert "batch failed; handing it back" in caplog.text


async def test_parse_batch_names_the_bad_record_in_a_run_and_keeps_the_rest() -> None:
    consumer = ScriptedConsumer()
    good = [record(0, offset, seq=offset) for offset in range(5)]
    broken = dataclasses.replace(good[2], value=good[2].value.replace(b'"seq":2', b'"seq":"x"'))

    batch = consumer.parse_batch([good[0], good[1], broken, good[3], good[4]])

    assert [item.record.offset for item in batch.incoming] == [0, 1, 3, 4]
    assert [(rejected.offset, "data.seq" in why) for rejected, why in batch.rejected] == [(2, True)]
    assert [item.data.seq for item in batch.incoming] == [0, 1, 3, 4]
