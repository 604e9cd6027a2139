"""Request and response models of the commissions API."""

from __future__ import annotations

from services.commissions.domain import JobSalesmanRecord

# Answered as kept: the domain record is the response.
SalesmanView = JobSalesmanRecord

__all__ = ["SalesmanView"]
