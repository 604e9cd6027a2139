"""A consumer never stalls: a corpus of bad records, interleaved with valid events on the same
partitions, against the real PostgreSQL and Kafka-protocol broker.

Every bad record is dead-lettered once with its reason (too large for the DLQ: a stub with its
coordinates); every valid event is applied once and in order; the service stays ready.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from shared.platform.messaging.envelope import Envelope, OutgoingEvent
from shared.platform.service import ServicePlatform
from shared.platform.settings import Settings
from shared.platform.storage.uow import UnitOfWork
from tests.support.harness import (
    create_topics,
    eventually,
    kafka_headers,
    metric_total,
    read_dlq,
    running,
    settings_for,
)
from tests.support.tally import (
    POISON_AMOUNT,
    Incremented,
    apply_increments,
    incremented,
    projection_rows,
    projection_summary,
    view_metadata,
    view_platform,
)

MAX_MESSAGE_BYTES = 100_000
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def settings(namespace: str, database_url: str, bootstrap_servers: str, request) -> Settings:
    ns = f"{namespace}_{request.node.name[-10:].lower()}"
    return settings_for(
        "tallyview",
        ns,
        database_url,
        bootstrap_servers,
        consumer_max_attempts=2,
        max_message_bytes=MAX_MESSAGE_BYTES,
    )


class Sent:
    """What the test produced, by where it landed: the bad records and the valid events."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, bootstrap_servers: str) -> None:
        self.producer, self.topic = producer, topic
        self.bootstrap_servers = bootstrap_servers
        self.bad: dict[tuple[int, int], str] = {}  # (partition, offset) -> what it was
        self.valid: list[OutgoingEvent] = []

    async def record(
        self,
        what: str,
        value: bytes | None,
        *,
        key: bytes | None = b"c1",
        headers: list[tuple[str, bytes | None]] | None = None,
    ) -> None:
        meta = await self.producer.send_and_wait(self.topic, value, key=key, headers=headers)
        self.bad[(meta.partition, meta.offset)] = what

    async def event(
        self,
        envelope: OutgoingEvent,
        *,
        headers: list[tuple[str, bytes | None]] | None = None,
        extra: tuple[tuple[str, bytes | None], ...] = (),
    ) -> None:
        """A valid event, with its ``ce_*`` headers (or ``headers``) and ``extra`` ones."""
        await self._send(envelope, headers, extra)
        self.valid.append(envelope)

    async def poison(self, what: str, envelope: OutgoingEvent) -> None:
        """Well-formed, but its handling fails for good."""
        meta = await self._send(envelope)
        self.bad[(meta.partition, meta.offset)] = what

    async def _send(
        self,
        envelope: OutgoingEvent,
        headers: list[tuple[str, bytes | None]] | None = None,
        extra: tuple[tuple[str, bytes | None], ...] = (),
    ) -> Any:
        if headers is None:
            headers = list(kafka_headers(envelope))
        return await self.producer.send_and_wait(
            self.topic, envelope.body, key=envelope.subject.encode(), headers=[*headers, *extra]
        )

    async def unreadable_header_name(
        self,
        key: bytes,
        *,
        before: OutgoingEvent | None = None,
        after: OutgoingEvent | None = None,
    ) -> None:
        """A record aiokafka itself cannot unpack (a header name that is not UTF-8); with
        ``before`` and ``after``, those valid events go around it in the same record batch."""
        produced = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.bad_header_name",
            self.bootstrap_servers,
            self.topic,
            key.decode(),
            before.body.decode() if before else "",
            after.body.decode() if after else "",
            env={**os.environ, "AIOKAFKA_NO_EXTENSIONS": "1"},
            cwd=REPOSITORY,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await produced.communicate()
        assert produced.returncode == 0, out
        partition, offset = map(int, out.split())
        self.bad[(partition, offset)] = "header name not UTF-8"
        if before is not None:
            self.valid.append(before)
        if after is not None:
            self.valid.append(after)


async def produce_corpus(sent: Sent) -> None:
    seq = {"c1": 0, "c2": 0}

    async def valid(counter: str, **kwargs: Any) -> None:
        seq[counter] += 1
        await sent.event(incremented(counter, seq[counter]), **kwargs)

    typed = [("ce_type", b"tally.incremented.v1"), ("ce_id", str(uuid.uuid4()).encode())]
    await valid("c1")
    await sent.record("not JSON", b"{not json")
    await valid("c1")
    await sent.record("not an envelope", b'{"hello": "world"}', key=b"c2")
    await valid("c2")
    await sent.record("a JSON list under a typed header", b"[1, 2, 3]", headers=typed)
    await valid("c1")
    await sent.record("null header values", b"nope", headers=[("ce_type", None), ("trace", None)])
    await valid("c2", extra=(("trace", None),))  # a null header on a valid event: applied
    # Valid events in the same record batch as the unreadable one, before and after it.
    around = [incremented("c1", seq["c1"] + 1), incremented("c1", seq["c1"] + 2)]
    seq["c1"] += 2
    await sent.unreadable_header_name(b"c1", before=around[0], after=around[1])
    await valid("c1")
    await sent.unreadable_header_name(b"c2")
    await sent.record(
        "non-UTF-8 headers",
        b"\x00\xff\xfe binary",
        key=b"c2",
        headers=[("ce_type", b"\xff\xfe"), ("ce_id", b"\xc3\x28"), ("x", b"\x80")],
    )
    await valid("c2")
    await sent.record(
        "garbled ce_* headers",
        b'{"type": 1}',
        headers=[("ce_id", b"not-a-uuid"), ("ce_type", b"tally.incremented.v1"), ("ce_", b"")],
    )
    await valid("c1")
    await sent.record("null key", b"{}", key=None)
    await sent.record("tombstone", None)
    await valid("c1")
    await sent.record("deep nesting", b'{"a":' * 20_000 + b"1" + b"}" * 20_000, key=b"c2")
    await valid("c2")
    oversized = json.dumps({"type": "tally.incremented.v1", "data": "x" * 300_000}).encode()
    await sent.record("over the size limit", oversized)
    await valid("c1")
    unknown = Envelope(
        type="tally.exploded.v9", source="tally", subject="c1", tenant_id="acme", data={}
    )
    await sent.record("unknown type", unknown.model_dump_json().encode())
    await valid("c1")
    invalid_payload = Envelope(
        type="tally.incremented.v1",
        source="tally",
        subject="c2",
        tenant_id="acme",
        data={"counter_id": "c2", "amount": "lots", "seq": 99},
    )
    await sent.record(
        "valid type, invalid payload", invalid_payload.model_dump_json().encode(), key=b"c2"
    )
    await valid("c2")
    # Valid envelopes whose handling fails: refused by the handler, and a tenant that
    # PostgreSQL cannot store (a NUL byte): each retried, then dead-lettered.
    await sent.poison("refused by the handler", incremented("c1", 1000, amount=POISON_AMOUNT))
    await valid("c1")
    await sent.poison("NUL in the tenant", incremented("c2", 1000, tenant="ac\x00me"))
    await valid("c2")
    # Headers alone do not make an event bad: a valid body without any is applied.
    await valid("c1", headers=[])
    await valid("c2", headers=[("ce_type", b"tally.incremented.v1"), ("ce_id", b"garbled")])


@pytest.fixture
async def producer(settings: Settings) -> AsyncIterator[AIOKafkaProducer]:
    # An outside producer with a larger size limit than the services' own.
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", max_request_size=2**21
    )
    await producer.start()
    yield producer
    await producer.stop()


class ReadinessWatch:
    """Samples the service's readiness while the test runs; remembers every answer whose
    consumer check was not ok (the database and broker checks ping the real servers, and a
    slow ping on a busy machine is not what this test is about)."""

    def __init__(self, platform: ServicePlatform) -> None:
        self.platform = platform
        self.not_ready: list[dict[str, str]] = []
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            checks = await self.platform.readiness()
            self.samples += 1
            if checks["consumer"] != "ok":
                self.not_ready.append(checks)
            await asyncio.sleep(0.2)

    def __enter__(self) -> ReadinessWatch:
        self._task = asyncio.create_task(self._watch())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_every_bad_record_is_dead_lettered_once_and_every_valid_event_applied_in_order(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    sent = Sent(producer, source, settings.kafka_bootstrap_servers)
    await produce_corpus(sent)

    async with running(view_platform(settings, source)) as view:
        with ReadinessWatch(view) as readiness:
            dlq = await eventually(
                lambda: _at_least(settings, source, len(sent.bad)),
                timeout=90,
                what=f"{len(sent.bad)} dead letters",
            )
            await eventually(
                lambda: _applied(view, len(sent.valid)), what="every valid event applied"
            )
            await asyncio.sleep(1)  # a few more readiness samples after the last record
            dlq = await read_dlq(settings.kafka_bootstrap_servers, source)

        where = Counter(
            (int(m["headers"]["dlq_original_partition"]), int(m["headers"]["dlq_original_offset"]))
            for m in dlq
        )
        assert dict(where) == {coordinates: 1 for coordinates in sent.bad}, (
            "each bad record dead-lettered exactly once: "
            f"{ {sent.bad.get(k, k): n for k, n in where.items()} }"
        )
        for message in dlq:
            headers = message["headers"]
            what = sent.bad[
                (int(headers["dlq_original_partition"]), int(headers["dlq_original_offset"]))
            ]
            assert headers["dlq_reason"] in {"rejected", "handler_failed", "unreadable"}, what
            assert headers["dlq_error"], f"{what}: no error named"
            assert headers["dlq_original_topic"] == source
            if what in {"refused by the handler", "NUL in the tenant"}:
                assert headers["dlq_reason"] == "handler_failed", what
                assert headers["dlq_attempts"] == str(settings.consumer_max_attempts)
            elif what == "header name not UTF-8":
                # Read leniently (the name replaced) and judged like any record: its body is
                # no envelope, so it is rejected, with its content.
                assert headers["dlq_reason"] == "rejected", what
                assert message["value"] == b"{}"
                assert "\ufffd\ufffd-name" in headers
            else:
                assert headers["dlq_reason"] == "rejected", what
        stub = next(m for m in dlq if sent.bad[_coordinates(m)] == "over the size limit")
        assert stub["headers"].get("dlq_stub_why")
        body = json.loads(stub["value"])
        assert body["stub"] is True
        assert body["value_size"] > MAX_MESSAGE_BYTES
        assert "too large" in body["dlq_error"] or "limit" in body["dlq_error"]
        assert body["value_head_base64"]
        unknown = next(m for m in dlq if sent.bad[_coordinates(m)] == "unknown type")
        assert "not in the catalog" in unknown["headers"]["dlq_error"]
        tombstone = next(m for m in dlq if sent.bad[_coordinates(m)] == "tombstone")
        assert "tombstone" in tombstone["headers"]["dlq_error"]

        summary = await projection_summary(view)
        assert summary == {"applied": len(sent.valid), "out_of_order": 0, "counters": 2}
        rows = {row["counter_id"]: row for row in await projection_rows(view)}
        for counter in ("c1", "c2"):
            mine = [e for e in sent.valid if e.subject == counter]
            assert rows[counter]["total"] == len(mine)
            assert rows[counter]["last_seq"] == len(mine)
        assert metric_total(view, "roofline_dlq_messages_total") == len(sent.bad)
        # Nothing left behind by the high watermarks the stall check reads.
        assert [kafka.behind() for kafka in view.consumer.kafka_consumers] == [0]
        assert readiness.samples > 0
        assert readiness.not_ready == []


STUCK_AMOUNT = -7  # a handler failure that looks transient (a connection reset), every time


async def stuck_on_one(uow: UnitOfWork, events: list[tuple[Envelope, Incremented]]) -> None:
    if any(event.amount == STUCK_AMOUNT for _, event in events):
        raise ConnectionResetError("the handler's remote call was reset (every time)")
    await apply_increments(uow, events)


async def test_a_record_that_fails_like_an_outage_every_time_is_bounded_and_reported(
    namespace: str, database_url: str, bootstrap_servers: str, producer: AIOKafkaProducer
) -> None:
    settings = settings_for(
        "tallyview",
        f"{namespace}_stuck",
        database_url,
        bootstrap_servers,
        consumer_max_attempts=2,
        consumer_transient_budget_s=0.5,
        consumer_stall_handbacks=2,
    )
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    platform = ServicePlatform(settings, view_metadata)
    platform.consumer.on_batch(Incremented)(stuck_on_one)
    platform.consumer.subscribe(platform.broker, source)
    sent = Sent(producer, source, settings.kafka_bootstrap_servers)
    await sent.event(incremented("c1", 1))
    await sent.poison("stuck", incremented("c1", 2, amount=STUCK_AMOUNT))
    await sent.event(incremented("c2", 1))

    # What readiness would have said right after each hand-back (the stalled state lasts only
    # until the suspect delivery gets past the record: too short to catch by polling).
    [progress] = platform.consumer.progress
    said: list[str | None] = []
    handed_back = progress.handed_back

    def handed_back_and_said(reason: str) -> None:
        handed_back(reason)
        said.append(platform.consumer.stalled())

    progress.handed_back = handed_back_and_said  # type: ignore[method-assign]
    async with running(platform) as view:
        # While it keeps coming back, the consumer says it is stalled, and why ...
        await eventually(
            lambda: asyncio.sleep(0, len(said) >= 2), timeout=60, what="two hand-backs"
        )
        assert said[0] is None  # one hand-back is no stall
        assert "handed back" in (said[1] or "") and "ConnectionResetError" in (said[1] or "")
        # ... then the record is dead-lettered after a bounded number of attempts, the others
        # are applied, and the consumer is ready again.
        [dead] = await eventually(
            lambda: _at_least(settings, source, 1), timeout=60, what="the stuck record's DLQ"
        )
        assert dead["headers"]["dlq_reason"] == "handler_failed"
        assert "ConnectionResetError" in dead["headers"]["dlq_error"]
        await eventually(lambda: _applied(view, 2), what="the records around it")
        await sent.event(incremented("c1", 2))
        await eventually(lambda: _applied(view, 3), what="a record after it")
        checks = await view.readiness()
        assert checks["consumer"] == "ok"
        assert metric_total(view, "roofline_consumer_stalled") == 0


async def _stalled(platform: ServicePlatform) -> str | None:
    checks = await platform.readiness()
    return checks["consumer"] if checks["consumer"] != "ok" else None


async def _applied(platform: ServicePlatform, count: int) -> bool:
    return (await projection_summary(platform))["applied"] >= count


def _coordinates(message: dict[str, Any]) -> tuple[int, int]:
    headers = message["headers"]
    return int(headers["dlq_original_partition"]), int(headers["dlq_original_offset"])


async def _at_least(settings: Settings, topic: str, count: int) -> list[dict[str, Any]] | None:
    messages = await read_dlq(settings.kafka_bootstrap_servers, topic)
    return messages if len(messages) >= count else None


async def test_a_consumer_that_takes_nothing_while_records_wait_is_not_ready(
    namespace: str, database_url: str, bootstrap_servers: str, producer: AIOKafkaProducer
) -> None:
    settings = settings_for(
        "tallyview", f"{namespace}_hang", database_url, bootstrap_servers, consumer_stall_after_s=2
    )
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    release = asyncio.Event()

    async def hangs_on_the_second(uow: UnitOfWork, events: list[tuple[Envelope, Incremented]]):
        if any(event.seq == 2 for _, event in events):
            await release.wait()  # a handler stuck on a remote call that never answers
        await apply_increments(uow, events)

    platform = ServicePlatform(settings, view_metadata)
    platform.consumer.on_batch(Incremented)(hangs_on_the_second)
    platform.consumer.subscribe(platform.broker, source)
    sent = Sent(producer, source, settings.kafka_bootstrap_servers)
    async with running(platform) as view:
        await sent.event(incremented("c1", 1))
        await eventually(lambda: _applied(view, 1), what="the first event")
        await sent.event(incremented("c1", 2))
        for seq in range(3, 8):
            await sent.event(incremented("c1", seq))
        reported = await eventually(lambda: _stalled(view), what="readiness to report the stall")
        assert "stalled" in reported
        assert metric_total(view, "roofline_consumer_stalled") == 1
        release.set()
        await eventually(lambda: _applied(view, 7), what="the rest, once the handler answers")
        assert (await view.readiness())["consumer"] == "ok"
