"""The consumer's one-deep pipeline: batch N+1 is parsed while N's transaction runs, but its own
transaction waits for N; each batch commits its own offsets; records fetched before a hand-back
wait for the handed-back ones. Kafka (positions, seeks, commits) and the database side
(``apply_batch``) are faked here; the integration tests run the same machinery against real
servers and faults."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import IllegalStateError
from faststream.kafka.message import KafkaMessage
from faststream.kafka.parser import AioKafkaBatchParser

from shared.platform.messaging.consumer import EventConsumer
from shared.platform.messaging.envelope import Envelope
from shared.platform.messaging.parsing import ParsedBatch, parse_batch_lightly
from shared.platform.messaging.pipeline import BatchPipeline
from shared.platform.messaging.retry import BatchResult
from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import load_settings
from tests.support.harness import kafka_headers
from tests.support.tally import Incremented, apply_increments, incremented

TOPIC = "unit.tally.events"
P0, P1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)


def record(partition: int, offset: int, seq: int = 1) -> ConsumerRecord:
    event = incremented(f"c{partition}", seq)
    value = event.body
    headers = tuple(kafka_headers(event))
    return ConsumerRecord(TOPIC, partition, offset, 0, 0, b"c", value, None, 1, len(value), headers)


class FakeKafka:
    """Positions as aiokafka keeps them: a fetch moves a partition's past the records it
    returns, a seek sets it."""

    def __init__(self) -> None:
        self.positions: dict[TopicPartition, int] = {}
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.commits: list[dict[TopicPartition, int]] = []
        self.assigned = {P0, P1}

    def fetch(self, *records: ConsumerRecord) -> Message:
        for r in records:
            self.positions[TopicPartition(r.topic, r.partition)] = r.offset + 1
        return Message(self, *records)

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def position(self, partition: TopicPartition) -> int:
        if partition not in self.assigned:
            raise IllegalStateError(f"{partition} is not assigned")
        return self.positions[partition]

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition, offset))
        self.positions[partition] = offset

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

    async def apply_batch(
        self, batch: ParsedBatch, opened: Any = None, *, suspect: bool = False
    ) -> BatchResult:
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


async def test_next_batch_waits_for_the_one_in_flight_and_offsets_are_each_batchs_own() -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)

    await pipeline.handle(kafka.fetch(record(0, 10), record(0, 11)))
    await until(lambda: consumer.started == [[10, 11]])
    second = asyncio.create_task(pipeline.handle(kafka.fetch(record(0, 12), record(1, 5))))
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


async def test_records_fetched_before_a_hand_back_wait_for_it_the_rest_is_applied() -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)

    await pipeline.handle(kafka.fetch(record(0, 10), record(0, 11)))
    await until(lambda: consumer.started)
    # Batch 2 was fetched before batch 1 is handed back: its partition-0 record comes after the
    # handed-back ones and must wait for them; partition 1 is not concerned.
    second = asyncio.create_task(pipeline.handle(kafka.fetch(record(0, 12), record(1, 5))))
    await asyncio.sleep(0)
    consumer.outcomes[0].set_result(BatchResult.REQUEUE)
    await second

    assert kafka.seeks == [(P0, 10)]
    await until(lambda: len(consumer.started) == 2)
    assert consumer.started == [[10, 11], [5]]
    consumer.outcomes[1].set_result(BatchResult.DONE)
    await pipeline.settle()
    assert kafka.commits == [{P1: 6}]

    # Kafka delivers partition 0 again from the handed-back offset: applied, in order, and what
    # follows is applied too.
    await pipeline.handle(kafka.fetch(record(0, 10), record(0, 11), record(0, 12)))
    await until(lambda: len(consumer.started) == 3)
    consumer.outcomes[2].set_result(BatchResult.DONE)
    await pipeline.handle(kafka.fetch(record(0, 13)))
    await until(lambda: len(consumer.started) == 4)
    consumer.outcomes[3].set_result(BatchResult.DONE)
    await pipeline.settle()
    assert consumer.started[2:] == [[10, 11, 12], [13]]
    assert kafka.commits[1:] == [{P0: 13}, {P0: 14}]


async def test_a_batch_handed_back_before_the_next_fetch_is_applied_when_it_comes_again() -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)

    await pipeline.handle(kafka.fetch(record(0, 10), record(0, 11)))
    await until(lambda: consumer.started)
    consumer.outcomes[0].set_result(BatchResult.REQUEUE)  # e.g. the database stayed down
    await until(lambda: kafka.seeks)
    # The next fetch is the redelivery itself (quiet topic): it must be applied, not dropped;
    # here offset 10 is gone meanwhile (retention, compaction), so Kafka resumes at 11.
    await pipeline.handle(kafka.fetch(record(0, 11)))
    await until(lambda: len(consumer.started) == 2)
    consumer.outcomes[1].set_result(BatchResult.DONE)
    await pipeline.settle()

    assert consumer.started == [[10, 11], [11]]
    assert kafka.commits == [{P0: 12}]


async def test_a_batch_that_fails_unexpectedly_is_handed_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)

    await pipeline.handle(kafka.fetch(record(1, 7)))
    await until(lambda: consumer.started)
    second = asyncio.create_task(pipeline.handle(kafka.fetch(record(1, 8))))
    await asyncio.sleep(0)
    consumer.outcomes[0].set_exception(RuntimeError("bug in a handler"))
    await second

    assert kafka.seeks == [(P1, 7)]
    assert kafka.commits == []
    assert consumer.started == [[7]], "the batch behind it waits for the redelivery"
    assert consumer.transactions[1].closed, "its transaction begun ahead is given back"
    assert "batch failed; handing it back" in caplog.text


async def test_records_of_a_partition_taken_away_since_the_fetch_are_left_to_its_owner() -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)
    message = kafka.fetch(record(0, 3), record(1, 4))
    kafka.assigned = {P1}
    await pipeline.handle(message)
    await until(lambda: consumer.started)
    consumer.outcomes[0].set_result(BatchResult.DONE)
    await pipeline.settle()
    assert consumer.started == [[4]]
    assert kafka.commits == [{P1: 5}]


async def test_drain_lets_the_batch_in_flight_commit_and_takes_no_more() -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    pipeline = BatchPipeline(consumer)

    await pipeline.handle(kafka.fetch(record(0, 10)))
    await until(lambda: consumer.started)
    draining = asyncio.create_task(pipeline.drain())
    late = asyncio.create_task(pipeline.handle(kafka.fetch(record(0, 11))))
    await asyncio.sleep(0.01)
    assert not draining.done(), "drain returned with a batch still in its transaction"
    consumer.outcomes[0].set_result(BatchResult.DONE)
    await draining
    await late

    assert consumer.started == [[10]], "no batch may start once draining"
    assert kafka.commits == [{P0: 11}]


async def test_offsets_of_partitions_taken_away_are_not_committed() -> None:
    consumer, kafka = ScriptedConsumer(), FakeKafka()
    kafka.assigned = {P1}  # a rebalance took partition 0 while the batch was in its transaction
    await consumer.commit_offsets(kafka, [record(0, 10), record(1, 3)])
    assert kafka.commits == [{P1: 4}]


def spy_on_run_validation(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """Run sizes passed to the one-call validation, and None where it declined the run."""
    calls: list[int | None] = []
    original = Envelope.typed_batch_from_bytes

    def spy(bodies: Any, ids: Any, max_bytes: int, event_type: str) -> Any:
        result = original(bodies, ids, max_bytes, event_type)
        calls.append(None if result is None else len(result))
        return result

    monkeypatch.setattr(Envelope, "typed_batch_from_bytes", spy)
    return calls


def test_a_run_of_one_type_is_validated_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spy_on_run_validation(monkeypatch)
    batch = ScriptedConsumer().parse_batch([record(0, offset, seq=offset) for offset in range(5)])
    assert calls == [5]
    assert [item.data.seq for item in batch.incoming] == [0, 1, 2, 3, 4]
    assert [item.record.offset for item in batch.incoming] == [0, 1, 2, 3, 4]
    assert batch.rejected == []


def test_a_bad_record_in_a_run_is_named_and_the_rest_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = spy_on_run_validation(monkeypatch)
    good = [record(0, offset, seq=offset) for offset in range(5)]
    broken = dataclasses.replace(good[2], value=good[2].value.replace(b'"seq":2', b'"seq":"x"'))
    no_header_value = dataclasses.replace(good[4], headers=((*good[4].headers, ("ce_type", None))))

    batch = ScriptedConsumer().parse_batch([good[0], good[1], broken, good[3], no_header_value])

    assert calls == [None], "the run was declined, then read one record at a time"
    assert [item.record.offset for item in batch.incoming] == [0, 1, 3, 4]
    assert [(rejected.offset, "data.seq" in why) for rejected, why in batch.rejected] == [(2, True)]
    assert [item.data.seq for item in batch.incoming] == [0, 1, 3, 4]


@pytest.mark.parametrize("value", [b"\xff\xfe", None])
async def test_a_batch_whose_first_record_has_unreadable_header_values_is_still_delivered(
    value: bytes | None,
) -> None:
    """FastStream's own batch parser decodes header values strictly; the platform's hands it
    no headers, so a bad one on the first record cannot drop the batch."""
    first = dataclasses.replace(record(0, 10), headers=(("trace", value),))
    records = (first, record(0, 11))
    parser = AioKafkaBatchParser(KafkaMessage, None)
    with pytest.raises((UnicodeDecodeError, AttributeError)):
        await parser.parse_batch(records)  # what FastStream alone does with it
    message = await parse_batch_lightly(records, parser.parse_batch)
    assert message.raw_message == records
