"""What the commissions handlers depend on, as interfaces; ``app.py`` wires the SQL ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from services.commissions.domain import JobSalesman, JobSalesmanRecord
from shared.platform.storage.uow import ServiceUnitOfWork


class JobSalesmanStore(Protocol):
    async def add(self, salesman: JobSalesman) -> bool:
        """Credit the job's salesman; False if already credited (a replayed lead)."""
        ...

    async def get(self, job_id: str) -> JobSalesmanRecord | None: ...


@dataclass(frozen=True)
class CommissionsRepositories:
    salesmen: JobSalesmanStore


CommissionsUnitOfWork = ServiceUnitOfWork[CommissionsRepositories]


@dataclass(frozen=True)
class CommissionsDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], CommissionsUnitOfWork]  # by tenant
