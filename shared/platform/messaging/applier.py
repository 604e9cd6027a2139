"""Applying one parsed batch: never lose an event, never loop forever on one.

What does not parse goes to the DLQ first (once). The rest is applied in one transaction,
transient failures retried (``retry``). If the batch fails for a non-transient reason, the
event that fails is found by applying the batch one event per transaction (within the batch
budget), retried ``consumer_max_attempts`` times with backoff, then dead-lettered and set aside
in the inbox (its batch coming again skips it); the events around it are applied. A *suspect*
batch (one that keeps coming back unapplied) goes straight to one event per transaction, and
there a transient failure while the database answers counts as an attempt, so a record that
fails like an outage every time is dead-lettered instead of holding back its partition.
"""

from __future__ import annotations

import asyncio
import functools

from shared.platform.messaging.dispatch import Dispatcher
from shared.platform.messaging.parsing import Incoming, ParsedBatch
from shared.platform.messaging.rejects import DeadLetterer
from shared.platform.messaging.retry import FAILED, BatchResult, TransientRetry
from shared.platform.settings import Settings
from shared.platform.storage.db import is_conflict
from shared.platform.storage.uow import UnitOfWork, UnitOfWorkFactory


class BatchApplier:
    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        dead_letterer: DeadLetterer,
        retry: TransientRetry,
        uow_factory: UnitOfWorkFactory,
    ) -> None:
        self.settings = settings
        self.dispatcher = dispatcher
        self.dead_letterer = dead_letterer
        self.retry = retry
        self.uow_factory = uow_factory

    async def apply_batch(
        self, batch: ParsedBatch, opened: UnitOfWork | None = None, *, suspect: bool = False
    ) -> BatchResult:
        """Dead-letter what did not parse, apply the rest in one transaction (``opened``, if
        begun ahead), retrying transient failures; isolate and dead-letter a poison event.

        ``suspect``: the batch keeps coming back without being applied (a record in it fails in
        a way that looks transient, every time): it goes straight to one event per transaction,
        and a transient failure of one event while the database answers counts as an attempt,
        so the record is dead-lettered after ``consumer_max_attempts`` instead of holding back
        its partition for good."""
        ahead = [opened] if opened is not None else []
        try:
            if batch.rejected:
                outcome = await self.retry.run(
                    lambda: self.dead_letterer.rejected(batch.rejected), batch.rejected[0][0].topic
                )
                if outcome is not BatchResult.DONE:
                    # Not dead-lettered (or not known to be): never commit past them.
                    return BatchResult.REQUEUE
            incoming = batch.incoming
            if not incoming:
                return BatchResult.DONE
            if not suspect:
                outcome = await self.retry.run(
                    lambda: self.dispatcher.apply(incoming, ahead.pop() if ahead else None),
                    incoming[0].record.topic,
                )
                if outcome is not FAILED:
                    return outcome
        finally:
            for unused in ahead:
                await unused.close()
        # Something in the batch fails for a non-transient reason: find it, one event at a time,
        # within the batch budget (a whole batch of failures must not outlast max_poll_interval;
        # what was applied stays applied, and the inbox skips it when the batch comes back).
        deadline = asyncio.get_running_loop().time() + self.settings.consumer_transient_budget_s
        for item in incoming:
            result = await self._apply_single(item, deadline, suspect=suspect)
            if result is BatchResult.REQUEUE:
                return result
        return BatchResult.DONE

    async def _apply_single(
        self, item: Incoming, deadline: float, *, suspect: bool = False
    ) -> BatchResult:
        attempts = 0
        backoff = self.settings.consumer_retry_backoff_s
        topic = item.record.topic
        apply = self.dispatcher.apply
        while True:
            attempts += 1
            error: list[BaseException] = []
            outcome = await self.retry.run(lambda: apply([item]), topic, errors=error, once=suspect)
            if outcome is BatchResult.REQUEUE and suspect:
                if not is_conflict(error[-1]) and await self.database_answers():
                    outcome = FAILED  # the database is fine: it is this event that fails
                else:  # the database is down after all: wait for it as usual
                    outcome = await self.retry.run(lambda: apply([item]), topic, errors=error)
            if outcome is not FAILED:
                return outcome
            if attempts >= self.settings.consumer_max_attempts:
                send = functools.partial(
                    self.dead_letterer.send,
                    item.record,
                    "handler_failed",
                    repr(error[-1]),
                    attempts=attempts,
                )
                dead_lettered = await self.retry.run(send, topic)
                if dead_lettered is not BatchResult.DONE:
                    return BatchResult.REQUEUE  # not in the DLQ: never commit past it
                # Into the inbox, as done with: when its batch comes again (handed back before
                # the isolation got through it), it is skipped instead of dead-lettered again,
                # so a batch with many failing events gets past them.
                outcome = await self.retry.run(lambda: self.dispatcher.set_aside(item), topic)
                return BatchResult.REQUEUE if outcome is BatchResult.REQUEUE else BatchResult.DONE
            self.dispatcher.metrics.consumer_retries.labels(topic, "failure").inc()
            if asyncio.get_running_loop().time() + backoff > deadline:
                return BatchResult.REQUEUE
            await asyncio.sleep(backoff)
            backoff = self.retry.next_backoff(backoff)

    async def database_answers(self) -> bool:
        """Whether the database takes a new connection and a query right now."""
        try:
            async with self.uow_factory() as uow:
                driver = await uow.driver_connection()
                await asyncio.wait_for(driver.fetchval("SELECT 1"), timeout=2)
            return True
        except Exception:
            return False
