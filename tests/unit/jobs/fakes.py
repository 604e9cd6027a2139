"""Fakes for the jobs handlers: an in-memory unit of work and a policy layer that decides with
the real engine over the shipped rules but keeps its decision log in memory."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from services.jobs.domain import Crew, Job
from services.jobs.metrics import JobsMetrics
from services.jobs.ports import JobsDeps, JobsRepositories
from shared.contracts.base import EventData
from shared.platform.messaging.envelope import Envelope
from shared.policy.decision import Decision
from tests.support.fake_policy import FakePolicy


@dataclass
class Store:
    """What the fake database holds for all tenants."""

    jobs: dict[tuple[str, str], Job] = field(default_factory=dict)
    crews: dict[tuple[str, str], Crew] = field(default_factory=dict)
    bookings: set[tuple[str, str, date, str]] = field(default_factory=set)
    numbers: dict[str, int] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    events: list[tuple[str, int, EventData]] = field(default_factory=list)
    acks: dict[tuple[str, str], dict[str, datetime]] = field(default_factory=dict)
    # Rows of the policy layer's deadlines table (tenant_id, subject, task, due_at, status,
    # escalate_to), as ``FakeJobs.deadlines`` reads them; FakePolicy keeps its own.
    deadlines: list[dict[str, Any]] = field(default_factory=list)


class FakeJobs:
    """Behaves as ``services.jobs.tables.JobRepository`` does (tests/contract checks both):
    what this unit of work added or saved is visible to its own reads before the commit."""

    def __init__(self, store: Store, tenant: str, staged: dict[str, Job]) -> None:
        self.store, self.tenant, self.staged = store, tenant, staged

    def _visible(self) -> dict[str, Job]:
        """The tenant's jobs as this unit of work sees them (not copies)."""
        jobs = {job_id: j for (t, job_id), j in self.store.jobs.items() if t == self.tenant}
        return jobs | self.staged

    async def add(self, job: Job) -> None:
        self.staged[job.job_id] = copy.deepcopy(job)

    async def get(self, job_id: str, *, for_update: bool = False) -> Job | None:
        job = self._visible().get(job_id)
        return copy.deepcopy(job) if job else None

    async def save(self, job: Job, *, at: datetime) -> None:
        # An UPDATE: a job that was never added stays absent.
        if job.job_id in self._visible():
            self.staged[job.job_id] = copy.deepcopy(job)

    async def next_job_number(self, year: int) -> str:
        self.store.numbers[self.tenant] = self.store.numbers.get(self.tenant, 0) + 1
        return f"{year}-{self.store.numbers[self.tenant]:04d}"

    async def audit(
        self,
        job_id: str,
        *,
        actor: str,
        action: str,
        at: datetime,
        detail: dict[str, Any],
        reason: str | None = None,
    ) -> None:
        self.store.audit.append(
            {
                "id": len(self.store.audit) + 1,
                "tenant_id": self.tenant,
                "job_id": job_id,
                "at": at,
                "actor": actor,
                "action": action,
                "reason": reason,
                "detail": copy.deepcopy(detail),
            }
        )

    async def audit_trail(self, job_id: str) -> list[dict[str, Any]]:
        return [
            copy.deepcopy(entry)
            for entry in self.store.audit
            if (entry["tenant_id"], entry["job_id"]) == (self.tenant, job_id)
        ]

    async def acknowledgements(self, job_id: str) -> dict[str, datetime]:
        return dict(self.store.acks.get((self.tenant, job_id), {}))

    async def acknowledge(
        self, job_id: str, service: str, event_type: str, event_id: str, at: datetime
    ) -> None:
        # The first acknowledgement of a service is kept; a redelivery changes nothing.
        self.store.acks.setdefault((self.tenant, job_id), {}).setdefault(service, at)

    async def find(
        self,
        *,
        text: str | None = None,
        crew_ids: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Job]:
        """Case-insensitive substring of customer, one-line address or job number (literal,
        trimmed), newest first (then by job id)."""
        found = list(self._visible().values())
        if text:
            wanted = text.strip().lower()
            found = [
                j
                for j in found
                if any(
                    wanted in value.lower()
                    for value in (j.customer.name, j.address.one_line, j.job_number)
                    if value is not None
                )
            ]
        if crew_ids is not None:
            found = [j for j in found if j.team.crew_id in crew_ids]
        found.sort(key=lambda j: j.job_id)
        found.sort(key=lambda j: j.created_at, reverse=True)
        return [copy.deepcopy(j) for j in found[offset : offset + limit]]

    async def board(self, column: str) -> list[tuple[str | None, bool, int, Decimal]]:
        groups: dict[tuple[str | None, bool], tuple[int, Decimal]] = {}
        for job in self._visible().values():
            if column == "production_status" and job.milestone.value == "canceled":
                continue
            value = getattr(job, column)
            key = (value.value if value is not None else None, job.assigned)
            count, total = groups.get(key, (0, Decimal(0)))
            groups[key] = (count + 1, total + (job.contract_price or Decimal(0)))
        return [(status, assigned, n, total) for (status, assigned), (n, total) in groups.items()]

    async def deadlines(self, until: datetime) -> list[dict[str, Any]]:
        jobs = self._visible()
        rows = []
        for row in self.store.deadlines:
            if row["tenant_id"] != self.tenant or row["status"] not in ("open", "passed"):
                continue
            if row["due_at"] > until:
                continue
            job = jobs.get(row["subject"])
            rows.append(
                {
                    "job_id": row["subject"],
                    "task": row["task"],
                    "due_at": row["due_at"],
                    "status": row["status"],
                    "escalate_to": row["escalate_to"],
                    "job_number": job.job_number if job else None,
                    "customer_name": job.customer.name if job else None,
                }
            )
        return sorted(rows, key=lambda row: row["due_at"])


class FakeCrews:
    def __init__(self, store: Store, tenant: str) -> None:
        self.store, self.tenant = store, tenant

    async def add(self, crew: Crew) -> None:
        self.store.crews[(self.tenant, crew.crew_id)] = crew

    async def get(self, crew_id: str) -> Crew | None:
        return self.store.crews.get((self.tenant, crew_id))

    async def all(self) -> list[Crew]:
        return sorted(
            (c for (t, _), c in self.store.crews.items() if t == self.tenant),
            key=lambda c: c.name,
        )

    async def of_member(self, user_id: str) -> list[str]:
        return [c.crew_id for c in await self.all() if user_id in c.member_ids]

    async def busiest_day(self, crew_id: str, days: Sequence[date], *, other_than: str) -> int:
        counts = [
            sum(
                1
                for (t, c, d, j) in self.store.bookings
                if (t, c, d) == (self.tenant, crew_id, day) and j != other_than
            )
            for day in days
        ]
        return max(counts, default=0)

    async def book(self, crew_id: str, job_id: str, days: Sequence[date]) -> None:
        self.store.bookings = {
            b for b in self.store.bookings if not (b[0] == self.tenant and b[3] == job_id)
        }
        self.store.bookings |= {(self.tenant, crew_id, day, job_id) for day in days}

    async def calendar(self, start: date, end: date) -> list[tuple[date, str, str]]:
        return sorted(
            (d, c, j)
            for (t, c, d, j) in self.store.bookings
            if t == self.tenant and start <= d <= end
        )


class FakeUnitOfWork:
    def __init__(self, store: Store, tenant: str, policy: FakePolicy) -> None:
        self.store, self.tenant_id = store, tenant
        self.transaction = self  # the fake policy logs through this
        self._staged: dict[str, Job] = {}
        self._events: list[tuple[str, int, EventData]] = []
        self._decisions: list[Decision] = []
        self._policy = policy
        self.repos = JobsRepositories(
            jobs=FakeJobs(store, tenant, self._staged), crews=FakeCrews(store, tenant)
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._staged.clear()
        self._events.clear()
        self._decisions.clear()

    def record(
        self,
        data: EventData,
        *,
        subject: str,
        sequence: int | None = None,
        cause: Envelope | None = None,
    ) -> None:
        assert sequence is not None, "every jobs event carries the job's version"
        self._events.append((subject, sequence, data))

    def log_decision(self, decision: Decision) -> None:
        self._decisions.append(decision)

    async def commit(self) -> None:
        for job_id, job in self._staged.items():
            self.store.jobs[(self.tenant_id, job_id)] = copy.deepcopy(job)
        self.store.events += self._events
        self._policy.log += self._decisions
        self._staged.clear()
        self._events = []
        self._decisions = []


def fake_deps(now: datetime) -> tuple[JobsDeps, Store, FakePolicy]:
    store, policy = Store(), FakePolicy()
    # Typed against the ports: mypy checks that the fakes satisfy them.
    deps = JobsDeps(
        unit_of_work=lambda tenant: FakeUnitOfWork(store, tenant, policy),
        policy=policy,
        metrics=JobsMetrics(),
        clock=lambda: now,
    )
    return deps, store, policy
