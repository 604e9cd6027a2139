"""Consumer side against real servers: duplicates, relay crash, poison messages, a DLQ."""

from __future__ import annotations

import asyncio

import pytest

from shared.platform.messaging.envelope import Envelope
from shared.platform.messaging.relay import KafkaPublisher, OutboxRelay
from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import Settings
from tests.support.harness import (
    create_topics,
    eventually,
    metric_total,
    prepare_schema,
    raw_producer,
    read_dlq,
    read_topic,
    running,
    send_envelope,
    settings_for,
)
from tests.support.tally import (
    POISON_AMOUNT,
    increment,
    incremented,
    projection_rows,
    projection_summary,
    tally_platform,
    view_platform,
)


@pytest.fixture
def settings(namespace: str, database_url: str, bootstrap_servers: str, request) -> Settings:
    # One namespace per test: each gets its own topics and schemas.
    ns = f"{namespace}_{request.node.name[-12:].lower().replace('[', '').replace(']', '')}"
    return settings_for("tallyview", ns, database_url, bootstrap_servers, consumer_max_attempts=3)


async def applied(view, expected: int) -> dict[str, int] | None:
    summary = await projection_summary(view)
    return summary if summary["applied"] >= expected else None


async def test_same_event_delivered_twice_has_one_effect(settings: Settings) -> None:
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    async with (
        running(view_platform(settings, source)) as view,
        raw_producer(settings.kafka_bootstrap_servers) as producer,
    ):
        first, second = incremented("c1", 1, amount=5), incremented("c1", 2, amount=7)
        for envelope in (first, first, second, first):
            await send_envelope(producer, source, envelope)
        await eventually(lambda: applied(view, 2), what="two events applied")
        await eventually(
            lambda: asyncio.sleep(0, metric_total(view, "roofline_inbox_duplicates_total") >= 2),
            what="the inbox to absorb both copies",
        )
        [row] = await projection_rows(view)
        assert (row["applied"], row["total"], row["out_of_order"]) == (2, 12, 0)
        assert metric_total(view, "roofline_inbox_duplicates_total") == 2
        # FastStream's consume metrics land in the service registry next to the platform's own.
        assert metric_total(view, "faststream_received_messages_total") >= 1


class CrashAfterAck(OutboxRelay):
    """A relay that dies after the broker acked a batch but before marking it sent."""

    crashes = 0

    async def mark_sent(self, connection, ids):
        if self.crashes == 0:
            self.crashes += 1
            raise ConnectionResetError("relay crashed between broker ack and mark-sent")
        await super().mark_sent(connection, ids)


async def test_relay_crash_between_ack_and_mark_sent_has_one_effect_each(
    settings: Settings,
) -> None:
    producer_settings = settings.model_copy(
        update={"service": "tally", "db_schema": settings.schema_name.replace("tallyview", "tally")}
    )
    await create_topics(settings, "tally", "tallyview")
    producer = tally_platform(producer_settings)
    await prepare_schema(producer)
    for i in range(10):
        await increment(producer.uow_factory, "acme", f"c{i % 3}", 1)

    publisher = KafkaPublisher(producer_settings)
    await publisher.start()
    relay = CrashAfterAck(producer_settings, publisher, ServiceMetrics("tally"))
    relay_task = asyncio.create_task(relay.run())
    async with running(view_platform(settings, producer_settings.own_topic)) as view:
        await eventually(lambda: applied(view, 10), what="ten events applied")
        await eventually(
            lambda: asyncio.sleep(0, metric_total(view, "roofline_inbox_duplicates_total") >= 10),
            what="the re-published batch to be absorbed",
        )
        records = await read_topic(settings.kafka_bootstrap_servers, producer_settings.own_topic)
        assert relay.crashes == 1
        assert len(records) == 20  # every event went out twice ...
        summary = await projection_summary(view)
        assert summary == {"applied": 10, "out_of_order": 0, "counters": 3}  # ... and counted once
    relay.stop()
    await relay_task
    await publisher.stop()
    await producer.engine.dispose()


async def test_poison_messages_go_to_the_dlq_and_the_rest_is_applied(settings: Settings) -> None:
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    async with (
        running(view_platform(settings, source)) as view,
        raw_producer(settings.kafka_bootstrap_servers) as producer,
    ):
        await send_envelope(producer, source, incremented("c1", 1))
        await producer.send_and_wait(source, b"{not json", key=b"c1")
        schema_invalid = Envelope(
            type="tally.incremented.v1",
            source="tally",
            subject="c1",
            tenant_id="acme",
            data={"counter_id": "c1", "amount": "lots", "seq": 2},
        )
        await producer.send_and_wait(source, schema_invalid.model_dump_json().encode(), key=b"c1")
        await send_envelope(producer, source, incremented("c1", 2))
        poison = incremented("c1", 3, amount=POISON_AMOUNT)
        await send_envelope(producer, source, poison)
        await send_envelope(producer, source, incremented("c1", 4))

        await eventually(lambda: applied(view, 3), what="the three good events")
        dlq = await eventually(
            lambda: _dlq_when(settings, source, 3), timeout=60, what="three dead letters"
        )
        by_reason = {}
        for message in dlq:
            headers = message["headers"]
            assert headers["dlq_original_topic"] == source
            assert headers["dlq_consumer_group"] == settings.consumer_group
            assert headers["dlq_original_partition"].isdigit()
            assert headers["dlq_original_offset"].isdigit()
            by_reason.setdefault(headers["dlq_reason"], []).append(message)
        assert sorted(len(v) for v in by_reason.values()) == [1, 2]
        rejected = by_reason["rejected"]
        assert {m["value"] for m in rejected} == {
            b"{not json",
            schema_invalid.model_dump_json().encode(),
        }
        assert any("not JSON" in m["headers"]["dlq_error"] for m in rejected)
        assert any(
            "data" in m["headers"]["dlq_error"] or "amount" in m["headers"]["dlq_error"]
            for m in rejected
        )
        [failed] = by_reason["handler_failed"]
        assert failed["headers"]["dlq_attempts"] == str(settings.consumer_max_attempts)
        assert "refused by the projection" in failed["headers"]["dlq_error"]

        # The consumer is still running: a later event is applied too. The poison event comes
        # again before it (a redelivery): it was set aside in the inbox, so it is skipped, not
        # retried and dead-lettered a second time.
        await send_envelope(producer, source, poison)
        await send_envelope(producer, source, incremented("c1", 5))
        await eventually(lambda: applied(view, 4), what="an event after the poison")
        [row] = await projection_rows(view)
        assert row["total"] == 4
        assert metric_total(view, "roofline_dlq_messages_total") == 3
        assert metric_total(view, "roofline_inbox_duplicates_total") == 1
        assert len(await read_dlq(settings.kafka_bootstrap_servers, source)) == 3


async def _dlq_when(settings: Settings, topic: str, count: int) -> list | None:
    messages = await read_dlq(settings.kafka_bootstrap_servers, topic)
    return messages if len(messages) >= count else None
