"""In-memory commissions stores and unit of work for the handler unit tests (kept on commit),
and a plan that pays a fixed percent of the contract total (the plan files have their own
tests)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.commissions.domain import JobSalesman, JobSalesmanRecord
from services.commissions.domain.activity import ActivityRecord, CommissionJob
from services.commissions.domain.figures import Evaluation, JobFigures
from services.commissions.domain.statements import Payout
from services.commissions.ports import (
    CommissionsDeps,
    CommissionsFigures,
    CommissionsRepositories,
)
from shared.contracts.base import EventData


@dataclass
class State:
    salesmen: dict[tuple[str, str], JobSalesmanRecord] = field(default_factory=dict)
    jobs: dict[tuple[str, str], CommissionJob] = field(default_factory=dict)
    activity: list[tuple[str, ActivityRecord]] = field(default_factory=list)
    payouts: dict[tuple[str, str], Payout] = field(default_factory=dict)
    events: list[EventData] = field(default_factory=list)


class _Store:
    def __init__(self, state: State, tenant: str) -> None:
        self.state, self.tenant = state, tenant


class FakeSalesmen(_Store):
    async def add(self, salesman: JobSalesman) -> bool:
        key = (self.tenant, salesman.job_id)
        if key in self.state.salesmen:
            return False
        self.state.salesmen[key] = JobSalesmanRecord(
            tenant_id=self.tenant, recorded_at=datetime.now(UTC), **salesman.model_dump()
        )
        return True

    async def get(self, job_id: str) -> JobSalesmanRecord | None:
        return self.state.salesmen.get((self.tenant, job_id))


class FakeJobs(_Store):
    async def get(self, job_id: str, *, for_update: bool = False) -> CommissionJob | None:
        return self.state.jobs.get((self.tenant, job_id))

    async def put(self, job: CommissionJob) -> None:
        self.state.jobs[(self.tenant, job.job_id)] = job

    async def get_many(self, job_ids: list[str]) -> dict[str, CommissionJob]:
        found = {job_id: self.state.jobs.get((self.tenant, job_id)) for job_id in job_ids}
        return {job_id: job for job_id, job in found.items() if job is not None}


class FakeActivity(_Store):
    def _mine(self) -> list[ActivityRecord]:
        found = [r for tenant, r in self.state.activity if tenant == self.tenant]
        return sorted(found, key=lambda r: (r.recorded_at, r.record_id))

    async def add(self, record: ActivityRecord) -> None:
        self.state.activity.append((self.tenant, record))

    async def of_job(self, job_id: str) -> list[ActivityRecord]:
        return [r for r in self._mine() if r.job_id == job_id]

    async def get(self, record_id: str) -> ActivityRecord | None:
        return next((r for r in self._mine() if r.record_id == record_id), None)

    async def of_jobs(self, job_ids: list[str]) -> list[ActivityRecord]:
        wanted = set(job_ids)
        return [r for r in self._mine() if r.job_id in wanted]

    async def of_salesman(self, salesman_id: str, start: date, end: date) -> list[ActivityRecord]:
        return [
            r
            for r in self._mine()
            if r.salesman_id == salesman_id and start <= r.effective_on < end
        ]

    async def of_period(self, start: date, end: date) -> list[ActivityRecord]:
        return [r for r in self._mine() if start <= r.effective_on < end]

    async def assign_payout(self, record_ids: list[str], payout_id: str) -> None:
        self.state.activity = [
            (t, r.model_copy(update={"payout_id": payout_id}) if r.record_id in record_ids else r)
            for t, r in self.state.activity
        ]

    async def volume(self, salesman_id: str, start: date, end: date) -> Decimal:
        return sum(
            (
                r.volume
                for r in await self.of_salesman(salesman_id, start, end)
                if r.kind == "released"
            ),
            Decimal("0.00"),
        )


class FakePayouts(_Store):
    async def put(self, payout: Payout) -> None:
        self.state.payouts[(self.tenant, payout.payout_id)] = payout

    async def get(self, payout_id: str, *, for_update: bool = False) -> Payout | None:
        return self.state.payouts.get((self.tenant, payout_id))

    async def listed(self, salesman_id: str | None) -> list[Payout]:
        found = [
            p
            for (t, _), p in self.state.payouts.items()
            if t == self.tenant and salesman_id in (None, p.salesman_id)
        ]
        return sorted(found, key=lambda p: (p.requested_at, p.payout_id))

    async def paid(self) -> set[str]:
        return {
            p.payout_id
            for (t, _), p in self.state.payouts.items()
            if t == self.tenant and p.status == "paid"
        }


def fake_repositories(state: State, tenant_id: str) -> CommissionsRepositories:
    return CommissionsRepositories(
        salesmen=FakeSalesmen(state, tenant_id),
        jobs=FakeJobs(state, tenant_id),
        activity=FakeActivity(state, tenant_id),
        payouts=FakePayouts(state, tenant_id),
    )


class FakeUnitOfWork:
    """Works on a copy of the state; a commit keeps it with the events recorded."""

    def __init__(self, kept: State, tenant_id: str) -> None:
        self.kept, self.tenant_id = kept, tenant_id
        self.state = copy.deepcopy(kept)
        self.repos = fake_repositories(self.state, tenant_id)
        self.transaction: Any = None

    def record(self, event: EventData, *, subject: str, cause: Any = None) -> None:
        self.state.events.append(event)

    async def commit(self) -> None:
        self.kept.__dict__.update(copy.deepcopy(self.state).__dict__)

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


@dataclass
class PercentOfContract:
    """Every salesman on one plan: ``rate`` percent of the contract total, nothing for a
    freebie."""

    rate: Decimal = Decimal("10")
    version: str = "1"
    advance: Decimal = Decimal("0.00")

    def evaluate(
        self, tenant: str, salesman_id: str, on: date, job: JobFigures, month_volume: Decimal
    ) -> Evaluation:
        base = job.contract_total
        amount = Decimal("0.00") if job.freebie else base * self.rate / 100
        return Evaluation(
            plan_id="flat-rate",
            plan_version=self.version,
            plan_hash=f"hash-{self.version}",
            amount=amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
            advance=self.advance,
            lines=(f"{self.rate}% of {base}",),
            figures={"base": str(base), "rate": str(self.rate), "month_volume": str(month_volume)},
        )


async def _no_figures() -> CommissionsFigures:
    return CommissionsFigures(amounts={}, payouts_pending=0, advances_outstanding=Decimal("0"))


def fake_deps(plans: Any = None, now: datetime | None = None) -> tuple[CommissionsDeps, State]:
    state = State()
    at = now or datetime(2026, 12, 1, 15, tzinfo=UTC)
    deps = CommissionsDeps(
        unit_of_work=lambda tenant: FakeUnitOfWork(state, tenant),  # type: ignore[arg-type,return-value]
        plans=plans or PercentOfContract(),
        figures=lambda: _no_figures(),
        clock=lambda: at,
    )
    return deps, state
