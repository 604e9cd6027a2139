"""What the tickets handlers depend on, as interfaces; ``app.py`` wires the SQL ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from services.tickets.domain import JobCustomer, JobCustomerRecord
from shared.platform.storage.uow import ServiceUnitOfWork


class JobCustomerStore(Protocol):
    async def add(self, customer: JobCustomer) -> bool:
        """Keep the job's customer; False if it was already kept (a replayed lead)."""
        ...

    async def get(self, job_id: str) -> JobCustomerRecord | None: ...


@dataclass(frozen=True)
class TicketsRepositories:
    customers: JobCustomerStore


TicketsUnitOfWork = ServiceUnitOfWork[TicketsRepositories]


@dataclass(frozen=True)
class TicketsDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], TicketsUnitOfWork]  # by tenant
