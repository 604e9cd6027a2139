"""The Kafka consumer under every subscription: one that gets past records the client library
itself cannot read.

aiokafka decodes header *names* as UTF-8 while it unpacks a fetch. A record whose header name is
not UTF-8 (Kafka's protocol allows any bytes; librdkafka or a hand-built producer can write one)
makes ``getmany`` raise ``UnicodeDecodeError`` at the same position every time, and FastStream's
consume loop, which expects only ``KafkaError``, ends with it: the subscription stops for good
while the service still answers ready. ``TolerantConsumer`` catches such a failure (anything but a
``KafkaError``): every partition goes back to where it was before the failed call (what the
call took from them was lost with it), and the partition that stopped on a record is read one
record at a time, so the records before it are delivered and its position lands exactly on it;
then the record is dead-lettered as a stub (its coordinates and the error: nothing of it can be
read) and sought past. If the record cannot be located, or the dead letter cannot be written,
the failure is raised as a ``KafkaError``: FastStream waits and tries again.

It reads two pieces of aiokafka's state that have no public API (the fetcher's buffered
partition records, the subscription's positions); ``pyproject.toml`` pins aiokafka below 0.15,
and the poison-corpus test on the real broker fails if their shape changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiokafka
from aiokafka import TopicPartition
from aiokafka.errors import ConsumerStoppedError, KafkaError

log = logging.getLogger(__name__)

# (topic, partition, offset, error): dead-letter what could not be read; raises if it cannot.
OnUnreadable = Callable[[str, int, int, str], Awaitable[None]]


# Records returned per call while reading a partition carefully (one fetch read at a time).
CAREFUL_BATCH = 500


class UnreadableRecord(KafkaError):
    """A record the client library cannot read could not be got past (yet)."""


class TolerantConsumer(aiokafka.AIOKafkaConsumer):
    def __init__(self, *args: Any, on_unreadable: OnUnreadable, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_unreadable = on_unreadable
        # Partitions with a record that cannot be read ahead: read one record at a time (each
        # read moves the position) until it is reached, so the records before it are kept.
        self._careful: set[TopicPartition] = set()
        # Times the same position was found unreadable: each time one offset further, so a gap
        # in the partition's offsets (compaction, transaction markers) cannot hold us there.
        self._tries: dict[tuple[TopicPartition, int], int] = {}

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[aiokafka.ConsumerRecord]]:
        self._careful &= self.assignment()
        if self._careful:
            return await self._read_carefully(timeout_ms, max_records or CAREFUL_BATCH)
        before = self._positions()
        try:
            return await super().getmany(
                *partitions, timeout_ms=timeout_ms, max_records=max_records
            )
        except (KafkaError, ConsumerStoppedError):
            raise
        except Exception as exc:
            # What the failed call took was lost with it: every partition goes back to where
            # it was, and the ones that stopped on a record are read carefully up to it.
            for tp, position in before.items():
                if self._positions().get(tp, position) != position:
                    self.seek(tp, position)
            unreadable = self._unreadable()
            if not unreadable:
                raise UnreadableRecord(f"a fetch could not be read: {exc!r}") from exc
            for tp in unreadable:
                if tp in before:
                    self.seek(tp, before[tp])
            self._careful |= unreadable
            return {}

    async def _read_carefully(
        self, timeout_ms: int, max_records: int
    ) -> dict[TopicPartition, list[aiokafka.ConsumerRecord]]:
        tp = min(self._careful)
        records: list[aiokafka.ConsumerRecord] = []
        while len(records) < max_records:
            try:
                got = await super().getmany(
                    tp, timeout_ms=0 if records else timeout_ms, max_records=1
                )
            except (KafkaError, ConsumerStoppedError):
                raise
            except Exception as exc:
                await self._get_past(tp, exc)
                break
            if not got:
                break  # nothing fetched yet: what we have now, the rest on the next call
            records.extend(got[tp])
        return {tp: records} if records else {}

    async def _get_past(self, tp: TopicPartition, exc: Exception) -> None:
        """The record at ``tp``'s position cannot be read: dead-letter a stub, seek past it."""
        offset = self._positions()[tp]
        tries = self._tries.get((tp, offset), 0) + 1
        self._tries[(tp, offset)] = tries
        try:
            await self._on_unreadable(tp.topic, tp.partition, offset, repr(exc))
        except Exception as failed:
            raise UnreadableRecord(
                f"{tp.topic}[{tp.partition}]@{offset} cannot be read and could not be "
                f"dead-lettered: {failed!r}"
            ) from failed
        log.error(
            "record the Kafka client cannot read: dead-lettered as a stub and skipped",
            extra={"topic": tp.topic, "partition": tp.partition, "offset": offset},
        )
        self.seek(tp, offset + tries)
        self._careful.discard(tp)
        if len(self._tries) > 1000:  # only a record still being got past needs remembering
            self._tries.clear()

    def _positions(self) -> dict[TopicPartition, int]:
        """Each assigned partition's position, where it has one (no I/O)."""
        subscription = self._subscription.subscription
        if subscription is None or subscription.assignment is None:
            return {}
        assignment = subscription.assignment
        positions = {}
        for tp in assignment.tps:
            state = assignment.state_value(tp)
            if state.has_valid_position:
                positions[tp] = state.position
        return positions

    def _unreadable(self) -> set[TopicPartition]:
        """The partitions whose buffered records stopped on an error: a record-unpacking
        generator that ended without being exhausted."""
        found = set()
        for tp, result in list(self._fetcher._records.items()):
            records = getattr(result, "_partition_records", None)
            iterator = getattr(records, "_records_iterator", None)
            if iterator is not None and getattr(iterator, "gi_frame", True) is None:
                found.add(tp)
        return found


def use_tolerant_consumers(broker: Any, on_unreadable: OnUnreadable) -> None:
    """Make the (connected) FastStream broker build its subscriptions' consumers as
    ``TolerantConsumer``s. Call after ``broker.connect()`` (which sets the builder), before
    ``broker.start()`` (which builds the consumers)."""
    config = broker.config.broker_config
    original = config.builder
    if not isinstance(original, partial):
        raise TypeError(f"unexpected consumer builder {original!r}")
    config.builder = partial(
        TolerantConsumer, *original.args, on_unreadable=on_unreadable, **original.keywords
    )
