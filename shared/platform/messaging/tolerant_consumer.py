"""The Kafka consumer under every subscription: one that gets past records the client library
itself cannot unpack.

aiokafka decodes header *names* as UTF-8 while it unpacks a fetch. A record whose header name is
not UTF-8 (Kafka's protocol allows any bytes; librdkafka or a hand-built producer can write one)
makes ``getmany`` raise ``UnicodeDecodeError`` at the same position every time (and for every
record after it in the same record batch: the library unpacks a batch from its start), and
FastStream's consume loop, which expects only ``KafkaError``, ends with it: the subscription
stops for good while the service still answers ready.

``TolerantConsumer`` catches such a failure (anything but a ``KafkaError``): every partition goes
back to where it was before the failed call (what the call took from them was lost with it),
and the partition that stopped is read one record at a time, so the records before the bad one
are delivered and its position lands on it. Then that record batch is fetched again and read by
a lenient copy of the library's own pure-Python parser (header names decoded with replacement),
and its records from the position on are delivered like any others: the platform judges them
(a valid event is applied; anything else dead-lettered with its content). Only if that cannot be
done is the record dead-lettered as a stub (coordinates and error) and sought past. If the dead
letter cannot be written either, the failure is raised as a ``KafkaError``: FastStream waits
and tries again, and the consumer reports fetches failing.

It uses aiokafka's state and classes that have no public API (the fetcher's buffered partition
records, the subscription's positions, the pure-Python record batch, the fetch request);
``pyproject.toml`` pins aiokafka below 0.15, and the poison-corpus test on the real broker fails
if their shape changes.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiokafka
from aiokafka import TopicPartition
from aiokafka.errors import ConsumerStoppedError, KafkaError
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.default_records import _DefaultRecordBatchPy

log = logging.getLogger(__name__)

# (topic, partition, offset, error): dead-letter what could not be read; raises if it cannot.
OnUnreadable = Callable[[str, int, int, str], Awaitable[None]]


# Records returned per call while reading a partition carefully (one fetch read at a time).
CAREFUL_BATCH = 500
READ_UNCOMMITTED = 0
LENIENT_FETCH_WAIT_MS = 500


class UnreadableRecord(KafkaError):
    """A record the client library cannot read could not be got past (yet)."""


class TolerantConsumer(aiokafka.AIOKafkaConsumer):
    def __init__(self, *args: Any, on_unreadable: OnUnreadable, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_unreadable = on_unreadable
        # Partitions with a record that cannot be read ahead: read one record at a time (each
        # read moves the position) until it is reached, so the records before it are kept.
        self._careful: set[TopicPartition] = set()
        # Seeks per partition: a failed fetch puts back only the partitions nobody sought while
        # it waited (a batch handed back, a rebalance), never over their new position.
        self._seeks: dict[TopicPartition, int] = {}
        # Why fetches fail, and since when (None while they go through).
        self.fetch_failing: str | None = None
        self._failing_since: float | None = None
        # Positions when last seen moving (or with nothing to read), for ``idle_behind``.
        self._last_positions: dict[TopicPartition, int] = {}
        self.clock = time.monotonic
        self._moved_at = self.clock()

    def fetch_failing_for(self) -> tuple[float, str] | None:
        """(seconds, why) while fetches keep failing; None while they go through."""
        if self.fetch_failing is None:
            self._failing_since = None
            return None
        now = self.clock()
        if self._failing_since is None:
            self._failing_since = now
        return now - self._failing_since, self.fetch_failing

    def behind(self, positions: dict[TopicPartition, int] | None = None) -> int:
        """Records on the assigned partitions past this consumer's positions, by the high
        watermarks of the last fetch responses."""
        behind = 0
        for tp, position in (self._positions() if positions is None else positions).items():
            highwater = self.highwater(tp)
            if highwater is not None:
                behind += max(highwater - position, 0)
        return behind

    def idle_behind(self) -> tuple[int, float] | None:
        """(records behind, seconds) while the partitions have records waiting (by the
        high watermarks the background fetcher keeps) and no position has moved: the consume
        loop is not taking what is there. None while it keeps up or moves."""
        positions = self._positions()
        behind = self.behind(positions)
        now = self.clock()
        if behind == 0 or positions != self._last_positions:
            self._last_positions, self._moved_at = positions, now
            return None
        return behind, now - self._moved_at

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self._seeks[partition] = self._seeks.get(partition, 0) + 1
        super().seek(partition, offset)

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> dict[TopicPartition, list[aiokafka.ConsumerRecord]]:
        self._careful &= self.assignment()
        if self._careful:
            return await self._read_carefully(timeout_ms, max_records or CAREFUL_BATCH)
        before, seeks = self._positions(), dict(self._seeks)
        try:
            records = await super().getmany(
                *partitions, timeout_ms=timeout_ms, max_records=max_records
            )
        except ConsumerStoppedError:
            raise
        except KafkaError as exc:
            self.fetch_failing = repr(exc)
            raise
        except Exception as exc:
            # What the failed call took was lost with it: every partition goes back to where
            # it was (unless sought meanwhile), and the ones that stopped on a record are read
            # carefully up to it.
            unreadable = self._unreadable()
            now = self._positions()
            for tp in now:
                if self._seeks.get(tp, 0) != seeks.get(tp, 0):
                    continue  # sought meanwhile (a hand-back, a rebalance): that one stands
                # A partition first positioned during the call started where the group left it.
                position = before[tp] if tp in before else await self._starting_position(tp)
                if position is not None and (now[tp] != position or tp in unreadable):
                    self.seek(tp, position)
            if not unreadable:
                self.fetch_failing = f"a fetch could not be read: {exc!r}"
                raise UnreadableRecord(self.fetch_failing) from exc
            self._careful |= unreadable
            return {}
        self.fetch_failing = None
        return records

    async def _starting_position(self, tp: TopicPartition) -> int | None:
        """Where a newly assigned partition starts: the group's committed offset, else the
        beginning (the platform's consumers reset to the earliest offset)."""
        committed = await self.committed(tp)
        if committed is not None:
            return int(committed)
        if self._auto_offset_reset != "earliest":
            return None
        return int((await self.beginning_offsets([tp]))[tp])

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
                if not records:  # the record at the position is the one: get past it
                    records = await self._get_past(tp, exc)
                break  # else deliver the ones before it first; it fails again next time
            if not got:
                break  # nothing fetched yet: what we have now, the rest on the next call
            records.extend(got[tp])
            self.fetch_failing = None
        return {tp: records} if records else {}

    async def _get_past(self, tp: TopicPartition, exc: Exception) -> list[aiokafka.ConsumerRecord]:
        """The record batch at ``tp``'s position cannot be unpacked by the client library.

        It is fetched again and read by a lenient copy of the library's own parser (header names
        that are not UTF-8 replaced, like header values elsewhere): its records from the position
        on are delivered as any others (the platform judges them: a valid event is applied, a
        bad one dead-lettered with its content) and the position moves past the batch. Only if
        that cannot be done either is the record at the position dead-lettered as a stub (its
        coordinates; the original stays on the topic), and sought past, one record at a time."""
        offset = self._positions()[tp]
        try:
            read = await self._read_leniently(tp, offset)
        except Exception:
            log.warning("lenient read failed", exc_info=True, extra={"partition": str(tp)})
            read = None
        if read is not None:
            records, next_offset = read
            log.warning(
                "records the Kafka client cannot unpack read leniently",
                extra={"topic": tp.topic, "partition": tp.partition, "offset": offset},
            )
            self.seek(tp, next_offset)
            self._careful.discard(tp)
            return records
        try:
            await self._on_unreadable(tp.topic, tp.partition, offset, repr(exc))
        except Exception as failed:
            self.fetch_failing = (
                f"{tp.topic}[{tp.partition}]@{offset} cannot be read and could not be "
                f"dead-lettered: {failed!r}"
            )
            raise UnreadableRecord(self.fetch_failing) from failed
        log.error(
            "record the Kafka client cannot read: dead-lettered as a stub and skipped",
            extra={"topic": tp.topic, "partition": tp.partition, "offset": offset},
        )
        self.seek(tp, offset + 1)
        self._careful.discard(tp)
        return []

    async def _read_leniently(
        self, tp: TopicPartition, offset: int
    ) -> tuple[list[aiokafka.ConsumerRecord], int] | None:
        """The records from ``offset`` to the end of the record batch holding it, and the
        offset after that batch; None if the batch is not one this reader knows (only
        uncompressed or compressed v2 data batches are)."""
        node = self._client.cluster.leader_for_partition(tp)
        if node is None or node < 0:
            return None
        fetch_bytes = max(self._fetcher._max_partition_fetch_bytes, 1 << 20)
        # At least one byte, waiting up to half a second for it (a broker may answer a fetch
        # that may not wait with nothing: the embedded one does).
        request = FetchRequest(
            LENIENT_FETCH_WAIT_MS,
            1,
            fetch_bytes,
            READ_UNCOMMITTED,
            [(tp.topic, [(tp.partition, offset, fetch_bytes)])],
        )
        response = await self._client.send(node, request)
        for topic, partitions in response.topics:
            for partition, error_code, _highwater, *part_data in partitions:
                if (topic, partition) == (tp.topic, tp.partition) and error_code == 0:
                    return _lenient_batch(tp, part_data[-1], offset)
        return None

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


# A lenient copy of aiokafka's pure-Python record parser: the same code, over a buffer whose
# slices decode with replacement (only header names are decoded there).


class _LenientBytes(bytes):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return super().decode(encoding, "replace")


class _LenientBuffer(bytearray):
    def __getitem__(self, key: Any) -> Any:
        item = super().__getitem__(key)
        return _LenientBytes(item) if isinstance(key, slice) else item


def _lenient_batch(
    tp: TopicPartition, raw: bytes, offset: int
) -> tuple[list[aiokafka.ConsumerRecord], int] | None:
    # Record set framing: base offset (int64), batch length (int32), leader epoch (int32),
    # magic (int8), ... The first batch is the one holding ``offset``.
    raw = bytes(raw)
    if len(raw) < 17:
        return None
    end = 12 + struct.unpack_from(">i", raw, 8)[0]
    if end > len(raw) or raw[16] < 2:  # cut short by the fetch size, or an old format
        return None
    batch = _DefaultRecordBatchPy(raw[:end])
    if batch.is_control_batch:
        return None
    batch._maybe_uncompress()
    batch._buffer = _LenientBuffer(batch._buffer)
    found = []
    for record in batch:
        if record.offset < offset:
            continue
        key, value = record.key, record.value
        found.append(
            aiokafka.ConsumerRecord(
                tp.topic,
                tp.partition,
                record.offset,
                record.timestamp,
                record.timestamp_type,
                key,
                value,
                None,
                len(key) if key is not None else -1,
                len(value) if value is not None else -1,
                tuple(record.headers),
            )
        )
    return found, batch.next_offset


def use_tolerant_consumers(
    broker: Any, on_unreadable: OnUnreadable, built: list[TolerantConsumer]
) -> None:
    """Make the (connected) FastStream broker build its subscriptions' consumers as
    ``TolerantConsumer``s, each appended to ``built``. Call after ``broker.connect()`` (which
    sets the builder), before ``broker.start()`` (which builds the consumers)."""
    config = broker.config.broker_config
    original = config.builder
    if not isinstance(original, partial):
        raise TypeError(f"unexpected consumer builder {original!r}")

    def build(*args: Any, **kwargs: Any) -> TolerantConsumer:
        options = {**original.keywords, **kwargs, "on_unreadable": on_unreadable}
        consumer = TolerantConsumer(*original.args, *args, **options)
        built.append(consumer)
        return consumer

    config.builder = build
