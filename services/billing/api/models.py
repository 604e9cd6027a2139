"""Request and response models of the billing API."""

from __future__ import annotations

from services.billing.domain import FinanceFolderRecord

# Answered as kept: the domain record is the response.
FinanceFolderView = FinanceFolderRecord

__all__ = ["FinanceFolderView"]
