"""What every contract is built from: catalogued event payloads and decision-point facts.

The catalog is the contract between services: every public event type is one pydantic model
registered under its versioned name (``jobs.lead_created.v1``); a published model never changes,
a change is a new ``.vN`` type beside the old one. A decision point is named ``<area>.<action>``;
its facts model is the contract between the service that builds the facts and the policy owners
who write rules over them: a rule may only test the paths listed there (``roofline policy lint``
says so, with the closest names), and a service must supply every field (``None`` means "not known
/ not set"). Adding a field is compatible; renaming or removing one is done like an event version
change.

This module imports nothing but pydantic: the platform, the policy engine and every service
depend on the contracts, never the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict


class EventData(BaseModel):
    """Base of every catalogued event payload. ``event_type`` is the versioned public name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    event_type: ClassVar[str]


_CATALOG: dict[str, type[EventData]] = {}
E = TypeVar("E", bound=type[EventData])


def catalogued(event_type: str) -> Callable[[E], E]:
    """Class decorator: register ``cls`` in the catalog under ``event_type`` (unique)."""

    def register(cls: E) -> E:
        if event_type in _CATALOG and _CATALOG[event_type] is not cls:
            raise ValueError(f"event type {event_type!r} is already catalogued")
        cls.event_type = event_type
        _CATALOG[event_type] = cls
        return cls

    return register


def catalog() -> dict[str, type[EventData]]:
    return dict(_CATALOG)


def model_for(event_type: str) -> type[EventData] | None:
    return _CATALOG.get(event_type)


class Facts(BaseModel):
    """Base of every facts model: strict about unknown fields, immutable once built."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class DecisionPoint:
    name: str
    description: str
    facts: type[Facts]


_DECISION_POINTS: dict[str, DecisionPoint] = {}


F = TypeVar("F", bound=type[Facts])


def decision_point(name: str, description: str) -> Callable[[F], F]:
    def register(cls: F) -> F:
        if name in _DECISION_POINTS:
            raise ValueError(f"decision point {name!r} is already declared")
        _DECISION_POINTS[name] = DecisionPoint(name, description, cls)
        return cls

    return register


def decision_points() -> dict[str, DecisionPoint]:
    return dict(_DECISION_POINTS)
