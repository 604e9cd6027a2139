"""Consumer side: apply other services' events exactly once, never lose one, never loop forever.

Guarantees, per batch that Kafka hands us:
- Every event id goes into the ``inbox`` table in the same transaction as its effects
  (``ON CONFLICT DO NOTHING``): a redelivered or re-published event changes nothing.
- One transaction per batch; Kafka offsets are committed only after it commits (manual ack).
- A transient failure (database or broker down) is retried with backoff, never dead-lettered.
  If it outlasts ``consumer_transient_budget_s`` the batch is handed back to Kafka (seek back) so
  the consumer keeps polling inside ``max_poll_interval_ms``; nothing is skipped.
- A message that cannot be parsed, or that fails schema validation, goes to ``<topic>.dlq`` at once.
  A handler failure that is not transient is isolated (the batch is re-run one event per
  transaction), retried ``consumer_max_attempts`` times with backoff, then dead-lettered.
  The events around it are applied and the consumer moves on.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from shared.broker import dlq_topic
from shared.context import correlation_id_var, tenant_id_var
from shared.db import checked_schema, is_transient
from shared.events import Envelope, EventData, EventRejected, headers_dict
from shared.metrics import ServiceMetrics
from shared.settings import Settings
from shared.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

D = TypeVar("D", bound=EventData)
Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
# A batch handler gets consecutive events of one type (in arrival order) and can write them with
# set-based statements; that is what keeps a busy consumer near the raw Kafka + Postgres floor.
BatchHandler = Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]


class BatchResult(enum.Enum):
    DONE = "done"  # commit offsets
    REQUEUE = "requeue"  # seek back: the whole batch comes again


@dataclass(frozen=True)
class Incoming:
    record: ConsumerRecord
    envelope: Envelope
    data: EventData


class EventConsumer:
    """Handlers for the event types one service consumes, and the machinery around them."""

    def __init__(
        self,
        settings: Settings,
        uow_factory: UnitOfWorkFactory,
        metrics: ServiceMetrics,
        dead_letter: Callable[[str, bytes | None, bytes | None, dict[str, str]], Awaitable[Any]],
        *,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.metrics = metrics
        self._dead_letter_publish = dead_letter
        self.name = name or settings.consumer_group
        self._handlers: dict[str, BatchHandler] = {}

    # -- registration ---------------------------------------------------------------------------

    def on(self, event: type[D]) -> Callable[[Handler], Handler]:
        """Decorator: ``@consumer.on(LeadCreated)`` registers a handler for one event at a time."""

        def register(handler: Handler) -> Handler:
            async def one_by_one(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
                for envelope, data in events:
                    correlation_id_var.set(envelope.correlation_id)
                    await handler(uow, envelope, data)

            self._register(event, one_by_one)
            return handler

        return register

    def on_batch(self, event: type[D]) -> Callable[[BatchHandler], BatchHandler]:
        """Decorator: like ``on`` but the handler receives a run of events of that type."""

        def register(handler: BatchHandler) -> BatchHandler:
            self._register(event, handler)
            return handler

        return register

    def _register(self, event: type[EventData], handler: BatchHandler) -> None:
        if event.event_type in self._handlers:
            raise ValueError(f"{event.event_type} already has a handler in {self.name}")
        self._handlers[event.event_type] = handler

    @property
    def event_types(self) -> list[str]:
        return sorted(self._handlers)

    def subscribe(self, broker: KafkaBroker | KafkaRouter, *topics: str) -> Any:
        """Attach a FastStream batch subscriber for ``topics`` with an explicit manual ack."""
        settings = self.settings

        @broker.subscriber(
            *topics,
            batch=True,
            group_id=settings.consumer_group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.MANUAL,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            max_records=settings.consumer_max_records,
            batch_timeout_ms=settings.consumer_batch_timeout_ms,
            fetch_max_wait_ms=settings.consumer_fetch_max_wait_ms,
            # The envelope is parsed (and rejected to the DLQ) by the platform, per record; stop
            # FastStream from decoding the batch body first (it costs as much as the rest).
            decoder=_undecoded,
            title=f"{self.name}:{','.join(topics)}",
            description="Events this service consumes: " + ", ".join(self.event_types),
        )
        async def on_batch(message: KafkaMessage) -> None:
            await self.handle_message(message)

        return on_batch

    async def handle_message(self, message: Any) -> None:
        """Process one FastStream batch message and settle it: ack (commit) or nack (seek)."""
        records: Sequence[ConsumerRecord] = message.raw_message
        if not isinstance(records, tuple):
            records = (records,)
        try:
            result = await self.process(records)
        except BaseException:
            await message.nack()  # never advance past a batch we did not finish
            raise
        if result is BatchResult.REQUEUE:
            await message.nack()
            return
        try:
            await message.ack()
        except (CommitFailedError, KafkaError) as exc:
            # A rebalance took the partitions away: the new owner re-reads from the last commit,
            # and the inbox turns that redelivery into no-ops.
            log.warning(
                "offset commit failed; redelivery will be absorbed by the inbox",
                extra={"consumer": self.name, "error": repr(exc)},
            )
        self._report_lag(message.consumer, records)

    # -- the batch ------------------------------------------------------------------------------

    async def process(self, records: Sequence[ConsumerRecord]) -> BatchResult:
        incoming: list[Incoming] = []
        for record in records:
            try:
                parsed = self._parse(record)
                if parsed is not None:
                    incoming.append(parsed)
            except EventRejected as exc:
                await self.dead_letter(record, "rejected", str(exc), attempts=1)
        if not incoming:
            return BatchResult.DONE

        outcome = await self._with_transient_retry(lambda: self._apply(incoming), incoming)
        if outcome is not _FAILED:
            return outcome
        # Something in the batch fails for a non-transient reason: find it, one event at a time,
        # within the batch budget (a whole batch of failures must not outlast max_poll_interval;
        # what was applied stays applied, and the inbox skips it when the batch comes back).
        deadline = asyncio.get_running_loop().time() + self.settings.consumer_transient_budget_s
        for item in incoming:
            result = await self._apply_single(item, deadline)
            if result is BatchResult.REQUEUE:
                return result
        return BatchResult.DONE

    def _parse(self, record: ConsumerRecord) -> Incoming | None:
        """The record as an envelope with its typed payload, or None if no handler wants it.

        The ``ce_type`` header says the type before the body is read, so a wanted event is
        validated in one pass (envelope and payload together) and an unwanted one not at all.
        """
        max_bytes = self.settings.max_message_bytes
        declared = next(
            (value.decode(errors="replace") for key, value in record.headers if key == "ce_type"),
            None,
        )
        if declared is not None and declared not in self._handlers:
            return None
        if declared is not None:
            envelope, data = Envelope.typed_from_bytes(record.value, max_bytes, declared)
            if envelope.type == declared:
                return Incoming(record, envelope, data)
        envelope = Envelope.from_bytes(record.value, max_bytes)  # no header, or it disagreed
        if envelope.type not in self._handlers:
            return None  # another consumer's business; nothing to record
        return Incoming(record, envelope, envelope.payload())

    async def _apply_single(self, item: Incoming, deadline: float) -> BatchResult:
        attempts = 0
        backoff = self.settings.consumer_retry_backoff_s
        while True:
            attempts += 1
            error: list[BaseException] = []
            outcome = await self._with_transient_retry(
                lambda: self._apply([item]), [item], errors=error
            )
            if outcome is not _FAILED:
                return outcome
            if attempts >= self.settings.consumer_max_attempts:
                await self.dead_letter(
                    item.record, "handler_failed", repr(error[-1]), attempts=attempts
                )
                return BatchResult.DONE
            self.metrics.consumer_retries.labels(item.record.topic, "failure").inc()
            if asyncio.get_running_loop().time() + backoff > deadline:
                return BatchResult.REQUEUE
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.settings.consumer_retry_backoff_max_s)

    async def _with_transient_retry(
        self,
        attempt: Callable[[], Awaitable[None]],
        items: Sequence[Incoming],
        errors: list[BaseException] | None = None,
    ) -> Any:
        """Run ``attempt`` until it succeeds or fails for a non-transient reason (``_FAILED``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.consumer_transient_budget_s
        backoff = self.settings.consumer_retry_backoff_s
        while True:
            try:
                await attempt()
                return BatchResult.DONE
            except Exception as exc:
                if not is_transient(exc):
                    log.warning(
                        "event handling failed",
                        exc_info=True,
                        extra={"consumer": self.name, "events": len(items)},
                    )
                    if errors is not None:
                        errors.append(exc)
                    return _FAILED
                self.metrics.consumer_retries.labels(items[0].record.topic, "transient").inc()
                if loop.time() + backoff > deadline:
                    log.warning(
                        "transient failure outlasted the batch budget; handing back",
                        extra={"consumer": self.name, "error": repr(exc)},
                    )
                    return BatchResult.REQUEUE
                log.info(
                    "transient failure; retrying",
                    extra={"consumer": self.name, "error": repr(exc), "backoff_s": backoff},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.settings.consumer_retry_backoff_max_s)

    async def _apply(self, items: Sequence[Incoming]) -> None:
        async with self.uow_factory() as uow:
            driver = await uow.driver_connection()
            rows = await driver.fetch(
                self._inbox_insert,
                self.name,
                [item.envelope.id for item in items],
                [item.envelope.type for item in items],
                [item.envelope.tenant_id for item in items],
                [item.record.topic for item in items],
                [item.record.partition for item in items],
                [item.record.offset for item in items],
            )
            fresh = {row[0] for row in rows}
            applied: list[Incoming] = []
            for item in items:
                if item.envelope.id in fresh:
                    fresh.discard(item.envelope.id)  # a second copy in one batch is a duplicate
                    applied.append(item)
            for run in _runs_of_one_type(applied):
                first = run[0].envelope
                correlation_id_var.set(first.correlation_id)
                tenant_id_var.set(first.tenant_id)
                await self._handlers[first.type](uow, [(item.envelope, item.data) for item in run])
            await uow.commit()
        duplicates = len(items) - len(applied)
        if duplicates:
            self.metrics.inbox_duplicates.labels(items[0].record.topic).inc(duplicates)
        for (topic, event_type), count in Counter(
            (item.record.topic, item.envelope.type) for item in applied
        ).items():
            self.metrics.events_applied.labels(topic, event_type).inc(count)

    @property
    def _inbox_insert(self) -> str:
        """One statement for the whole batch, whatever its size, so it is prepared once."""
        return (
            f'INSERT INTO "{checked_schema(self.settings.schema)}".inbox '
            '(consumer, event_id, event_type, tenant_id, topic, partition, "offset") '
            "SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], "
            "$6::int[], $7::bigint[]) ON CONFLICT DO NOTHING RETURNING event_id"
        )

    # -- dead letters and lag -------------------------------------------------------------------

    async def dead_letter(
        self, record: ConsumerRecord, reason: str, error: str, *, attempts: int
    ) -> None:
        headers = headers_dict(record.headers)
        headers.update(
            {
                "dlq_reason": reason,
                "dlq_error": error[:2000],
                "dlq_original_topic": record.topic,
                "dlq_original_partition": str(record.partition),
                "dlq_original_offset": str(record.offset),
                "dlq_consumer_group": self.settings.consumer_group,
                "dlq_attempts": str(attempts),
                "dlq_failed_at": datetime.now(UTC).isoformat(),
            }
        )
        # Waits for the broker's ack: the offset is committed only after the DLQ has the message.
        await self._dead_letter_publish(dlq_topic(record.topic), record.key, record.value, headers)
        self.metrics.dead_letters.labels(record.topic, reason).inc()
        log.error(
            "message dead-lettered",
            extra={
                "consumer": self.name,
                "topic": record.topic,
                "reason": reason,
                "partition": record.partition,
                "offset": record.offset,
                "error": error,
            },
        )

    def _report_lag(self, kafka_consumer: Any, records: Sequence[ConsumerRecord]) -> None:
        last: dict[TopicPartition, int] = {}
        for record in records:
            last[TopicPartition(record.topic, record.partition)] = record.offset
        for partition, offset in last.items():
            try:
                highwater = kafka_consumer.highwater(partition)
            except Exception:  # consumer gone or partition revoked
                continue
            if highwater is not None:
                self.metrics.consumer_lag.labels(partition.topic, str(partition.partition)).set(
                    max(highwater - offset - 1, 0)
                )


_FAILED = object()


async def _undecoded(message: Any) -> Any:
    return message.raw_message


def _runs_of_one_type(items: Sequence[Incoming]) -> list[list[Incoming]]:
    """Split into consecutive runs of one event type and tenant, keeping arrival order."""
    runs: list[list[Incoming]] = []
    for item in items:
        last = runs[-1][0].envelope if runs else None
        if last and (last.type, last.tenant_id) == (item.envelope.type, item.envelope.tenant_id):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs


def broker_dead_letter(broker: KafkaBroker) -> Callable[..., Awaitable[Any]]:
    async def publish(
        topic: str, key: bytes | None, value: bytes | None, headers: dict[str, str]
    ) -> Any:
        return await broker.publish(value or b"", topic, key=key, headers=headers)

    return publish
