"""Jobs HTTP routes: one router per area, their models in ``models.py``, what they are given in
``deps.py``, domain errors mapped to HTTP in ``errors.py``.

Commands are POSTs on the job; queries are GETs. The routers are mounted in this order, which is
the order of the OpenAPI document (and ``GET /jobs/deadlines`` comes before ``GET /jobs/{job_id}``
within ``queries``).
"""

from __future__ import annotations

from fastapi import APIRouter

from services.jobs.api import crews, file, pipeline, production, queries

ROUTERS: tuple[APIRouter, ...] = (
    pipeline.router,
    file.router,
    production.router,
    crews.router,
    queries.router,
)
