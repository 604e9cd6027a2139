"""Messaging HTTP routes: one router per area, the dependency the composition root provides in
``deps.py``, domain errors mapped to HTTP in ``errors.py``. The public routers (a survey link, a
provider's webhook, the open pixel) check what they are given themselves."""

from __future__ import annotations

from fastapi import APIRouter

from services.messaging.api import email, people, portal, surveys, threads

ROUTERS: tuple[APIRouter, ...] = (
    threads.router,
    portal.router,
    people.router,
    surveys.router,
    surveys.public,
    email.router,
    email.public,
)
