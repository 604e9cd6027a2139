"""Consumer side: apply other services' events exactly once, never lose one, never loop forever.

Guarantees, per batch that Kafka hands us:
- Every event id goes into the ``inbox`` table in the same transaction as its effects
  (``ON CONFLICT DO NOTHING``): a redelivered or re-published event changes nothing.
- One transaction per batch; Kafka offsets are committed only after it commits (manual ack,
  the batch's own offsets: never a position past a batch that is not applied).
- Batches are pipelined, one deep: while batch N's transaction runs, batch N+1 is fetched and
  parsed; N+1's statements run only once N has committed, so order per partition is kept. A
  batch handed back seeks back; records fetched before that seek wait for it (``BatchPipeline``).
- A transient failure (database or broker down) is retried with backoff, never dead-lettered.
  If it outlasts ``consumer_transient_budget_s`` the batch is handed back to Kafka (seek back) so
  the consumer keeps polling inside ``max_poll_interval_ms``; nothing is skipped.
- A message that cannot be parsed, or that fails schema validation, goes to ``<topic>.dlq`` at once.
  A handler failure that is not transient is isolated (the batch is re-run one event per
  transaction), retried ``consumer_max_attempts`` times with backoff, then dead-lettered and
  set aside in the inbox (its batch coming again skips it). The events around it are applied
  and the consumer moves on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from shared.contracts.base import EventData, model_for
from shared.platform.context import correlation_id_var, tenant_id_var
from shared.platform.messaging.dead_letter import DeadLetters, Publish, record_id
from shared.platform.messaging.envelope import Envelope, EventRejected
from shared.platform.messaging.progress import ConsumerProgress
from shared.platform.messaging.tolerant_consumer import TolerantConsumer, use_tolerant_consumers
from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import Settings
from shared.platform.storage.db import checked_schema, is_conflict, is_transient
from shared.platform.storage.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

D = TypeVar("D", bound=EventData)
Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
# A batch handler gets consecutive events of one type (in arrival order) and can write them with
# set-based statements; that is what keeps a busy consumer near the raw Kafka + Postgres floor.
BatchHandler = Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]


class BatchResult(enum.Enum):
    DONE = "done"  # commit offsets
    REQUEUE = "requeue"  # seek back: the whole batch comes again


class Incoming(NamedTuple):  # a named tuple: built once per consumed event, so cheaply
    record: ConsumerRecord
    envelope: Envelope
    data: EventData


@dataclass(frozen=True)
class ParsedBatch:
    """A batch as parsed, before anything is written: what to apply and what to dead-letter."""

    incoming: list[Incoming]
    rejected: list[tuple[ConsumerRecord, str]]


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
        self.dead_letters = DeadLetters(
            dead_letter,
            consumer_group=settings.consumer_group,
            max_bytes=settings.max_message_bytes,
        )
        self.name = name or settings.consumer_group
        # The last reason a batch could not be applied (for readiness when it keeps happening).
        self.last_failure = ""
        # The Kafka consumers under this service's subscriptions (their fetches' health).
        self.kafka_consumers: list[TolerantConsumer] = []
        metrics.consumer_stalled.labels(self.name).set_function(
            lambda: 0.0 if self.stalled() is None else 1.0
        )
        self._handlers: dict[str, BatchHandler] = {}
        self._pipelines: list[BatchPipeline] = []

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
            parser=_parse_batch_lightly,
            decoder=_undecoded,
            title=f"{self.name}:{','.join(topics)}",
            description="Events this service consumes: " + ", ".join(self.event_types),
        )
        async def on_batch(message: KafkaMessage) -> None:
            await pipeline.handle(message)

        return on_batch

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

    # -- the batch ------------------------------------------------------------------------------

    def parse_batch(self, records: Sequence[ConsumerRecord]) -> ParsedBatch:
        """Envelopes and payloads, validated; no I/O, so it can overlap the previous batch.

        The ``ce_type`` header says the type before the body is read, so an unwanted event is
        not parsed at all, and consecutive records of one wanted type are validated together
        (``Envelope.typed_batch_from_bytes``); a run with a bad record in it is validated again
        one record at a time, which names the bad one for the dead-letter topic.
        """
        batch = ParsedBatch([], [])
        run: list[ConsumerRecord] = []
        run_ids: list[str] = []
        run_type: str | None = None
        for record in records:
            declared, event_id = _type_and_id(record.headers)
            if declared is not None and declared not in self._handlers:
                if model_for(declared) is not None:
                    continue  # another consumer's business; nothing to record
                declared = None  # a type nobody publishes: the body decides what it is
            if declared != run_type or event_id is None:
                self._parse_run(run, run_ids, run_type, batch)
                run, run_ids, run_type = [], [], None
            if declared is None or event_id is None:
                self._parse_one(record, declared, batch)
                continue
            run.append(record)
            run_ids.append(event_id)
            run_type = declared
        self._parse_run(run, run_ids, run_type, batch)
        return batch

    def _parse_run(
        self,
        records: list[ConsumerRecord],
        ids: list[str],
        event_type: str | None,
        batch: ParsedBatch,
    ) -> None:
        if event_type is not None and len(records) > 1:
            envelopes = Envelope.typed_batch_from_bytes(
                [record.value for record in records],
                ids,
                self.settings.max_message_bytes,
                event_type,
            )
            if envelopes is not None:
                batch.incoming.extend(
                    Incoming(record, envelope, envelope.data)
                    for record, envelope in zip(records, envelopes, strict=True)
                )
                return
        for record in records:
            self._parse_one(record, event_type, batch)

    def _parse_one(self, record: ConsumerRecord, declared: str | None, batch: ParsedBatch) -> None:
        try:
            parsed = self._parse(record, declared)
        except EventRejected as exc:
            batch.rejected.append((record, str(exc)))
            return
        except Exception as exc:  # whatever else a record's bytes can trip: never the batch's
            batch.rejected.append((record, f"unreadable: {exc!r}"))
            return
        if parsed is not None:
            batch.incoming.append(parsed)

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
        """Dead-letter what did not parse, apply the rest in one transaction (``opened``, if
        begun ahead), retrying transient failures; isolate and dead-letter a poison event.

        ``suspect``: the batch keeps coming back without being applied (a record in it fails in
        a way that looks transient, every time): it goes straight to one event per transaction,
        and a transient failure of one event while the database answers counts as an attempt,
        so the record is dead-lettered after ``consumer_max_attempts`` instead of holding back
        its partition for good."""
        ahead = [opened] if opened is not None else []
        try:
            if batch.rejected:
                outcome = await self._with_transient_retry(
                    lambda: self._dead_letter_rejected(batch.rejected), batch.rejected[0][0].topic
                )
                if outcome is not BatchResult.DONE:
                    # Not dead-lettered (or not known to be): never commit past them.
                    return BatchResult.REQUEUE
            incoming = batch.incoming
            if not incoming:
                return BatchResult.DONE
            if not suspect:
                outcome = await self._with_transient_retry(
                    lambda: self._apply(incoming, ahead.pop() if ahead else None),
                    incoming[0].record.topic,
                )
                if outcome is not _FAILED:
                    return outcome
        finally:
            for unused in ahead:
                await unused.close()
        # Something in the batch fails for a non-transient reason: find it, one event at a time,
        # within the batch budget (a whole batch of failures must not outlast max_poll_interval;
        # what was applied stays applied, and the inbox skips it when the batch comes back).
        deadline = asyncio.get_running_loop().time() + self.settings.consumer_transient_budget_s
        for item in incoming:
            result = await self._apply_single(item, deadline, suspect=suspect)
            if result is BatchResult.REQUEUE:
                return result
        return BatchResult.DONE

    def _parse(self, record: ConsumerRecord, declared: str | None) -> Incoming | None:
        """The record as an envelope with its typed payload, or None if no handler wants it.

        ``declared`` is the record's ``ce_type`` header (the caller has checked that a handler
        wants it): the envelope and payload are then validated in one pass.
        """
        max_bytes = self.settings.max_message_bytes
        if declared is not None:
            envelope, data = Envelope.typed_from_bytes(record.value, max_bytes, declared)
            if envelope.type == declared:
                return Incoming(record, envelope, data)
        envelope = Envelope.from_bytes(record.value, max_bytes)  # no header, or it disagreed
        if envelope.type not in self._handlers:
            if model_for(envelope.type) is None:
                # Not a contract any service publishes (a typo, a producer ahead of this
                # release): kept in the DLQ for someone to look at, not silently skipped.
                raise EventRejected(f"event type {envelope.type!r} is not in the catalog")
            return None  # another consumer's business; nothing to record
        return Incoming(record, envelope, envelope.payload())

    async def _apply_single(
        self, item: Incoming, deadline: float, *, suspect: bool = False
    ) -> BatchResult:
        attempts = 0
        backoff = self.settings.consumer_retry_backoff_s
        topic = item.record.topic
        while True:
            attempts += 1
            error: list[BaseException] = []
            outcome = await self._with_transient_retry(
                lambda: self._apply([item]), topic, errors=error, once=suspect
            )
            if outcome is BatchResult.REQUEUE and suspect:
                if not is_conflict(error[-1]) and await self.database_answers():
                    outcome = _FAILED  # the database is fine: it is this event that fails
                else:  # the database is down after all: wait for it as usual
                    outcome = await self._with_transient_retry(
                        lambda: self._apply([item]), topic, errors=error
                    )
            if outcome is not _FAILED:
                return outcome
            if attempts >= self.settings.consumer_max_attempts:
                send = functools.partial(
                    self.dead_letter,
                    item.record,
                    "handler_failed",
                    repr(error[-1]),
                    attempts=attempts,
                )
                dead_lettered = await self._with_transient_retry(send, topic)
                if dead_lettered is not BatchResult.DONE:
                    return BatchResult.REQUEUE  # not in the DLQ: never commit past it
                # Into the inbox, as done with: when its batch comes again (handed back before
                # the isolation got through it), it is skipped instead of dead-lettered again,
                # so a batch with many failing events gets past them.
                outcome = await self._with_transient_retry(lambda: self._set_aside(item), topic)
                return BatchResult.REQUEUE if outcome is BatchResult.REQUEUE else BatchResult.DONE
            self.metrics.consumer_retries.labels(topic, "failure").inc()
            if asyncio.get_running_loop().time() + backoff > deadline:
                return BatchResult.REQUEUE
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.settings.consumer_retry_backoff_max_s)

    async def database_answers(self) -> bool:
        """Whether the database takes a new connection and a query right now."""
        try:
            async with self.uow_factory() as uow:
                driver = await uow.driver_connection()
                await asyncio.wait_for(driver.fetchval("SELECT 1"), timeout=2)
            return True
        except Exception:
            return False

    async def _with_transient_retry(
        self,
        attempt: Callable[[], Awaitable[Any]],
        topic: str,
        errors: list[BaseException] | None = None,
        *,
        once: bool = False,
    ) -> Any:
        """Run ``attempt`` until it succeeds (``DONE``), fails for a non-transient reason
        (``_FAILED``), or transient failures outlast the batch budget (``REQUEUE``; with
        ``once``, at the first transient failure)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.consumer_transient_budget_s
        backoff = self.settings.consumer_retry_backoff_s
        while True:
            try:
                await attempt()
                return BatchResult.DONE
            except Exception as exc:
                if errors is not None:
                    errors.append(exc)
                if not is_transient(exc):
                    log.warning(
                        "event handling failed", exc_info=True, extra={"consumer": self.name}
                    )
                    self.last_failure = repr(exc)
                    return _FAILED
                self.last_failure = f"transient: {exc!r}"
                self.metrics.consumer_retries.labels(topic, "transient").inc()
                if once or loop.time() + backoff > deadline:
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

    async def _apply(self, items: Sequence[Incoming], opened: UnitOfWork | None = None) -> None:
        async with opened or self.uow_factory() as uow:
            applied = await self._into_inbox(uow, items)
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

    async def _into_inbox(self, uow: UnitOfWork, items: Sequence[Incoming]) -> list[Incoming]:
        """Record the events in the inbox; the ones not seen before, in order."""
        fresh = await self._remember(
            uow,
            [
                (
                    envelope.id,
                    envelope.type,
                    envelope.tenant_id,
                    record.topic,
                    record.partition,
                    record.offset,
                )
                for record, envelope, _ in items
            ],
        )
        if len(fresh) == len(items):
            return list(items)  # the usual case: every event is new
        new_ids = {row[0] for row in fresh}
        applied = []
        for item in items:
            if item.envelope.id in new_ids:
                new_ids.discard(item.envelope.id)  # a second copy in a batch is a duplicate
                applied.append(item)
        return applied

    async def _remember(self, uow: UnitOfWork, rows: Sequence[InboxRow]) -> list[Any]:
        """Insert inbox rows (one statement of column arrays, whatever the batch size, so it is
        prepared once); the rows of the ids that were not there yet."""
        driver = await uow.driver_connection()
        return await driver.fetch(self._inbox_insert, self.name, *zip(*rows, strict=True))

    async def _set_aside(self, item: Incoming) -> None:
        async with self.uow_factory() as uow:
            await self._into_inbox(uow, [item])
            await uow.commit()

    async def dead_letter_unreadable(
        self, topic: str, partition: int, offset: int, error: str
    ) -> None:
        """A record the Kafka client library cannot read (``TolerantConsumer``): a stub with
        its coordinates, once."""
        record = ConsumerRecord(topic, partition, offset, -1, -1, None, None, None, -1, -1, ())
        await self._dead_letter_rejected(
            [(record, error)],
            reason="unreadable",
            stub_why="the Kafka client cannot read the record (at or after this offset)",
        )

    async def _dead_letter_rejected(
        self,
        rejected: Sequence[tuple[ConsumerRecord, str]],
        *,
        reason: str = "rejected",
        stub_why: str | None = None,
    ) -> None:
        """Dead-letter records that cannot be read, once each: the inbox remembers them by
        where they sit in Kafka, so a batch handed back (the database or the broker down) and
        delivered again does not send them a second time."""
        ids = [record_id(record) for record, _ in rejected]
        async with self.uow_factory() as uow:
            driver = await uow.driver_connection()
            sent = {
                row[0]
                for row in await driver.fetch(
                    f'SELECT event_id FROM "{checked_schema(self.settings.schema)}".inbox '
                    "WHERE consumer = $1 AND event_id = ANY($2::uuid[])",
                    self.name,
                    ids,
                )
            }
        for (record, error), event_id in zip(rejected, ids, strict=True):
            if event_id not in sent:
                await self.dead_letter(record, reason, error, attempts=1, stub_why=stub_why)
        async with self.uow_factory() as uow:
            await self._remember(
                uow,
                [
                    (event_id, REJECTED, "", record.topic, record.partition, record.offset)
                    for (record, _), event_id in zip(rejected, ids, strict=True)
                ],
            )
            await uow.commit()

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
        self,
        record: ConsumerRecord,
        reason: str,
        error: str,
        *,
        attempts: int,
        stub_why: str | None = None,
    ) -> None:
        """Send ``record`` to its topic's DLQ (itself, or a stub when it cannot go as it is).
        Waits for the broker's ack: the offset is committed only after the DLQ has it."""
        whole = await self.dead_letters.send(
            record, reason, error, attempts=attempts, stub_why=stub_why
        )
        self.metrics.dead_letters.labels(record.topic, reason).inc()
        log.error(
            "message dead-lettered" if whole else "message dead-lettered as a stub",
            extra={
                "consumer": self.name,
                "topic": record.topic,
                "reason": reason,
                "partition": record.partition,
                "offset": record.offset,
                "error": error[:2000],
            },
        )

    async def commit_offsets(self, kafka: Any, records: Sequence[ConsumerRecord]) -> None:
        """Commit the offsets after ``records`` (their own, not the consumer's position, which
        may already be past the next batch), then report the lag behind each partition."""
        last: dict[TopicPartition, int] = {}
        for record in records:
            last[TopicPartition(record.topic, record.partition)] = record.offset
        # A partition a rebalance took away is its new owner's to commit (aiokafka refuses the
        # whole commit if one partition is not assigned, and the others would be left behind).
        assigned = kafka.assignment()
        offsets = {p: offset + 1 for p, offset in last.items() if p in assigned}
        try:
            if offsets:
                # Bounded: aiokafka retries a commit for as long as Kafka is unreachable, and a
                # stopping service waits for this batch.
                await asyncio.wait_for(
                    kafka.commit(offsets), timeout=self.settings.kafka_request_timeout_ms / 1000
                )
        except (KafkaError, TimeoutError) as exc:
            # A rebalance took the partitions away: the new owner re-reads from the last commit,
            # and the inbox turns that redelivery into no-ops.
            log.warning(
                "offset commit failed; redelivery will be absorbed by the inbox",
                extra={"consumer": self.name, "error": repr(exc)},
            )
        for partition, offset in last.items():
            try:
                highwater = kafka.highwater(partition)
            except Exception:  # consumer gone or partition revoked
                continue
            if highwater is not None:
                self.metrics.consumer_lag.labels(partition.topic, str(partition.partition)).set(
                    max(highwater - offset - 1, 0)
                )


_FAILED = object()
# The inbox's event type for a record dead-lettered unread (its id comes from its coordinates).
REJECTED = "roofline.rejected"
InboxRow = tuple[uuid.UUID, str, str, str, int, int]


class BatchPipeline:
    """One subscription's batches, pipelined one deep.

    FastStream hands over batch N+1 as soon as ``handle`` returns for batch N. ``handle`` parses
    N+1 and begins its transaction while N's transaction runs, then waits for N before it starts
    N+1's, so Python and PostgreSQL work at the same time and order per partition holds. Each
    batch commits its own offsets after its transaction (FastStream's ``ack()`` would commit the
    consumer's position, already past N+1).

    A batch handed back (its transaction could not finish in time, or failed unexpectedly) seeks
    its partitions to its first offsets at once. N+1 may have been fetched before that seek: its
    records of a sought partition are then behind the consumer's position again, and are dropped
    (Kafka delivers them again after N's). Judged by the position, not by offsets, so gaps in a
    partition (compaction, retention, transaction markers) and rebalances need no bookkeeping.
    """

    def __init__(self, consumer: EventConsumer, *, name: str | None = None) -> None:
        self.consumer = consumer
        settings = consumer.settings
        self.progress = ConsumerProgress(
            name or consumer.name,
            consumer.metrics,
            stall_handbacks=settings.consumer_stall_handbacks,
            stall_after_s=settings.consumer_stall_after_s,
        )
        self._in_flight: tuple[asyncio.Task[None], Records] | None = None
        self._settling = asyncio.Lock()
        self._closing = False

    async def handle(self, message: Any) -> None:
        if self._closing:
            return  # stopping: not applied, not committed, delivered again after a restart
        records: Records = message.raw_message
        if not isinstance(records, tuple):
            records = (records,)
        kafka = message.consumer
        batch = self.consumer.parse_batch(records)  # CPU, while the batch in flight waits on I/O
        opened = await self.consumer.open_transaction() if batch.incoming else None
        try:
            await self.settle()
            if self._closing:
                return
            records, batch = await _without_stale(kafka, records, batch)
            if records:
                task = asyncio.create_task(
                    self._apply(kafka, records, batch, opened), name=f"batch-{self.consumer.name}"
                )
                self._in_flight, opened = (task, records), None  # the task owns it now
        finally:
            if opened is not None:
                await opened.close()

    async def settle(self) -> None:
        """Wait for the batch in flight to commit or be handed back. Shielded: a cancelled
        caller (the broker stopping) leaves the transaction to finish, and ``drain`` waits."""
        async with self._settling:
            if self._in_flight is None:
                return
            task = self._in_flight[0]
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.done():
                    raise  # the caller was cancelled, not the batch
            except Exception:  # logged by the task, which sought its records back
                pass
            self._in_flight = None

    async def drain(self) -> None:
        """Stop taking batches and wait for the one in flight."""
        self._closing = True
        await self.settle()

    def resume(self) -> None:
        self._closing = False

    async def _apply(
        self, kafka: Any, records: Records, batch: ParsedBatch, opened: UnitOfWork | None
    ) -> None:
        self.progress.started()
        try:
            result = await self.consumer.apply_batch(batch, opened, suspect=self.progress.suspect)
        except BaseException as exc:
            log.exception("batch failed; handing it back", extra={"consumer": self.consumer.name})
            self._hand_back(kafka, records, repr(exc))
            raise
        if result is BatchResult.REQUEUE:
            self._hand_back(kafka, records, self.consumer.last_failure)
        else:
            await self.consumer.commit_offsets(kafka, records)
            self.progress.applied()

    def _hand_back(self, kafka: Any, records: Records, reason: str) -> None:
        self.consumer.metrics.batches_handed_back.labels(records[0].topic).inc()
        self.progress.handed_back(reason)
        for partition, offset in _first_offsets(records).items():
            try:
                kafka.seek(partition, offset)
            except Exception as exc:  # revoked meanwhile: the new owner reads from the commit
                log.warning(
                    "could not seek back", extra={"partition": str(partition), "error": repr(exc)}
                )


async def _without_stale(
    kafka: Any, records: Records, batch: ParsedBatch
) -> tuple[Records, ParsedBatch]:
    """Drop the records the consumer's position has gone back over since they were fetched (a
    batch before them was handed back, or a rebalance reset the partition) or that are no longer
    this consumer's: Kafka delivers them again, in order, to whoever owns them."""
    stale: set[TopicPartition] = set()
    for partition, first in _first_offsets(records).items():
        try:
            position = await kafka.position(partition)
        except KafkaError:  # revoked since the fetch (IllegalStateError), or in a rebalance
            stale.add(partition)
            continue
        if position <= first:
            stale.add(partition)
    if not stale:
        return records, batch

    def fresh(record: ConsumerRecord) -> bool:
        return TopicPartition(record.topic, record.partition) not in stale

    return tuple(filter(fresh, records)), ParsedBatch(
        [item for item in batch.incoming if fresh(item.record)],
        [(record, why) for record, why in batch.rejected if fresh(record)],
    )


Records = Sequence[ConsumerRecord]


def _first_offsets(records: Records) -> dict[TopicPartition, int]:
    first: dict[TopicPartition, int] = {}
    for record in records:
        first.setdefault(TopicPartition(record.topic, record.partition), record.offset)
    return first


async def _parse_batch_lightly(records: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's message for a batch, built from its first record only, without headers:
    its batch parser decodes every record's headers into a dict, which the platform does not
    read, and strictly (a header value that is not UTF-8 raised there, and FastStream dropped
    the whole batch unapplied and uncommitted)."""
    message = await original((dataclasses.replace(records[0], headers=()),))
    message.raw_message = records
    return message


async def _undecoded(message: Any) -> Any:
    return message.raw_message


def _type_and_id(
    headers: Sequence[tuple[str, bytes | None]],
) -> tuple[str | None, str | None]:
    """The ``ce_type`` and ``ce_id`` headers, if the producer set them (a plain loop: this runs
    for every record, and a generator per lookup cost more than the rest of the scan)."""
    event_type = event_id = None
    for key, value in headers:
        if value is None:
            continue
        if key == "ce_type":
            event_type = value.decode(errors="replace")
        elif key == "ce_id":
            event_id = value.decode(errors="replace")
    return event_type, event_id


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
