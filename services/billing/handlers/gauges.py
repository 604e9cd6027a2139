"""The billing gauges, refreshed from the database across tenants."""

from __future__ import annotations

from services.billing.ports import BillingDeps

METHODS = ("check", "card", "ach", "cash", "financing", "insurance_check")


async def refresh_gauges(deps: BillingDeps) -> None:
    figures, metrics, now = await deps.figures(), deps.metrics, deps.clock()
    metrics.held_jobs.set(figures.held_jobs)
    metrics.held_balance.set(float(figures.held_balance))
    metrics.escalations_open.set(figures.escalations_open)
    oldest = figures.oldest_escalation_at
    metrics.escalation_oldest_age.set((now - oldest).total_seconds() if oldest else 0)
    metrics.depreciation_outstanding.set(float(figures.depreciation_outstanding))
    metrics.depreciation_claims.labels("near").set(figures.depreciation_near_deadline)
    metrics.depreciation_claims.labels("passed").set(figures.depreciation_past_deadline)
    for method in METHODS:
        count, amount = figures.payments_by_method.get(method, (0, 0))
        metrics.payments.labels(method).set(count)
        metrics.payments_amount.labels(method).set(float(amount))
    metrics.returned_checks_open.set(figures.returned_checks_open)
