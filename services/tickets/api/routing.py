"""The tenant's routing table: tickets of a trade or product go to its product admin."""

from __future__ import annotations

from collections.abc import Collection

from services.tickets.api import models
from services.tickets.api.common import OFFICE, PathId
from services.tickets.api.deps import AnyCaller, Deps
from services.tickets.domain import commands
from services.tickets.handlers import routing
from shared.platform.http.access import GuardedRouter

ACCESS: dict[str, Collection[str]] = {
    "routing_table": OFFICE,
    "route": ("service_manager", "production_manager"),
}

router = GuardedRouter(ACCESS, tags=["routing"])


@router.get("/routing")
async def routing_table(deps: Deps, caller: AnyCaller) -> dict[str, str]:
    """Trade or product -> the product admin its tickets are routed to."""
    return await routing.routing_table(deps, caller.tenant_id)


@router.put("/routing/{key}")
async def route(key: PathId, body: models.Route, deps: Deps, caller: AnyCaller) -> dict[str, str]:
    command = commands.RouteToAdmin(key=key, admin_id=body.admin_id)
    return await routing.route(deps, caller.tenant_id, command)
