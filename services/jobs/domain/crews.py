"""Crews: who installs, what trades they do, where they start from, how much they take a day;
and the ranking of crews for a job (trade match, complexity, distance)."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.jobs import Trade

EARTH_RADIUS_KM = 6371.0


class Crew(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    crew_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    tenant_id: str
    name: str = Field(min_length=1, max_length=100)
    trades: list[Trade] = Field(min_length=1)
    home_latitude: float = Field(ge=-90, le=90)
    home_longitude: float = Field(ge=-180, le=180)
    daily_capacity: int = Field(1, ge=1, le=20, description="Jobs the crew can work in one day.")
    max_complexity: int = Field(3, ge=1, le=3, description="The hardest job (1-3) it takes on.")
    member_ids: list[str] = Field(default_factory=list, description="Installers' user ids.")

    def covers(self, trades: Iterable[str]) -> bool:
        return set(trades) <= set(self.trades)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (straight-line) distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


@dataclass(frozen=True)
class CrewSuggestion:
    crew: Crew
    trade_match: float  # share of the job's trades the crew does (1.0 = all)
    handles_complexity: bool
    distance_km: float | None


def suggest_crews(
    crews: list[Crew],
    *,
    trades: list[str],
    complexity: int | None,
    latitude: float | None,
    longitude: float | None,
) -> list[CrewSuggestion]:
    """Crews best first: the most of the job's trades, then able to take its complexity, then
    nearest to the property (unknown distance last)."""
    suggestions = []
    for crew in crews:
        wanted = set(trades) or {"roofing"}
        distance = (
            distance_km(crew.home_latitude, crew.home_longitude, latitude, longitude)
            if latitude is not None and longitude is not None
            else None
        )
        suggestions.append(
            CrewSuggestion(
                crew=crew,
                trade_match=len(wanted & set(crew.trades)) / len(wanted),
                handles_complexity=complexity is None or crew.max_complexity >= complexity,
                distance_km=distance,
            )
        )
    return sorted(
        suggestions,
        key=lambda s: (
            -s.trade_match,
            not s.handles_complexity,
            s.distance_km is None,
            s.distance_km or 0.0,
            s.crew.name,
        ),
    )
