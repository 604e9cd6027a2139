"""One subscription's batches, pipelined one deep, with their own offsets and hand-backs.

FastStream hands over batch N+1 as soon as the handler returns for batch N; the pipeline parses
N+1 and begins its transaction while N's runs, and only then waits for N, so Python and
PostgreSQL work at the same time while order per partition holds. It needs of the consumer only
what ``BatchSource`` names (parse, open a transaction, apply, commit offsets), so it is tested
with the consumer's transactions scripted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from aiokafka import ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared.platform.messaging.offsets import Records, first_offsets
from shared.platform.messaging.parsing import ParsedBatch
from shared.platform.messaging.progress import ConsumerProgress
from shared.platform.messaging.retry import BatchResult
from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import Settings
from shared.platform.storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class BatchSource(Protocol):
    """What a pipeline needs of its consumer (``EventConsumer``)."""

    settings: Settings
    metrics: ServiceMetrics
    name: str

    @property
    def last_failure(self) -> str: ...

    def parse_batch(self, records: Records) -> ParsedBatch: ...

    async def open_transaction(self) -> UnitOfWork | None: ...

    async def apply_batch(
        self, batch: ParsedBatch, opened: UnitOfWork | None = None, *, suspect: bool = False
    ) -> BatchResult: ...

    async def commit_offsets(self, kafka: Any, records: Records) -> None: ...


class BatchPipeline:
    """One subscription's batches, pipelined one deep.

    FastStream hands over batch N+1 as soon as ``handle`` returns for batch N. ``handle`` parses
    N+1 and begins its transaction while N's transaction runs, then waits for N before it starts
    N+1's, so Python and PostgreSQL work at the same time and order per partition holds. Each
    batch commits its own offsets after its transaction (FastStream's ``ack()`` would commit the
    consumer's position, already past N+1), and after the previous batch's offsets; N+1's
    transaction waits for N's transaction only, not for N's offset commit (a broker round trip
    that no longer holds up the next batch).

    A batch handed back (its transaction could not finish in time, or failed unexpectedly) seeks
    its partitions to its first offsets at once. N+1 may have been fetched before that seek: its
    records of a sought partition are then behind the consumer's position again, and are dropped
    (Kafka delivers them again after N's). Judged by the position, not by offsets, so gaps in a
    partition (compaction, retention, transaction markers) and rebalances need no bookkeeping.
    """

    def __init__(self, consumer: BatchSource, *, name: str | None = None) -> None:
        self.consumer = consumer
        settings = consumer.settings
        self.progress = ConsumerProgress(
            name or consumer.name,
            consumer.metrics,
            stall_handbacks=settings.consumer_stall_handbacks,
            stall_after_s=settings.consumer_stall_after_s,
        )
        # The last batch taken: its task (transaction, then offset commit) and an event set
        # once its transaction is over (applied or handed back).
        self._in_flight: tuple[asyncio.Task[None], asyncio.Event] | None = None
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
            previous = await self.transaction_over()
            if self._closing:
                return
            records, batch = await without_stale(kafka, records, batch)
            if records:
                over = asyncio.Event()
                task = asyncio.create_task(
                    self._apply(kafka, records, batch, opened, previous, over),
                    name=f"batch-{self.consumer.name}",
                )
                # Its failure is logged by the task itself (and its records sought back); a batch
                # whose successor was dropped as stale may never be awaited before the next settle.
                task.add_done_callback(_retrieve_failure)
                self._in_flight, opened = (task, over), None  # the task owns it now
        finally:
            if opened is not None:
                await opened.close()

    async def transaction_over(self) -> asyncio.Task[None] | None:
        """Wait until the batch in flight has committed its transaction or been handed back
        (what the next batch's transaction waits for); its task, which may still be committing
        its offsets (the next batch commits its own only after that)."""
        if self._in_flight is None:
            return None
        task, over = self._in_flight
        await over.wait()  # a cancelled caller leaves the batch's task alone
        return task

    async def settle(self) -> None:
        """Wait for the batch in flight to commit (transaction and offsets: each batch's task
        waits for the one before it) or be handed back. Shielded: a cancelled caller (the
        broker stopping) leaves the transaction to finish, and ``drain`` waits."""
        async with self._settling:
            if self._in_flight is None:
                return
            task = self._in_flight[0]
            await _finished(task)
            self._in_flight = None

    async def drain(self) -> None:
        """Stop taking batches and wait for the one in flight."""
        self._closing = True
        await self.settle()

    def resume(self) -> None:
        self._closing = False

    async def _apply(
        self,
        kafka: Any,
        records: Records,
        batch: ParsedBatch,
        opened: UnitOfWork | None,
        previous: asyncio.Task[None] | None,
        over: asyncio.Event,
    ) -> None:
        """Apply the batch; once its transaction is over, let the next batch begin its own
        (``over``) while this one commits its offsets, after the previous batch's offsets
        (``previous``): offsets are committed in batch order, each after its transaction."""
        self.progress.started()
        try:
            try:
                result = await self.consumer.apply_batch(
                    batch, opened, suspect=self.progress.suspect
                )
            except BaseException as exc:
                log.exception(
                    "batch failed; handing it back", extra={"consumer": self.consumer.name}
                )
                self._hand_back(kafka, records, repr(exc))
                raise
            if result is BatchResult.REQUEUE:
                self._hand_back(kafka, records, self.consumer.last_failure)
            else:
                self.progress.applied()
        finally:
            over.set()
            if previous is not None:
                await _finished(previous)
        if result is not BatchResult.REQUEUE:
            await self.consumer.commit_offsets(kafka, records)

    def _hand_back(self, kafka: Any, records: Records, reason: str) -> None:
        self.consumer.metrics.batches_handed_back.labels(records[0].topic).inc()
        self.progress.handed_back(reason)
        for partition, offset in first_offsets(records).items():
            try:
                kafka.seek(partition, offset)
            except Exception as exc:  # revoked meanwhile: the new owner reads from the commit
                log.warning(
                    "could not seek back", extra={"partition": str(partition), "error": repr(exc)}
                )


def _retrieve_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()


async def _finished(task: asyncio.Task[None]) -> None:
    """Wait for a batch's task, shielded (a cancelled caller leaves it to finish), without its
    failure: the task logged it and sought its records back."""
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            raise  # the caller was cancelled, not the batch
    except Exception:
        pass


async def without_stale(
    kafka: Any, records: Records, batch: ParsedBatch
) -> tuple[Records, ParsedBatch]:
    """Drop the records the consumer's position has gone back over since they were fetched (a
    batch before them was handed back, or a rebalance reset the partition) or that are no longer
    this consumer's: Kafka delivers them again, in order, to whoever owns them."""
    stale: set[TopicPartition] = set()
    for partition, first in first_offsets(records).items():
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
