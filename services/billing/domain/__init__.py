"""The billing domain. Pure: no I/O, no framework: the finance folder (``folder``) and the
money on a job (``ledger``)."""

from __future__ import annotations

from services.billing.domain.folder import (
    Financing,
    Folder,
    FolderNotFound,
    IdempotencyKeyReused,
    PaymentRefused,
)
from services.billing.domain.ledger import Balance, MoneyRecord, balance_of

__all__ = [
    "Balance",
    "Financing",
    "Folder",
    "FolderNotFound",
    "IdempotencyKeyReused",
    "MoneyRecord",
    "PaymentRefused",
    "balance_of",
]
