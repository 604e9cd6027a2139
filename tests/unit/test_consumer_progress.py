"""Whether a consumer gets through its records: hand-backs in a row, a batch held too long, and
records waiting that nothing takes (``TolerantConsumer.idle_behind``)."""

from __future__ import annotations

from typing import Any

import pytest

from shared.platform.messaging.progress import ConsumerProgress
from shared.platform.metrics import ServiceMetrics


def test_progress_reports_handbacks_in_a_row_and_a_batch_held_too_long() -> None:
    now = [0.0]
    metrics = ServiceMetrics("unit")
    progress = ConsumerProgress(
        "c", metrics, stall_handbacks=2, stall_after_s=30, clock=lambda: now[0]
    )

    progress.started()
    progress.handed_back("transient: OSError()")
    assert progress.problem() is None and not progress.suspect
    progress.started()
    progress.handed_back("transient: OSError()")
    assert progress.suspect
    assert "2 batches in a row" in (progress.problem() or "")
    assert "OSError" in (progress.problem() or "")
    handbacks = metrics.registry.get_sample_value(
        "roofline_consumer_handbacks_in_a_row", {"consumer": "c"}
    )
    assert handbacks == 2.0
    progress.started()
    progress.applied()
    assert progress.problem() is None
    progress.started()
    now[0] = 31.0
    assert "in flight for 31s" in (progress.problem() or "")
    progress.applied()
    assert progress.problem() is None


async def test_records_waiting_with_no_position_moving_is_reported_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``TolerantConsumer.idle_behind``: the stall check for a consume loop that takes
    nothing (its own fetcher still sees the high watermarks grow)."""
    from aiokafka import TopicPartition

    from shared.platform.messaging.tolerant_consumer import TolerantConsumer

    async def nothing(*args: Any) -> None: ...

    now = [100.0]
    kafka = TolerantConsumer(bootstrap_servers="127.0.0.1:1", on_unreadable=nothing)
    kafka.clock = lambda: now[0]
    tp = TopicPartition("t", 0)
    positions, highwater = {tp: 5}, {tp: 5}
    monkeypatch.setattr(kafka, "_positions", lambda: dict(positions))
    monkeypatch.setattr(kafka, "highwater", lambda partition: highwater[partition])

    try:
        assert kafka.idle_behind() is None  # caught up
        highwater[tp] = 9
        now[0] = 101.0
        assert kafka.idle_behind() == (4, 1.0)  # behind since it was last seen caught up
        now[0] = 131.0
        assert kafka.idle_behind() == (4, 31.0)
        positions[tp] = 6  # it takes one: progress
        assert kafka.idle_behind() is None
    finally:
        await kafka.stop()
