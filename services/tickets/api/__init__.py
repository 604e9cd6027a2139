"""Tickets HTTP routes: one router per area, their models in ``models.py``, the dependency the
composition root provides in ``deps.py``, domain errors mapped to HTTP in ``errors.py``."""

from __future__ import annotations

from fastapi import APIRouter

from services.tickets.api import (
    customers,
    end_of_day,
    plans,
    queues,
    routing,
    schedule,
    tickets,
)

ROUTERS: tuple[APIRouter, ...] = (
    tickets.router,
    queues.router,
    end_of_day.router,
    schedule.router,
    plans.router,
    routing.router,
    customers.router,
)
