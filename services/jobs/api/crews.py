"""Crews: who installs, their trades, where they start from and how much they take a day."""

from __future__ import annotations

from collections.abc import Collection

from services.jobs.api.common import OFFICE
from services.jobs.api.deps import AnyCaller, Deps
from services.jobs.api.models import Crew, NewCrew
from services.jobs.handlers import production, queries
from shared.platform.http.access import GuardedRouter

ACCESS: dict[str, Collection[str]] = {
    "add_crew": ("production_manager", "trade_manager"),
    "list_crews": OFFICE,
}

router = GuardedRouter(ACCESS, tags=["jobs"])


@router.post("/crews", response_model=Crew, status_code=201)
async def add_crew(body: NewCrew, deps: Deps, caller: AnyCaller) -> Crew:
    crew = Crew(tenant_id=caller.tenant_id, **body.model_dump())
    return await production.add_crew(deps, caller, crew)


@router.get("/crews", response_model=list[Crew])
async def list_crews(deps: Deps, caller: AnyCaller) -> list[Crew]:
    return await queries.crews(deps, caller)
