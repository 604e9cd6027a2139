"""Retry policy: what a failure means for a batch, and how long to wait for it to pass.

One place decides the three outcomes every attempt to apply (or dead-letter) ends in:
``DONE``; ``FAILED`` (not transient: the caller isolates the event that fails and, after
``consumer_max_attempts``, dead-letters it); ``REQUEUE`` (transient failures, database or broker
down, outlasted ``consumer_transient_budget_s``: the batch is handed back to Kafka so the consumer
keeps polling inside ``max_poll_interval_ms``; nothing is skipped, nothing dead-lettered).
Backoff doubles from ``consumer_retry_backoff_s`` up to ``consumer_retry_backoff_max_s``.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from shared.platform.metrics import ServiceMetrics
from shared.platform.settings import Settings
from shared.platform.storage.db import is_transient

log = logging.getLogger(__name__)


class BatchResult(enum.Enum):
    DONE = "done"  # commit offsets
    REQUEUE = "requeue"  # seek back: the whole batch comes again


# An attempt failed for a non-transient reason (not a BatchResult: never a batch's outcome).
FAILED = object()


class TransientRetry:
    """Runs attempts for one consumer and remembers why the last one failed (readiness)."""

    def __init__(self, settings: Settings, metrics: ServiceMetrics, consumer: str) -> None:
        self.settings = settings
        self.metrics = metrics
        self.consumer = consumer
        # The last reason a batch could not be applied (for readiness when it keeps happening).
        self.last_failure = ""

    async def run(
        self,
        attempt: Callable[[], Awaitable[Any]],
        topic: str,
        errors: list[BaseException] | None = None,
        *,
        once: bool = False,
    ) -> Any:
        """Run ``attempt`` until it succeeds (``DONE``), fails for a non-transient reason
        (``FAILED``), or transient failures outlast the batch budget (``REQUEUE``; with
        ``once``, at the first transient failure)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.consumer_transient_budget_s
        backoff = self.settings.consumer_retry_backoff_s
        while True:
            try:
                await attempt()
                return BatchResult.DONE
            except Exception as exc:
                if errors is not None:
                    errors.append(exc)
                if not is_transient(exc):
                    log.warning(
                        "event handling failed", exc_info=True, extra={"consumer": self.consumer}
                    )
                    self.last_failure = repr(exc)
                    return FAILED
                self.last_failure = f"transient: {exc!r}"
                self.metrics.consumer_retries.labels(topic, "transient").inc()
                if once or loop.time() + backoff > deadline:
                    log.warning(
                        "transient failure outlasted the batch budget; handing back",
                        extra={"consumer": self.consumer, "error": repr(exc)},
                    )
                    return BatchResult.REQUEUE
                log.info(
                    "transient failure; retrying",
                    extra={"consumer": self.consumer, "error": repr(exc), "backoff_s": backoff},
                )
                await asyncio.sleep(backoff)
                backoff = self.next_backoff(backoff)

    def next_backoff(self, backoff: float) -> float:
        return min(backoff * 2, self.settings.consumer_retry_backoff_max_s)
