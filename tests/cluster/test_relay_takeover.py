"""The relay's leader goes away mid-stream on the cluster: the standby relay takes over, nothing
is lost or reordered. Once stopped in-process (the embedded-broker scenario, shared), once as a
process SIGKILLed: its PostgreSQL session dies with it, the advisory lock frees, and whatever it
had sent but not yet marked sent goes out again (the inbox drops the repeat)."""

from __future__ import annotations

import asyncio
import signal
import subprocess

import httpx

from shared.cli.embedded import free_port
from shared.cli.kafka_cluster import KafkaCluster
from tests.cluster.conftest import cluster_settings
from tests.integration.test_outbox_ordering import relays_compete
from tests.support.harness import (
    create_topics,
    eventually,
    first_sequences,
    prepare_schema,
    read_topic,
    running,
    scrape_metrics,
)
from tests.support.tally import increment, projection_summary, tally_platform, view_platform
from tests.support.view_process import spawn

AGGREGATES = 40
EVENTS_EACH = 100


async def test_a_standby_relay_takes_over_on_the_cluster(
    cluster: KafkaCluster, namespace: str, database_url: str
) -> None:
    await relays_compete(
        cluster_settings("tally", namespace, database_url, cluster),
        cluster_settings("tallyview", namespace, database_url, cluster),
    )


async def test_the_relay_leaders_process_killed_mid_stream_the_standby_goes_on(
    cluster: KafkaCluster, namespace: str, database_url: str
) -> None:
    namespace = f"{namespace}kill"  # topics, schemas and groups of this case alone
    settings = cluster_settings("tally", namespace, database_url, cluster)
    view_settings = cluster_settings("tallyview", namespace, database_url, cluster)
    await create_topics(settings, "tally", "tallyview")
    writer = tally_platform(settings)  # the test writes increments; the processes relay them
    await prepare_schema(writer)
    ports = [free_port(), free_port()]
    relays = {port: spawn(settings, settings.own_topic, port, service="tally") for port in ports}
    total = AGGREGATES * EVENTS_EACH
    try:
        async with running(view_platform(view_settings, settings.own_topic)) as view:
            leader = await eventually(lambda: _leader(ports), timeout=60, what="a relay leader")
            standby = next(port for port in ports if port != leader)

            async def write(counter: int) -> None:
                for _ in range(EVENTS_EACH):
                    await increment(writer.uow_factory, "acme", f"c{counter:02d}", 1)

            writers = [asyncio.create_task(write(n)) for n in range(AGGREGATES)]
            await eventually(
                lambda: _published_at_least(leader, total // 10), timeout=120, what="publishing"
            )
            relays[leader].send_signal(signal.SIGKILL)
            await asyncio.to_thread(relays[leader].wait, 10)
            await asyncio.gather(*writers)

            assert await eventually(lambda: _leader([standby]), timeout=60, what="takeover")
            summary = await eventually(
                lambda: _summary_when(view, total), timeout=300, what=f"{total} events applied"
            )
            assert summary == {"applied": total, "out_of_order": 0, "counters": AGGREGATES}
            published_by_standby = (await scrape_metrics(standby))[
                "roofline_outbox_published_total"
            ]
            assert 0 < published_by_standby < total, "the kill did not land mid-stream"

            records = await read_topic(cluster.bootstrap_servers, settings.own_topic)
            sequences = first_sequences(records)
            assert len(sequences) == AGGREGATES
            assert all(seq == list(range(1, EVENTS_EACH + 1)) for seq in sequences.values())
    finally:
        for process in relays.values():
            _stop(process)
        await writer.engine.dispose()


async def _leader(ports: list[int]) -> int | None:
    """The port of the process holding the relay leadership, if one does."""
    for port in ports:
        try:
            metrics = await scrape_metrics(port)
        except httpx.HTTPError:  # still starting
            continue
        if metrics.get("roofline_relay_leader") == 1:
            return port
    return None


async def _published_at_least(port: int, count: int) -> bool:
    return (await scrape_metrics(port)).get("roofline_outbox_published_total", 0) >= count


async def _summary_when(view: object, total: int) -> dict[str, int] | None:
    summary = await projection_summary(view)  # type: ignore[arg-type]
    return summary if summary["applied"] >= total else None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(30)
