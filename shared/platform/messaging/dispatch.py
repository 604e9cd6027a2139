"""Handler registry and dispatch: which handler gets which events, in one transaction.

A service registers a handler per event type, either per event (``on``) or per run of
consecutive events (``on_batch``, for set-based writes: what keeps a busy consumer near the raw
Kafka + PostgreSQL floor). One batch handler may take several types (a projection folding a
job's lead, sale and crew in order): a run is then the consecutive events of any of them.
Dispatch applies a list of parsed events in one unit of work: into the inbox first (duplicates
drop out), then each run of one handler and tenant to it with the correlation and tenant context
set, then commit, then the metrics.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from shared.contracts.base import EventData
from shared.platform.context import correlation_id_var, tenant_id_var
from shared.platform.messaging.envelope import Envelope
from shared.platform.messaging.inbox import Inbox
from shared.platform.messaging.parsing import Incoming
from shared.platform.metrics import ServiceMetrics
from shared.platform.storage.uow import UnitOfWork, UnitOfWorkFactory

D = TypeVar("D", bound=EventData)
Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
# A batch handler gets consecutive events of one type (in arrival order) and can write them with
# set-based statements; that is what keeps a busy consumer near the raw Kafka + Postgres floor.
BatchHandler = Callable[[UnitOfWork, list[tuple[Envelope, Any]]], Awaitable[None]]


class Handlers:
    """The handlers of one consumer, by event type."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self.by_type: dict[str, BatchHandler] = {}

    def one_by_one(self, event: type[EventData], handler: Handler) -> None:
        async def each(uow: UnitOfWork, events: list[tuple[Envelope, Any]]) -> None:
            for envelope, data in events:
                correlation_id_var.set(envelope.correlation_id)
                await handler(uow, envelope, data)

        self.in_runs(event, each)

    def in_runs(self, event: type[EventData], handler: BatchHandler) -> None:
        if event.event_type in self.by_type:
            raise ValueError(f"{event.event_type} already has a handler in {self.consumer}")
        self.by_type[event.event_type] = handler

    @property
    def event_types(self) -> list[str]:
        return sorted(self.by_type)


class Dispatcher:
    """Applies parsed events in one transaction: inbox, handlers, commit, metrics."""

    def __init__(
        self,
        handlers: Handlers,
        inbox: Inbox,
        uow_factory: UnitOfWorkFactory,
        metrics: ServiceMetrics,
    ) -> None:
        self.handlers = handlers
        self.inbox = inbox
        self.uow_factory = uow_factory
        self.metrics = metrics

    async def apply(self, items: Sequence[Incoming], opened: UnitOfWork | None = None) -> None:
        """Apply ``items`` in ``opened`` (a transaction begun ahead) or a new unit of work."""
        async with opened or self.uow_factory() as uow:
            applied = await self.inbox.record(uow, items)
            for run in runs_of_one_handler(applied, self.handlers.by_type):
                first = run[0].envelope
                correlation_id_var.set(first.correlation_id)
                tenant_id_var.set(first.tenant_id)
                await self.handlers.by_type[first.type](
                    uow, [(item.envelope, item.data) for item in run]
                )
            await uow.commit()
        duplicates = len(items) - len(applied)
        if duplicates:
            self.metrics.inbox_duplicates.labels(items[0].record.topic).inc(duplicates)
        for (topic, event_type), count in Counter(
            (item.record.topic, item.envelope.type) for item in applied
        ).items():
            self.metrics.events_applied.labels(topic, event_type).inc(count)

    async def set_aside(self, item: Incoming) -> None:
        """Into the inbox alone, as done with (a poison event, dead-lettered)."""
        async with self.uow_factory() as uow:
            await self.inbox.record(uow, [item])
            await uow.commit()


def runs_of_one_handler(
    items: Sequence[Incoming], by_type: dict[str, BatchHandler]
) -> list[list[Incoming]]:
    """Split into consecutive runs of one handler and tenant, keeping arrival order."""
    runs: list[list[Incoming]] = []
    for item in items:
        last = runs[-1][0].envelope if runs else None
        if (
            last
            and last.tenant_id == item.envelope.tenant_id
            and by_type[last.type] is by_type[item.envelope.type]
        ):
            runs[-1].append(item)
        else:
            runs.append([item])
    return runs
