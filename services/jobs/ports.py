"""What the jobs handlers depend on, as interfaces: the unit of work with its repositories, and
the policy layer. ``app.py`` wires the real ones; unit tests pass fakes (tests/unit/jobs)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from services.jobs.domain import Crew, Job
from services.jobs.metrics import JobsMetrics
from shared.platform.storage.uow import ServiceUnitOfWork
from shared.policy.decider import Decider


class JobStore(Protocol):
    async def add(self, job: Job) -> None: ...
    async def get(self, job_id: str, *, for_update: bool = False) -> Job | None: ...
    async def save(self, job: Job, *, at: datetime) -> None: ...
    async def next_job_number(self, year: int) -> str: ...
    async def audit(
        self,
        job_id: str,
        *,
        actor: str,
        action: str,
        at: datetime,
        detail: dict[str, Any],
        reason: str | None = None,
    ) -> None: ...
    async def audit_trail(self, job_id: str) -> list[dict[str, Any]]: ...
    async def acknowledgements(self, job_id: str) -> dict[str, datetime]: ...
    async def acknowledge(
        self, job_id: str, service: str, event_type: str, event_id: str, at: datetime
    ) -> None: ...
    async def find(
        self,
        *,
        text: str | None = None,
        crew_ids: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]: ...
    async def board(self, column: str) -> list[tuple[str | None, bool, int, Decimal]]: ...
    async def deadlines(self, until: datetime) -> list[dict[str, Any]]: ...


class CrewStore(Protocol):
    async def add(self, crew: Crew) -> None: ...
    async def get(self, crew_id: str) -> Crew | None: ...
    async def all(self) -> list[Crew]: ...
    async def of_member(self, user_id: str) -> list[str]: ...
    async def busiest_day(self, crew_id: str, days: Sequence[date], *, other_than: str) -> int: ...
    async def book(self, crew_id: str, job_id: str, days: Sequence[date]) -> None: ...
    async def calendar(self, start: date, end: date) -> list[tuple[date, str, str]]: ...


@dataclass(frozen=True)
class JobsRepositories:
    """A tenant's jobs and crews, in one unit of work."""

    jobs: JobStore
    crews: CrewStore


# One transaction: a tenant's jobs and crews, the events recorded, the policy decisions.
JobsUnitOfWork = ServiceUnitOfWork[JobsRepositories]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class JobsDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], JobsUnitOfWork]  # by tenant
    policy: Decider
    metrics: JobsMetrics = field(default_factory=JobsMetrics)
    clock: Callable[[], datetime] = utc_now
