"""Dead-lettering from a consumer: logged and counted, and each unreadable record only once.

``dead_letter.DeadLetters`` makes sure the DLQ gets *something* for any record; this module is
the consumer's side of it: the metric and the log line for every dead letter, and for records
that cannot be read (no envelope, no id), memory in the inbox by their Kafka coordinates, so a
batch handed back (the database or the broker down) and delivered again does not send them to
the DLQ a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiokafka import ConsumerRecord

from shared.platform.messaging.dead_letter import DeadLetters, record_id
from shared.platform.messaging.inbox import REJECTED, Inbox
from shared.platform.metrics import ServiceMetrics
from shared.platform.storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


class DeadLetterer:
    def __init__(
        self,
        dead_letters: DeadLetters,
        inbox: Inbox,
        uow_factory: UnitOfWorkFactory,
        metrics: ServiceMetrics,
        consumer: str,
    ) -> None:
        self.dead_letters = dead_letters
        self.inbox = inbox
        self.uow_factory = uow_factory
        self.metrics = metrics
        self.consumer = consumer

    async def send(
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
                "consumer": self.consumer,
                "topic": record.topic,
                "reason": reason,
                "partition": record.partition,
                "offset": record.offset,
                "error": error[:2000],
            },
        )

    async def rejected(
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
            sent = await self.inbox.known(uow, ids)
        for (record, error), event_id in zip(rejected, ids, strict=True):
            if event_id not in sent:
                await self.send(record, reason, error, attempts=1, stub_why=stub_why)
        async with self.uow_factory() as uow:
            await self.inbox.remember(
                uow,
                [
                    (event_id, REJECTED, "", record.topic, record.partition, record.offset)
                    for (record, _), event_id in zip(rejected, ids, strict=True)
                ],
            )
            await uow.commit()

    async def unreadable(self, topic: str, partition: int, offset: int, error: str) -> None:
        """A record the Kafka client library cannot read (``TolerantConsumer``): a stub with
        its coordinates, once."""
        record = ConsumerRecord(topic, partition, offset, -1, -1, None, None, None, -1, -1, ())
        await self.rejected(
            [(record, error)],
            reason="unreadable",
            stub_why="the Kafka client cannot read the record (at or after this offset)",
        )
