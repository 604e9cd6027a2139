"""Weekly maintenance plans (seed 003, New Weekly): propose with a first visit, the first visit
done (the next day's follow-up call), and the changes: pause, resume, skip a visit, change the
day, end. The customer approves or declines on a follow-up call of the tracking work order."""

from __future__ import annotations

from collections.abc import Collection

from services.tickets.api import models
from services.tickets.api.common import OFFICE, SERVICE_OFFICE
from services.tickets.api.deps import AnyCaller, Deps
from services.tickets.api.models import TicketView
from services.tickets.domain import commands
from services.tickets.domain.plans import MaintenancePlan
from services.tickets.domain.values import PlanStatus
from services.tickets.handlers import plans
from shared.platform.http.access import GuardedRouter
from shared.platform.http.edge import Limit, Offset

ACCESS: dict[str, Collection[str]] = {
    "propose_plan": SERVICE_OFFICE,
    "first_visit_done": SERVICE_OFFICE,
    "pause": SERVICE_OFFICE,
    "resume": SERVICE_OFFICE,
    "skip_visit": SERVICE_OFFICE,
    "change_day": SERVICE_OFFICE,
    "end": SERVICE_OFFICE,
    "read_plan": OFFICE,
    "list_plans": OFFICE,
}

router = GuardedRouter(ACCESS, tags=["plans"])


@router.post("/plans", response_model=MaintenancePlan, status_code=201)
async def propose_plan(
    body: commands.ProposePlan, deps: Deps, caller: AnyCaller
) -> MaintenancePlan:
    """A weekly tracking and a weekly tech work order, and the first visit on the technician's
    day (refused past their visits a day). The first visit needs payment information on file."""
    return await plans.propose_plan(deps, caller, body)


@router.post("/plans/{plan_id}/first-visit-done", response_model=TicketView)
async def first_visit_done(plan_id: str, deps: Deps, caller: AnyCaller) -> TicketView:
    """The tracking work order enters Unapproved Maintenance, its call due the next business
    day; approving on a call makes the plan recurring, declining ends it."""
    tracking = await plans.first_visit_done(deps, caller, commands.PlanCommand(plan_id=plan_id))
    return TicketView.of(tracking)


@router.post("/plans/{plan_id}/pause", response_model=MaintenancePlan)
async def pause(plan_id: str, deps: Deps, caller: AnyCaller) -> MaintenancePlan:
    return await plans.pause(deps, caller, commands.PlanCommand(plan_id=plan_id))


@router.post("/plans/{plan_id}/resume", response_model=MaintenancePlan)
async def resume(plan_id: str, deps: Deps, caller: AnyCaller) -> MaintenancePlan:
    return await plans.resume(deps, caller, commands.PlanCommand(plan_id=plan_id))


@router.post("/plans/{plan_id}/skip", response_model=MaintenancePlan)
async def skip_visit(
    plan_id: str, body: models.SkipVisit, deps: Deps, caller: AnyCaller
) -> MaintenancePlan:
    return await plans.skip_visit(deps, caller, commands.SkipVisit(plan_id=plan_id, day=body.day))


@router.post("/plans/{plan_id}/day", response_model=MaintenancePlan)
async def change_day(
    plan_id: str, body: models.ChangePlanDay, deps: Deps, caller: AnyCaller
) -> MaintenancePlan:
    """Future visits move to the new day; past ones stay."""
    command = commands.ChangePlanDay(plan_id=plan_id, weekday=body.weekday)
    return await plans.change_day(deps, caller, command)


@router.post("/plans/{plan_id}/end", response_model=MaintenancePlan)
async def end(plan_id: str, deps: Deps, caller: AnyCaller) -> MaintenancePlan:
    return await plans.end(deps, caller, commands.PlanCommand(plan_id=plan_id))


@router.get("/plans/{plan_id}", response_model=MaintenancePlan)
async def read_plan(plan_id: str, deps: Deps, caller: AnyCaller) -> MaintenancePlan:
    return await plans.get_plan(deps, caller, plan_id)


@router.get("/plans", response_model=list[MaintenancePlan])
async def list_plans(
    deps: Deps,
    caller: AnyCaller,
    status: PlanStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[MaintenancePlan]:
    return await plans.find_plans(deps, caller, status, limit=limit, offset=offset)
