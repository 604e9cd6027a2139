"""Server outages: PostgreSQL stopped mid-stream, and the memory-only broker restarted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from shared.cli.embedded import EmbeddedBroker, EmbeddedPostgres
from shared.platform.messaging.broker import all_topics, ensure_topics
from shared.platform.messaging.relay import replay_outbox
from tests.support.harness import (
    create_topics,
    eventually,
    metric_total,
    raw_producer,
    read_dlq,
    running,
    send_envelope,
    settings_for,
)
from tests.support.tally import (
    increment,
    incremented,
    projection_summary,
    tally_platform,
    view_platform,
)

pytestmark = pytest.mark.fault


async def applied(view, expected: int) -> dict[str, int] | None:
    summary = await projection_summary(view)
    return summary if summary["applied"] >= expected else None


@pytest.mark.parametrize(
    "budget_s",
    [
        pytest.param(60.0, id="batch-waits-out-the-outage"),
        # Shorter than the outage: batches are handed back to Kafka (seek) and delivered again,
        # while the batches fetched behind them must wait for them.
        pytest.param(0.5, id="batches-handed-back"),
    ],
)
async def test_postgres_stopped_mid_stream_loses_nothing(
    namespace: str,
    database_url: str,
    bootstrap_servers: str,
    postgres_server: EmbeddedPostgres | None,
    budget_s: float,
) -> None:
    if postgres_server is None:
        pytest.skip("needs the embedded PostgreSQL to stop and start it")
    settings = settings_for(
        "tallyview",
        f"{namespace}_pg{int(budget_s * 10)}",
        database_url,
        bootstrap_servers,
        consumer_transient_budget_s=budget_s,
    )
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    total = 600
    async with (
        running(view_platform(settings, source)) as view,
        raw_producer(bootstrap_servers) as producer,
    ):

        async def stream() -> None:
            for seq in range(1, total // 6 + 1):
                for counter in range(6):
                    await send_envelope(producer, source, incremented(f"c{counter}", seq))
                await asyncio.sleep(0.01)

        streaming = asyncio.create_task(stream())
        await eventually(lambda: applied(view, 50), what="the stream to be flowing")
        await asyncio.to_thread(postgres_server.stop, "fast")
        await asyncio.sleep(3)
        await asyncio.to_thread(postgres_server.start)
        await streaming

        summary = await eventually(
            lambda: applied(view, total),
            timeout=120,
            what=f"all {total} events applied after the outage",
        )
        assert summary == {"applied": total, "out_of_order": 0, "counters": 6}
        assert metric_total(view, "roofline_consumer_retries_total") > 0  # it did hit the outage
        handed_back = metric_total(view, "roofline_consumer_batches_handed_back_total")
        assert handed_back > 0 if budget_s < 3 else handed_back == 0
        assert metric_total(view, "roofline_dlq_messages_total") == 0
        assert await read_dlq(bootstrap_servers, source) == []
        # The projection's own events reach its outbox and the relay publishes them all.
        await eventually(
            lambda: asyncio.sleep(
                0, metric_total(view, "roofline_outbox_published_total") >= total
            ),
            what="the view's relay to publish after the outage",
        )


async def test_broker_restart_then_outbox_replay_brings_consumers_level(
    namespace: str,
    database_url: str,
    bootstrap_servers: str,
    kafka_broker: EmbeddedBroker | None,
) -> None:
    if kafka_broker is None:
        pytest.skip("needs the embedded broker to restart it")
    ns = f"{namespace}_kafka"
    producer_settings = settings_for("tally", ns, database_url, bootstrap_servers)
    view_settings = settings_for("tallyview", ns, database_url, bootstrap_servers)
    late_settings = settings_for("tallylate", ns, database_url, bootstrap_servers)
    topics = all_topics(producer_settings, ["tally", "tallyview", "tallylate"])
    await ensure_topics(bootstrap_servers, topics, producer_settings.topic_partitions)
    before_restart = datetime.now(UTC)

    producer = tally_platform(producer_settings)
    view = view_platform(view_settings, producer_settings.own_topic)
    await producer.start(create_tables=True)
    await view.start(create_tables=True)
    for i in range(200):
        await increment(producer.uow_factory, "acme", f"c{i % 5}", 1)
    await eventually(lambda: applied(view, 200), what="200 events before the restart")

    # The broker dies and loses its log. Commands keep landing in the outbox meanwhile.
    await asyncio.to_thread(kafka_broker.stop)
    for i in range(100):
        await increment(producer.uow_factory, "acme", f"c{i % 5}", 1)
    # What `roofline up` does when its broker dies: stop the services (their in-flight sends and
    # in-memory positions belong to the lost log), start the broker, recreate the topics, replay
    # everything since the loss, start the services again. Topics come before any client: the
    # memory-only broker acks a produce to a missing topic and drops it.
    await view.stop()
    await producer.stop()
    await asyncio.to_thread(kafka_broker.start)
    created = await ensure_topics(bootstrap_servers, topics, producer_settings.topic_partitions)
    assert set(created.values()) == {"created"}
    assert await replay_outbox(producer_settings, before_restart) == 200

    async with (
        running(tally_platform(producer_settings)),
        running(view_platform(view_settings, producer_settings.own_topic)) as view,
        running(view_platform(late_settings, producer_settings.own_topic)) as late,
    ):
        # A consumer that starts only now sees the whole history, in order, thanks to the replay
        late_summary = await eventually(
            lambda: applied(late, 300), timeout=120, what="the late consumer to catch up"
        )
        assert late_summary == {"applied": 300, "out_of_order": 0, "counters": 5}
        # ... and the one that had applied the first 200 applies the other 100 once: the
        # replayed copies of what it had are absorbed by its inbox.
        summary = await eventually(
            lambda: applied(view, 300), timeout=120, what="the restarted consumer to catch up"
        )
        assert summary == {"applied": 300, "out_of_order": 0, "counters": 5}
        assert metric_total(view, "roofline_inbox_duplicates_total") == 200
