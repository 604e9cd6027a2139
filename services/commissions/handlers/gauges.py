"""The commissions gauges, refreshed from the database across tenants."""

from __future__ import annotations

from services.commissions.ports import CommissionsDeps


async def refresh_gauges(deps: CommissionsDeps) -> None:
    figures, metrics = await deps.figures(), deps.metrics
    for (month, kind), amount in figures.amounts.items():
        metrics.amounts.labels(month, kind).set(float(amount))
    metrics.payouts_pending.set(figures.payouts_pending)
    metrics.advances_outstanding.set(float(figures.advances_outstanding))
