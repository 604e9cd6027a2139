"""Consumer side: apply other services' events exactly once, never lose one, never loop forever.

``EventConsumer`` is what a service sees (``on``, ``on_batch``, ``subscribe``, ``drain``,
``resume``, ``stalled``, ``use_tolerant_consumers``); it wires the pieces, each in its module:

- ``parsing``: records to envelopes and typed payloads, before any I/O;
- ``dispatch``: the handlers by event type, applied in one transaction per batch;
- ``inbox``: every event id recorded with its effects (``ON CONFLICT DO NOTHING``), so a
  redelivered or re-published event changes nothing;
- ``retry`` and ``applier``: transient failures retried with backoff and never dead-lettered
  (past ``consumer_transient_budget_s`` the batch is handed back to Kafka); a poison event
  isolated, retried ``consumer_max_attempts`` times, dead-lettered and set aside;
- ``rejects`` (with ``dead_letter``): what cannot be parsed goes to ``<topic>.dlq`` at once, once;
- ``pipeline``: batches pipelined one deep, each committing its own offsets (``offsets``) only
  after its transaction; ``progress`` and ``tolerant_consumer``: whether it gets through.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from shared.contracts.base import EventData
from shared.platform.messaging.applier import BatchApplier
from shared.platform.messaging.dead_letter import DeadLetters, Publish
from shared.platform.messaging.dispatch import BatchHandler, D, Dispatcher, Handler, Handlers
from shared.platform.messaging.inbox import Inbox
from shared.platform.messaging.offsets import PartitionLag, commit_offsets
from shared.platform.messaging.parsing import (
    BatchParser,
    ParsedBatch,
    parse_batch_lightly,
    undecoded,
)
from shared.platform.messaging.pipeline import BatchPipeline
from shared.platform.messaging.progress import ConsumerProgress
from shared.platform.messaging.rejects import DeadLetterer
from shared.platform.messaging.retry import BatchResult, TransientRetry
from shared.platform.messaging.tolerant_consumer import TolerantConsumer, use_tolerant_consumers
from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import Settings
from shared.platform.storage.uow import UnitOfWork, UnitOfWorkFactory

__all__ = ["BatchHandler", "EventConsumer", "Handler", "broker_dead_letter"]

log = logging.getLogger(__name__)


class EventConsumer:
    """Handlers for the event types one service consumes, and the machinery around them."""

    def __init__(
        self,
        settings: Settings,
        uow_factory: UnitOfWorkFactory,
        metrics: ServiceMetrics,
        dead_letter: Publish,
        *,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.uow_factory = uow_factory
        self.metrics = metrics
        self.name = name or settings.consumer_group
        # The Kafka consumers under this service's subscriptions (their fetches' health).
        self.kafka_consumers: list[TolerantConsumer] = []
        metrics.consumer_stalled.labels(self.name).set_function(
            lambda: 0.0 if self.stalled() is None else 1.0
        )
        self.handlers = Handlers(self.name)
        self.parser = BatchParser(self.handlers.by_type, settings.max_message_bytes)
        inbox = Inbox(settings.schema_name, self.name)
        self.retry = TransientRetry(settings, metrics, self.name)
        self.dead_letterer = DeadLetterer(
            DeadLetters(
                dead_letter,
                consumer_group=settings.consumer_group,
                max_bytes=settings.max_message_bytes,
            ),
            inbox,
            uow_factory,
            metrics,
            self.name,
        )
        self.lag = PartitionLag(metrics)
        self.applier = BatchApplier(
            settings,
            Dispatcher(self.handlers, inbox, uow_factory, metrics),
            self.dead_letterer,
            self.retry,
            uow_factory,
        )
        self._pipelines: list[BatchPipeline] = []

    # -- registration ---------------------------------------------------------------------------

    def on(self, event: type[D]) -> Callable[[Handler], Handler]:
        """Decorator: ``@consumer.on(LeadCreated)`` registers a handler for one event at a time."""

        def register(handler: Handler) -> Handler:
            self.handlers.one_by_one(event, handler)
            return handler

        return register

    def on_batch(self, *events: type[EventData]) -> Callable[[BatchHandler], BatchHandler]:
        """Decorator: like ``on`` but the handler receives a run of consecutive events of these
        types (of one tenant, in arrival order)."""

        def register(handler: BatchHandler) -> BatchHandler:
            for event in events:
                self.handlers.in_runs(event, handler)
            return handler

        return register

    @property
    def event_types(self) -> list[str]:
        return self.handlers.event_types

    def subscribe(self, broker: KafkaBroker | KafkaRouter, *topics: str) -> Any:
        """Attach a FastStream batch subscriber for ``topics`` with an explicit manual ack."""
        settings = self.settings
        pipeline = BatchPipeline(
            self, name=f"{self.name}#{len(self._pipelines) + 1}" if self._pipelines else None
        )
        self._pipelines.append(pipeline)

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
            # The platform reads headers and envelopes itself, per record (and dead-letters what
            # does not parse): FastStream's own per-record header dicts and body decoding would
            # cost as much as the rest.
            parser=parse_batch_lightly,
            decoder=undecoded,
            title=f"{self.name}:{','.join(topics)}",
            description="Events this service consumes: " + ", ".join(self.event_types),
        )
        async def on_batch(message: KafkaMessage) -> None:
            await pipeline.handle(message)

        return on_batch

    # -- lifecycle and health -------------------------------------------------------------------

    async def drain(self) -> None:
        """Stop taking batches and wait for the ones in flight (before the broker and the pool
        are closed): what is in its transaction commits; what comes after is delivered again."""
        for pipeline in self._pipelines:
            await pipeline.drain()

    def resume(self) -> None:
        """Take batches again (a platform started again after a stop)."""
        for pipeline in self._pipelines:
            pipeline.resume()

    @property
    def progress(self) -> list[ConsumerProgress]:
        """Each subscription's progress."""
        return [pipeline.progress for pipeline in self._pipelines]

    @property
    def last_failure(self) -> str:
        """The last reason a batch could not be applied (for readiness when it keeps happening)."""
        return self.retry.last_failure

    def stalled(self) -> str | None:
        """Why a subscription is not getting through its records (for readiness), or None:
        batches handed back in a row, a batch held too long, fetches failing for longer than
        ``consumer_stall_after_s`` / 6 (FastStream waits 5 s between tries), or records
        waiting that nothing takes for ``consumer_stall_after_s`` (a consume loop that ended)."""
        problems = [progress.problem() for progress in self.progress]
        limit = self.settings.consumer_stall_after_s / 6
        for kafka in self.kafka_consumers:
            failing = kafka.fetch_failing_for()
            if failing is not None and failing[0] > limit:
                problems.append(
                    f"stalled: fetching has failed for {failing[0]:.0f}s ({failing[1]})"
                )
            idle = kafka.idle_behind()
            if idle is not None and idle[1] > self.settings.consumer_stall_after_s:
                problems.append(
                    f"stalled: {idle[0]} records waiting and none taken for {idle[1]:.0f}s"
                )
        return "; ".join(problem for problem in problems if problem) or None

    def use_tolerant_consumers(self, broker: KafkaBroker) -> None:
        """Have ``broker`` (connected) build this service's Kafka consumers as
        ``TolerantConsumer``s that dead-letter through this consumer and report to it."""
        self.kafka_consumers.clear()
        use_tolerant_consumers(broker, self.dead_letter_unreadable, self.kafka_consumers)

    # -- what a pipeline asks of its consumer (``pipeline.BatchSource``) -------------------------

    def parse_batch(self, records: Sequence[ConsumerRecord]) -> ParsedBatch:
        return self.parser.parse_batch(records)

    async def open_transaction(self) -> UnitOfWork | None:
        """A batch transaction begun ahead of its batch, or None if the database cannot be
        reached right now (the batch's own attempt then waits and retries)."""
        try:
            return await self.uow_factory().open()
        except Exception as exc:
            log.debug("could not begin a batch transaction ahead", extra={"error": repr(exc)})
            return None

    async def apply_batch(
        self, batch: ParsedBatch, opened: UnitOfWork | None = None, *, suspect: bool = False
    ) -> BatchResult:
        return await self.applier.apply_batch(batch, opened, suspect=suspect)

    async def commit_offsets(self, kafka: Any, records: Sequence[ConsumerRecord]) -> None:
        await commit_offsets(
            kafka,
            records,
            timeout_s=self.settings.kafka_request_timeout_ms / 1000,
            lag=self.lag,
            consumer=self.name,
        )

    async def dead_letter_unreadable(
        self, topic: str, partition: int, offset: int, error: str
    ) -> None:
        await self.dead_letterer.unreadable(topic, partition, offset, error)


def broker_dead_letter(broker: KafkaBroker) -> Callable[..., Awaitable[Any]]:
    async def publish(
        topic: str, key: bytes | None, value: bytes | None, headers: dict[str, str]
    ) -> Any:
        return await broker.publish(value or b"", topic, key=key, headers=headers)

    return publish
