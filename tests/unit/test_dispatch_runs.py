"""Which events a handler gets together: consecutive events of one tenant whose types share the
batch handler, in arrival order (a projection folding several types); a per-event handler's
types stay apart."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from shared.platform.messaging.dispatch import Handlers, runs_of_one_handler
from tests.support.tally import Applied, Incremented


def item(event_type: str, tenant: str = "acme", n: int = 0) -> Any:
    return SimpleNamespace(envelope=SimpleNamespace(type=event_type, tenant_id=tenant), n=n)


async def fold(uow: Any, events: list[Any]) -> None: ...


async def each(uow: Any, envelope: Any, data: Any) -> None: ...


def shape(runs: list[list[Any]]) -> list[list[int]]:
    return [[i.n for i in run] for run in runs]


INC, APP = Incremented.event_type, Applied.event_type


def test_types_sharing_a_batch_handler_form_one_run_per_tenant() -> None:
    handlers = Handlers("c")
    for event in (Incremented, Applied):
        handlers.in_runs(event, fold)
    items = [item(INC, n=1), item(APP, n=2), item(INC, n=3), item(INC, "other", 4), item(APP, n=5)]
    assert shape(runs_of_one_handler(items, handlers.by_type)) == [[1, 2, 3], [4], [5]]


def test_per_event_handlers_keep_their_types_apart() -> None:
    handlers = Handlers("c")
    handlers.one_by_one(Incremented, each)
    handlers.one_by_one(Applied, each)
    items = [item(INC, n=1), item(INC, n=2), item(APP, n=3), item(INC, n=4)]
    assert shape(runs_of_one_handler(items, handlers.by_type)) == [[1, 2], [3], [4]]
