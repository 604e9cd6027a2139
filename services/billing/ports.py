"""What the billing handlers depend on, as interfaces; ``app.py`` wires the SQL ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from services.billing.domain import FinanceFolder, FinanceFolderRecord
from shared.platform.storage.uow import ServiceUnitOfWork


class FinanceFolderStore(Protocol):
    async def add(self, folder: FinanceFolder) -> bool:
        """Open the folder; False if the job already has one (a replayed lead)."""
        ...

    async def get(self, job_id: str) -> FinanceFolderRecord | None: ...


@dataclass(frozen=True)
class BillingRepositories:
    folders: FinanceFolderStore


BillingUnitOfWork = ServiceUnitOfWork[BillingRepositories]


@dataclass(frozen=True)
class BillingDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], BillingUnitOfWork]  # by tenant
