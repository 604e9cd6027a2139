"""``roofline events``: follow the services' event topics from the terminal.

Events are shown in the order they happened across the topics, not topic by topic: what the topics
already hold (``--from-beginning``) is read up to their current end and merged by each event's
time (the envelope's ``time``, else the record's timestamp), each partition's own order kept; after
that, each fetch is merged the same way. An event is recorded after the event that caused it, so a
lead comes before the other services' answers to it. Without ``--from-beginning`` the watcher
starts at the topics' end (as the first fetch reports it).
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.platform.settings import load_settings

FOLLOW_POLL_MS = 500


@dataclass(frozen=True)
class Suite:
    """Where the running suite's events are: its broker and its topic prefix."""

    bootstrap_servers: str
    topic_prefix: str
    found: bool


def find_suite(data_dir: str | None) -> Suite:
    """The running suite's broker and topics (``shared.cli.suites.locate``), unless
    ROOFLINE_KAFKA_BOOTSTRAP_SERVERS names a broker; else the configured ones."""
    from shared.cli.suites import read_state
    from shared.cli.supervisor import suite_root

    settings = load_settings()
    state = read_state(suite_root(data_dir)) or {}
    bootstrap = os.environ.get("ROOFLINE_KAFKA_BOOTSTRAP_SERVERS") or state.get(
        "kafka_bootstrap_servers", settings.kafka_bootstrap_servers
    )
    prefix = os.environ.get("ROOFLINE_TOPIC_PREFIX") or state.get(
        "topic_prefix", settings.topic_prefix
    )
    return Suite(str(bootstrap), str(prefix), bool(state))


def bootstrap_servers(data_dir: str | None) -> str:
    """The running suite's broker (from `roofline up`'s state), else the configured one."""
    return find_suite(data_dir).bootstrap_servers


def describe(value: bytes | None) -> str:
    try:
        event = json.loads(value or b"")
        return (
            f"{event['time'][:23]}  {event['type']:<36} {event['subject']}  "
            f"tenant={event['tenant_id']}  {json.dumps(event['data'], separators=(',', ':'))}"
        )
    except (ValueError, KeyError, TypeError):
        return f"(not an event envelope: {value!r:.120})"


def event_time(record: Any) -> datetime:
    """When the event happened: the envelope's ``time``, else the record's timestamp."""
    try:
        value = json.loads(record.value or b"")["time"]
        moment = datetime.fromisoformat(value)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, KeyError, TypeError):
        return datetime.fromtimestamp((record.timestamp or 0) / 1000, UTC)


def merge_by_time(partitions: Iterable[Sequence[Any]]) -> list[Any]:
    """One list in time order from per-partition lists (each in offset order, kept as is)."""
    keyed = [[(event_time(record), record) for record in records] for records in partitions]
    return [record for _, record in heapq.merge(*keyed, key=lambda pair: pair[0])]


async def _assign(consumer: AIOKafkaConsumer, topics: list[str]) -> list[TopicPartition]:
    existing = await consumer.topics()
    partitions = [
        TopicPartition(topic, partition)
        for topic in topics
        if topic in existing
        for partition in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    consumer.assign(partitions)
    return partitions


async def _catch_up(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> list[list[Any]]:
    """Read from the current positions up to the partitions' ends, per partition.

    The end is the high watermark of the fetch responses, not ListOffsets: the embedded broker
    answers ListOffsets ``latest`` with the last record's offset on some partitions (one short),
    which would leave out (or, when following, show) that record."""
    held: dict[TopicPartition, list[Any]] = {tp: [] for tp in partitions}
    pending = set(partitions)
    while pending:
        fetched = await consumer.getmany(*pending, timeout_ms=FOLLOW_POLL_MS)
        for tp, records in fetched.items():
            held[tp].extend(records)
        for tp in list(pending):
            end = consumer.highwater(tp)
            if end is not None and await consumer.position(tp) >= end:
                pending.discard(tp)
    return list(held.values())


async def watch_events(
    services: list[str],
    *,
    from_beginning: bool,
    limit: int,
    tenant: str | None = None,
    data_dir: str | None,
    echo: Callable[[str], None],
) -> int:
    suite = find_suite(data_dir)
    settings = load_settings(topic_prefix=suite.topic_prefix)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=suite.bootstrap_servers,
        group_id=None,  # a watcher never moves the services' offsets
        enable_auto_commit=False,
        auto_offset_reset="earliest" if from_beginning else "latest",
    )
    await consumer.start()
    seen = 0

    def show(records: list[Any]) -> bool:
        """Print them; True once the limit is reached."""
        nonlocal seen
        for record in records:
            headers = {key: value.decode(errors="replace") for key, value in record.headers}
            if tenant and headers.get("ce_tenant_id") != tenant:
                continue
            echo(describe(record.value))
            seen += 1
            if limit and seen >= limit:
                return True
        return False

    try:
        partitions = await _assign(consumer, [settings.topic(name) for name in services])
        if not partitions:
            return 0
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
            if show(merge_by_time(await _catch_up(consumer, partitions))):
                return seen
        else:
            await consumer.seek_to_end(*partitions)
            await _catch_up(consumer, partitions)  # what was there before: not shown
        while True:
            fetched = await consumer.getmany(timeout_ms=FOLLOW_POLL_MS)
            if fetched and show(merge_by_time(fetched.values())):
                return seen
    finally:
        await consumer.stop()
