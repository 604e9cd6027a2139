"""Whether a consumer gets through its records: for readiness, metrics and its own pipeline.

A consumer that is not making progress must say so, not keep answering ready while its
partitions stand still. Two signs, each with a setting:

- the batches it takes keep being handed back to Kafka without one being applied in between
  (``consumer_stall_handbacks`` in a row): the database has been down for that many batch
  budgets, or a record in the batch fails in a way that looks transient every time — the
  pipeline then applies the next delivery as *suspect* (one event per transaction, a transient
  failure while the database answers counting as an attempt), so the record is dead-lettered
  after a bounded number of attempts;
- a batch has been in flight for longer than ``consumer_stall_after_s`` (a handler that hangs).

(A third sign, fetches that keep failing before any batch is formed, is the Kafka consumer's:
``TolerantConsumer.fetch_failing``, checked with these by ``EventConsumer.stalled``.)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from shared.platform.metrics import ServiceMetrics


class ConsumerProgress:
    def __init__(
        self,
        name: str,
        metrics: ServiceMetrics,
        *,
        stall_handbacks: int,
        stall_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.stall_handbacks = stall_handbacks
        self.stall_after_s = stall_after_s
        self._clock = clock
        self.handbacks_in_a_row = 0
        self._last_handback_reason = ""
        self._in_flight_since: float | None = None
        self._handbacks_gauge = metrics.consumer_handbacks_in_a_row.labels(name)
        self._handbacks_gauge.set(0)

    @property
    def suspect(self) -> bool:
        """The next delivery is to be applied one event at a time, transient failures counted."""
        return self.handbacks_in_a_row >= self.stall_handbacks

    def started(self) -> None:
        self._in_flight_since = self._clock()

    def applied(self) -> None:
        self._in_flight_since = None
        self.handbacks_in_a_row = 0
        self._handbacks_gauge.set(0)

    def handed_back(self, reason: str) -> None:
        self._in_flight_since = None
        self.handbacks_in_a_row += 1
        self._last_handback_reason = reason
        self._handbacks_gauge.set(self.handbacks_in_a_row)

    def problem(self) -> str | None:
        """Why this consumer is not getting through its records, or None."""
        if self.handbacks_in_a_row >= self.stall_handbacks:
            return (
                f"stalled: {self.handbacks_in_a_row} batches in a row handed back without one "
                f"applied (last: {self._last_handback_reason or 'unknown'})"
            )
        if self._in_flight_since is not None:
            held = self._clock() - self._in_flight_since
            if held > self.stall_after_s:
                return f"stalled: a batch has been in flight for {held:.0f}s"
        return None
