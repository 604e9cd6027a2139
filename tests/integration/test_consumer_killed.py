"""A consumer process killed with SIGKILL mid-stream and restarted applies every event once."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from shared.cli.embedded import free_port
from tests.support.harness import (
    create_topics,
    eventually,
    produce_increments,
    scrape_metrics,
    settings_for,
)
from tests.support.tally import projection_summary, view_platform
from tests.support.view_process import spawn

pytestmark = pytest.mark.fault

EVENTS = 5000
COUNTERS = 25


async def test_sigkill_mid_stream_then_restart_applies_each_event_once(
    namespace: str, database_url: str, bootstrap_servers: str
) -> None:
    settings = settings_for("tallyview", namespace, database_url, bootstrap_servers)
    source = settings.topic("tally")
    await create_topics(settings, "tally", "tallyview")
    reader = view_platform(settings, source)  # only for reading the projection

    await produce_increments(bootstrap_servers, source, COUNTERS, EVENTS // COUNTERS)

    first = spawn(settings, source, free_port())
    try:

        async def progress() -> dict[str, int] | None:
            try:
                summary = await projection_summary(reader)
            except Exception:  # the process is still creating its tables
                return None
            return summary if summary["applied"] >= 1000 else None

        await eventually(progress, timeout=120, what="the first process to be mid-stream")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    killed_at = (await projection_summary(reader))["applied"]
    assert killed_at < EVENTS, "the stream finished before the kill; the test proves nothing"

    port = free_port()
    second = spawn(settings, source, port)
    try:

        async def done() -> dict[str, float] | None:
            try:
                metrics = await scrape_metrics(port)
            except httpx.HTTPError:
                return None
            summary = await projection_summary(reader)
            caught_up = (
                summary["applied"] >= EVENTS and metrics.get("roofline_consumer_lag", 1) == 0
            )
            return metrics if caught_up else None

        metrics = await eventually(done, timeout=180, what="the restarted process to catch up")
        summary = await projection_summary(reader)
        assert summary == {"applied": EVENTS, "out_of_order": 0, "counters": COUNTERS}
        duplicates = metrics.get("roofline_inbox_duplicates_total", 0.0)
        applied_after_restart = metrics.get("roofline_events_applied_total", 0.0)
        # Everything the killed process had not committed was applied by the second one, and
        # whatever it re-read past the last offset commit was absorbed by the inbox.
        assert applied_after_restart == EVENTS - killed_at
        print(f"killed after {killed_at} applied; inbox absorbed {duplicates:.0f} duplicates")
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 15)
        await reader.engine.dispose()
