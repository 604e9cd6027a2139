"""Outbox relay: publishes a service's outbox rows to Kafka, in order, exactly one leader at a time.

Guarantees:
- One leader per service schema (Postgres advisory lock held on a dedicated connection); other
  replicas stand by and take over within one poll interval when the leader's session ends.
  Competing relays with SKIP LOCKED would reorder one aggregate's events; a single leader does not.
- Rows are published in ``id`` order and marked sent only after the broker acked them; selection is
  ``sent_at IS NULL`` (never ``id > last_seen``, which skips rows of transactions still in flight).
- Wake-up by LISTEN/NOTIFY on commit, with polling as the fallback when a NOTIFY is missed.
- Sent rows are kept for ``outbox_retention`` so ``replay_outbox`` can re-publish them after a
  broker lost its log. A crash between ack and mark-sent re-publishes; consumers' inboxes absorb it.
- Each record is the stored envelope, keyed by the ``key`` column, with ``ce_*`` headers built
  from the row's columns (event id, type, key, tenant) and the few attributes that have none
  (source, time, correlation, causation, sequence) read from the envelope without its ``data``;
  sent by the relay's own aiokafka producer (``KafkaPublisher``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.platform.messaging.broker import create_producer
from shared.platform.messaging.envelope import stored_event_headers
from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import Settings
from shared.platform.storage.db import asyncpg_dsn, checked_schema, is_transient, notify_channel

log = logging.getLogger(__name__)

# publish(topic, key, payload, headers) -> an awaitable that completes when the broker acked.
Publish = Callable[[str, bytes, bytes, dict[str, str]], Awaitable[Awaitable[Any]]]

PURGE_EVERY_S = 60.0


class KafkaPublisher:
    """The relay's own aiokafka producer, built with the broker's producer settings
    (``producer_options``): ``publish(topic, key, payload, headers)`` sends without waiting and
    hands back the ack future.

    Not FastStream's ``broker.publish``: per event it cost as much again as aiokafka's own send
    (a publish command, a generated correlation id, the middleware chain, headers re-encoded),
    which held the relay at about two thirds of a plain producer. Records carry the value, the
    key and the ``ce_*`` headers only; FastStream's ``content-type`` and random
    ``correlation_id`` headers are not added, and FastStream's publish metrics do not count the
    relay (``roofline_outbox_published_total`` does)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        if self._producer is None:
            producer = create_producer(self.settings)
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer

    async def stop(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()

    async def __call__(
        self, topic: str, key: bytes, payload: bytes, headers: dict[str, str]
    ) -> Awaitable[Any]:
        if self._producer is None:
            raise RuntimeError("the relay's Kafka producer is not started")
        return await self._producer.send(
            topic,
            payload,
            key=key,
            headers=[(name, value.encode()) for name, value in headers.items()],
        )


class OutboxRelay:
    def __init__(
        self,
        settings: Settings,
        publish: Publish,
        metrics: ServiceMetrics | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self.settings = settings
        self.schema = checked_schema(settings.schema_name)
        self.publish = publish
        self.metrics = metrics
        self.name = name or settings.service
        self.is_leader = False
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._last_purge = 0.0

    # -- lifecycle ------------------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Run until ``stop()``: stand by, lead when the lock is free, recover from outages."""
        backoff = self.settings.relay_poll_interval_s
        while not self._stopping.is_set():
            try:
                await self._session()
                backoff = self.settings.relay_poll_interval_s
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._set_leader(False)
                level = logging.WARNING if is_transient(exc) else logging.ERROR
                log.log(
                    level,
                    "outbox relay interrupted; retrying",
                    extra={"relay": self.name, "error": repr(exc)},
                )
                await self._sleep(backoff)
                backoff = min(backoff * 2, 10.0)
        self._set_leader(False)

    async def _session(self) -> None:
        # command_timeout turns a half-open connection into an error (and a new session) instead
        # of a leader that holds the lock and publishes nothing.
        connection = await asyncpg.connect(
            asyncpg_dsn(self.settings.database_url), timeout=10, command_timeout=30
        )
        try:
            while not self._stopping.is_set():
                if await connection.fetchval(
                    "SELECT pg_try_advisory_lock(hashtext($1))", self._lock_name
                ):
                    break
                await self._report_backlog(connection)
                await self._sleep(self.settings.relay_poll_interval_s)
            else:
                return
            self._set_leader(True)
            log.info("outbox relay is leader", extra={"relay": self.name})
            await connection.add_listener(notify_channel(self.schema), self._on_notify)
            while not self._stopping.is_set():
                self._wake.clear()
                published = await self.drain(connection)
                await self._report_backlog(connection)
                await self._purge_if_due(connection)
                if published < self.settings.relay_batch_size:
                    await self._sleep(self.settings.relay_poll_interval_s)
        finally:
            self._set_leader(False)
            # Closing the session releases the advisory lock for a standby.
            await connection.close(timeout=2)

    @property
    def _lock_name(self) -> str:
        return f"roofline.outbox.{self.schema}"

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)

    def _set_leader(self, leader: bool) -> None:
        self.is_leader = leader
        if self.metrics is not None:
            self.metrics.relay_leader.set(1 if leader else 0)

    # -- publishing -----------------------------------------------------------------------------

    async def drain(self, connection: asyncpg.Connection) -> int:
        """Publish unsent rows batch by batch until none are left; return how many were sent."""
        total = 0
        while not self._stopping.is_set():
            rows = await connection.fetch(
                f"SELECT id, event_id, topic, key, event_type, tenant_id, payload "
                f'FROM "{self.schema}".outbox '
                "WHERE sent_at IS NULL ORDER BY id LIMIT $1",
                self.settings.relay_batch_size,
            )
            if not rows:
                break
            acked = await self._publish_in_order(rows)
            if acked:
                await self.mark_sent(connection, [row["id"] for row in rows[:acked]])
                total += acked
                if self.metrics is not None:
                    self.metrics.outbox_published.inc(acked)
            if acked < len(rows):
                raise RuntimeError(f"broker refused outbox row {rows[acked]['id']}")
            if len(rows) < self.settings.relay_batch_size:
                break
        return total

    async def _publish_in_order(self, rows: list[asyncpg.Record]) -> int:
        """Send a batch pipelined; return the length of the acked prefix.

        Only an unbroken prefix is marked sent, so a failed row and everything after it are
        retried in order (a re-sent row that had been acked is absorbed by the inbox).
        """
        pending = []
        publish = self.publish
        for _, event_id, topic, key, event_type, tenant_id, payload in rows:
            payload = bytes(payload)
            headers = stored_event_headers(event_id, event_type, key, tenant_id, payload)
            pending.append(await publish(topic, key.encode(), payload, headers))
        results = await asyncio.gather(*pending, return_exceptions=True)
        for index, result in enumerate(results):
            if isinstance(result, BaseException):
                log.warning(
                    "publish failed", extra={"outbox_id": rows[index]["id"], "error": repr(result)}
                )
                return index
        return len(results)

    async def mark_sent(self, connection: asyncpg.Connection, ids: list[int]) -> None:
        await connection.execute(
            f'UPDATE "{self.schema}".outbox SET sent_at = now() WHERE id = ANY($1::bigint[])', ids
        )

    # -- housekeeping ---------------------------------------------------------------------------

    async def _report_backlog(self, connection: asyncpg.Connection) -> None:
        if self.metrics is None:
            return
        row = await connection.fetchrow(
            f'SELECT count(*) AS backlog, min(created_at) AS oldest FROM "{self.schema}".outbox '
            "WHERE sent_at IS NULL"
        )
        self.metrics.outbox_backlog.set(row["backlog"])
        oldest = row["oldest"]
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        self.metrics.outbox_oldest_unsent_age.set(max(age, 0.0))

    async def _purge_if_due(self, connection: asyncpg.Connection) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_purge < PURGE_EVERY_S:
            return
        self._last_purge = now
        await connection.execute(
            f'DELETE FROM "{self.schema}".outbox WHERE sent_at < now() - $1::interval',
            self.settings.outbox_retention,
        )


async def replay_outbox(settings: Settings, since: datetime, until: datetime | None = None) -> int:
    """Queue already-sent rows created in [since, until) for publication again, in order.

    The running relay leader picks them up (NOTIFY wakes it); if no relay runs, the next one
    to start does. Consumers' inboxes make re-published events harmless.
    """
    schema = checked_schema(settings.schema_name)
    connection = await asyncpg.connect(asyncpg_dsn(settings.database_url), timeout=10)
    try:
        async with connection.transaction():
            status = await connection.execute(
                f'UPDATE "{schema}".outbox SET sent_at = NULL WHERE sent_at IS NOT NULL '
                "AND created_at >= $1 AND ($2::timestamptz IS NULL OR created_at < $2)",
                since,
                until,
            )
            await connection.execute("SELECT pg_notify($1, '')", notify_channel(schema))
        return int(status.split()[-1])
    finally:
        await connection.close()
