"""The end-of-day reassignment: the tenant's end of day, and the supervisor's command to run
today's move now."""

from __future__ import annotations

from collections.abc import Collection

from services.tickets.api.common import OFFICE
from services.tickets.api.deps import AnyCaller, Deps
from services.tickets.domain.end_of_day import EndOfDay, EndOfDayRun
from services.tickets.handlers import end_of_day
from shared.platform.http.access import GuardedRouter
from shared.platform.http.problems import NotFound

SUPERVISORS = ("service_manager", "production_manager")
ACCESS: dict[str, Collection[str]] = {
    "read_end_of_day": OFFICE,
    "configure_end_of_day": SUPERVISORS,
    "move_now": SUPERVISORS,
}

router = GuardedRouter(ACCESS, tags=["queues"])


class MoveResult(EndOfDayRun):
    ran_now: bool


@router.get("/end-of-day", response_model=EndOfDay)
async def read_end_of_day(deps: Deps, caller: AnyCaller) -> EndOfDay:
    config = await end_of_day.read_config(deps, caller.tenant_id)
    if config is None:
        raise NotFound("no end of day is configured for this tenant (PUT /end-of-day)")
    return config


@router.put("/end-of-day", response_model=EndOfDay)
async def configure_end_of_day(body: EndOfDay, deps: Deps, caller: AnyCaller) -> EndOfDay:
    """When the tenant's day ends (local time): the undone follow-ups of the Issues and
    Unapproved Maintenance queues move to the next business day then (policy ``end_of_day``)."""
    return await end_of_day.configure(deps, caller.tenant_id, body)


@router.post("/end-of-day/run", response_model=MoveResult)
async def move_now(deps: Deps, caller: AnyCaller) -> MoveResult:
    """Today's move, now (once a day: if it already ran, says when and by whom)."""
    run, ran_now = await end_of_day.run_now(deps, caller.tenant_id, caller.user_id)
    return MoveResult(**run.model_dump(), ran_now=ran_now)
