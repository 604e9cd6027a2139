"""Commissions HTTP routes: one router per area, their models in ``models.py``, the dependency
the composition root provides in ``deps.py``, domain errors mapped to HTTP in ``errors.py``."""

from __future__ import annotations

from fastapi import APIRouter

from services.commissions.api import activity, recompute, salesmen, statements

ROUTERS: tuple[APIRouter, ...] = (
    salesmen.router,
    activity.router,
    statements.router,
    recompute.router,
)
