"""Billing HTTP routes: one router per area, the dependency the composition root provides in
``deps.py``, domain errors mapped to HTTP in ``errors.py``."""

from __future__ import annotations

from fastapi import APIRouter

from services.billing.api import (
    collections,
    costs,
    exports,
    financing,
    folders,
    insurance,
    invoices,
    payments,
    returned_checks,
)

ROUTERS: tuple[APIRouter, ...] = (
    folders.router,
    payments.router,
    collections.router,
    costs.router,
    invoices.router,
    returned_checks.router,
    insurance.router,
    financing.router,
    exports.router,
)
