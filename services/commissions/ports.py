"""What the commissions handlers depend on, as interfaces; ``app.py`` wires the SQL ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel

from services.commissions.domain import JobSalesman, JobSalesmanRecord
from services.commissions.domain.activity import ActivityRecord, CommissionJob
from services.commissions.domain.figures import Evaluation, JobFigures
from services.commissions.domain.statements import Payout
from services.commissions.metrics import CommissionsMetrics
from shared.platform.storage.uow import ServiceUnitOfWork


class JobSalesmanStore(Protocol):
    async def add(self, salesman: JobSalesman) -> bool:
        """Credit the job's salesman; False if already credited (a replayed lead)."""
        ...

    async def get(self, job_id: str) -> JobSalesmanRecord | None: ...


class CommissionJobStore(Protocol):
    async def get(self, job_id: str, *, for_update: bool = False) -> CommissionJob | None: ...
    async def put(self, job: CommissionJob) -> None: ...
    async def get_many(self, job_ids: list[str]) -> dict[str, CommissionJob]: ...


class ActivityStore(Protocol):
    async def add(self, record: ActivityRecord) -> None: ...
    async def of_job(self, job_id: str) -> list[ActivityRecord]:
        """Oldest first."""
        ...

    async def get(self, record_id: str) -> ActivityRecord | None: ...
    async def of_jobs(self, job_ids: list[str]) -> list[ActivityRecord]:
        """Oldest first."""
        ...

    async def of_salesman(self, salesman_id: str, start: date, end: date) -> list[ActivityRecord]:
        """Effective in [start, end), oldest first."""
        ...

    async def of_period(self, start: date, end: date) -> list[ActivityRecord]:
        """Every salesman's, effective in [start, end), oldest first."""
        ...

    async def assign_payout(self, record_ids: list[str], payout_id: str) -> None: ...

    async def volume(self, salesman_id: str, start: date, end: date) -> Decimal:
        """The salesman's released volume effective in [start, end) (tiers are by the month's)."""
        ...


class PayoutStore(Protocol):
    async def put(self, payout: Payout) -> None: ...
    async def get(self, payout_id: str, *, for_update: bool = False) -> Payout | None: ...
    async def listed(self, salesman_id: str | None) -> list[Payout]: ...
    async def paid(self) -> set[str]:
        """The ids of the payouts paid."""
        ...


@dataclass(frozen=True)
class CommissionsRepositories:
    salesmen: JobSalesmanStore
    jobs: CommissionJobStore
    activity: ActivityStore
    payouts: PayoutStore


CommissionsUnitOfWork = ServiceUnitOfWork[CommissionsRepositories]


class CommissionsFigures(BaseModel):
    """What the gauges show, across tenants."""

    amounts: dict[tuple[str, str], Decimal]  # (YYYY-MM, kind) -> sum
    payouts_pending: int
    advances_outstanding: Decimal


class CommissionPlans(Protocol):
    """The tenant's plan files (``commission_plans/``)."""

    def evaluate(
        self, tenant: str, salesman_id: str, on: date, job: JobFigures, month_volume: Decimal
    ) -> Evaluation:
        """The job under the plan that applies to the salesman on ``on`` (``PlanNotFound``)."""
        ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CommissionsDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], CommissionsUnitOfWork]  # by tenant
    plans: CommissionPlans
    # What the gauges show, across tenants (this year's and last year's months).
    figures: Callable[[], Awaitable[CommissionsFigures]]
    metrics: CommissionsMetrics = field(default_factory=CommissionsMetrics)
    clock: Callable[[], datetime] = field(default=utc_now)
