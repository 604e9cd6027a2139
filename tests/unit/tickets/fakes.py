"""Fakes for the tickets handlers: an in-memory unit of work (what a unit of work stages is kept
only when it commits) and the shared fake policy layer. tests/contract runs the store cases
against these and the SQL repositories alike."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Self

from services.tickets.domain import JobCustomerRecord, PastJob, Ticket, Visit
from services.tickets.domain.end_of_day import EndOfDay, EndOfDayRun
from services.tickets.domain.plans import MaintenancePlan
from services.tickets.ports import TicketFilter, TicketsDeps, TicketsRepositories
from shared.contracts.base import EventData
from shared.platform.messaging.envelope import Envelope
from shared.policy.decision import Decision
from tests.support.fake_policy import FakePolicy


@dataclass
class Store:
    """What the fake database holds for all tenants."""

    tickets: dict[tuple[str, str], Ticket] = field(default_factory=dict)
    jobs: dict[tuple[str, str], PastJob] = field(default_factory=dict)
    recorded_at: dict[tuple[str, str], datetime] = field(default_factory=dict)
    crew_members: set[tuple[str, str, str]] = field(default_factory=set)
    routing: dict[tuple[str, str], str] = field(default_factory=dict)
    capacity: dict[tuple[str, str], int | None] = field(default_factory=dict)
    # (tenant, ticket, technician, day) of each booked visit
    visits: set[tuple[str, str, str, date]] = field(default_factory=set)
    end_of_day: dict[str, EndOfDay] = field(default_factory=dict)
    end_of_day_runs: dict[tuple[str, date], EndOfDayRun] = field(default_factory=dict)
    plans: dict[tuple[str, str], MaintenancePlan] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    events: list[tuple[str, int | None, EventData]] = field(default_factory=list)


class FakeTickets:
    def __init__(self, store: Store, tenant: str, staged: dict[str, Ticket]) -> None:
        self.store, self.tenant, self.staged = store, tenant, staged

    def _visible(self) -> dict[str, Ticket]:
        kept = {i: t for (tenant, i), t in self.store.tickets.items() if tenant == self.tenant}
        return kept | self.staged

    async def add(self, ticket: Ticket) -> None:
        self.staged[ticket.ticket_id] = copy.deepcopy(ticket)

    async def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
        ticket = self._visible().get(ticket_id)
        return copy.deepcopy(ticket) if ticket else None

    async def save(self, ticket: Ticket, *, at: datetime) -> None:
        if ticket.ticket_id in self._visible():  # an UPDATE: never-added stays absent
            self.staged[ticket.ticket_id] = copy.deepcopy(ticket)

    async def next_number(self, year: int) -> str:
        self.store.numbers[self.tenant] = self.store.numbers.get(self.tenant, 0) + 1
        return f"T-{year}-{self.store.numbers[self.tenant]:04d}"

    async def find(self, where: TicketFilter, *, limit: int, offset: int) -> list[Ticket]:
        def matches(t: Ticket) -> bool:
            text = (where.customer or "").strip().lower()
            start = t.start_date
            return (
                (where.queue is None or t.queue == where.queue)
                and (where.type is None or t.type == where.type)
                and (where.status is None or t.status == where.status)
                and (where.job_id is None or t.job_id == where.job_id)
                and (
                    where.technician_id is None
                    or where.technician_id in t.assignment.technician_ids
                )
                and (
                    not text
                    or text in t.customer.name.lower()
                    or text in t.customer.property_address.lower()
                )
                and (
                    where.scheduled_from is None
                    or (start is not None and start >= where.scheduled_from)
                )
                and (
                    where.scheduled_to is None
                    or (start is not None and start <= where.scheduled_to)
                )
                and (where.visible_to is None or t.assignment.includes(*where.visible_to))
            )

        found = sorted(
            (t for t in self._visible().values() if matches(t)),
            key=lambda t: (-t.opened_at.timestamp(), t.ticket_id),
        )
        return [copy.deepcopy(t) for t in found[offset : offset + limit]]

    async def follow_ups_due(
        self, before: date, *, limit: int, skip_locked: bool = True
    ) -> list[str]:
        due = [
            t
            for t in self._visible().values()
            if t.follow_up.next_due is not None and t.follow_up.next_due < before
        ]
        due.sort(key=lambda t: (t.follow_up.next_due, t.ticket_id))
        return [t.ticket_id for t in due[:limit]]


class FakePastJobs:
    def __init__(self, store: Store, tenant: str, now: datetime) -> None:
        self.store, self.tenant, self.now = store, tenant, now

    async def customer(self, job_id: str) -> JobCustomerRecord | None:
        job = self.store.jobs.get((self.tenant, job_id))
        if job is None:
            return None
        return JobCustomerRecord(
            job_id=job_id,
            customer_name=job.customer.name,
            property_address=job.customer.property_address,
            tenant_id=self.tenant,
            recorded_at=self.store.recorded_at[(self.tenant, job_id)],
        )

    async def get(self, job_id: str) -> PastJob | None:
        return self.store.jobs.get((self.tenant, job_id))

    async def get_many(self, job_ids: Sequence[str]) -> dict[str, PastJob]:
        return {
            job_id: job
            for job_id in job_ids
            if (job := self.store.jobs.get((self.tenant, job_id))) is not None
        }

    async def put_many(self, jobs: Sequence[PastJob]) -> None:
        for job in jobs:
            self.store.jobs[(self.tenant, job.job_id)] = job
            self.store.recorded_at.setdefault((self.tenant, job.job_id), self.now)

    async def set_crews(self, members: Mapping[str, Sequence[str]]) -> None:
        self.store.crew_members = {
            row
            for row in self.store.crew_members
            if row[:2] not in {(self.tenant, c) for c in members}
        } | {(self.tenant, crew, user) for crew, users in members.items() for user in users}

    async def crews_of(self, user_id: str) -> tuple[str, ...]:
        return tuple(
            sorted(c for t, c, u in self.store.crew_members if t == self.tenant and u == user_id)
        )


class FakeRouting:
    def __init__(self, store: Store, tenant: str) -> None:
        self.store, self.tenant = store, tenant

    async def table(self) -> dict[str, str]:
        return {k: a for (t, k), a in self.store.routing.items() if t == self.tenant}

    async def route(self, key: str, admin_id: str | None) -> None:
        if admin_id is None:
            self.store.routing.pop((self.tenant, key), None)
        else:
            self.store.routing[(self.tenant, key)] = admin_id


class FakeTechnicians:
    def __init__(self, store: Store, tenant: str) -> None:
        self.store, self.tenant = store, tenant

    async def capacity(self, user_id: str, *, for_update: bool = False) -> int | None:
        return self.store.capacity.get((self.tenant, user_id))

    async def set_capacity(self, user_id: str, visits_a_day: int | None) -> None:
        self.store.capacity[(self.tenant, user_id)] = visits_a_day

    async def capacities(self) -> dict[str, int]:
        return {
            user: n
            for (tenant, user), n in self.store.capacity.items()
            if tenant == self.tenant and n is not None
        }

    async def booked(self, user_id: str, days: Sequence[date]) -> dict[date, int]:
        counts: dict[date, int] = {}
        for tenant, _, tech, day in self.store.visits:
            if tenant == self.tenant and tech == user_id and day in days:
                counts[day] = counts.get(day, 0) + 1
        return counts

    async def book(self, ticket_id: str, visits: Sequence[Visit]) -> None:
        await self.book_many([(ticket_id, visit) for visit in visits])

    async def book_many(self, bookings: Sequence[tuple[str, Visit]]) -> None:
        self.store.visits |= {(self.tenant, t, v.technician_id, v.day) for t, v in bookings}

    async def release(self, ticket_id: str, from_day: date) -> None:
        self.store.visits = {
            v
            for v in self.store.visits
            if not (v[:2] == (self.tenant, ticket_id) and v[3] >= from_day)
        }

    async def booked_for(self, ticket_id: str) -> list[Visit]:
        return [
            Visit(day=day, technician_id=tech)
            for tenant, ticket, tech, day in self.store.visits
            if (tenant, ticket) == (self.tenant, ticket_id)
        ]

    async def unbook(self, ticket_id: str, technician_id: str, days: Sequence[date]) -> None:
        self.store.visits -= {(self.tenant, ticket_id, technician_id, day) for day in days}

    async def bookings(
        self, start: date, end: date, user_id: str | None = None
    ) -> list[tuple[date, str, str]]:
        return sorted(
            (day, tech, ticket)
            for tenant, ticket, tech, day in self.store.visits
            if tenant == self.tenant
            and start <= day <= end
            and (user_id is None or tech == user_id)
        )


class FakePlans:
    def __init__(self, store: Store, tenant: str, staged: dict[str, MaintenancePlan]) -> None:
        self.store, self.tenant, self.staged = store, tenant, staged

    def _visible(self) -> dict[str, MaintenancePlan]:
        kept = {i: p for (tenant, i), p in self.store.plans.items() if tenant == self.tenant}
        return kept | self.staged

    async def add(self, plan: MaintenancePlan) -> None:
        self.staged[plan.plan_id] = copy.deepcopy(plan)

    async def get(self, plan_id: str, *, for_update: bool = False) -> MaintenancePlan | None:
        plan = self._visible().get(plan_id)
        return copy.deepcopy(plan) if plan else None

    async def save(self, plan: MaintenancePlan) -> None:
        if plan.plan_id in self._visible():
            self.staged[plan.plan_id] = copy.deepcopy(plan)

    async def find(self, *, status: str | None, limit: int, offset: int) -> list[MaintenancePlan]:
        found = [p for p in self._visible().values() if status is None or p.status == status]
        return [copy.deepcopy(p) for p in found[::-1][offset : offset + limit]]

    async def save_many(self, plans: Sequence[MaintenancePlan]) -> None:
        for plan in plans:
            await self.save(plan)

    async def to_fill(self, through: date, *, limit: int) -> list[MaintenancePlan]:
        due = [
            p
            for p in self._visible().values()
            if p.status == "active"
            and p.generated_through is not None
            and p.generated_through < through
        ]
        due.sort(key=lambda p: (p.generated_through, p.plan_id))
        return [copy.deepcopy(p) for p in due[:limit]]


class FakeEndOfDay:
    def __init__(self, store: Store, tenant: str) -> None:
        self.store, self.tenant = store, tenant

    async def config(self) -> EndOfDay | None:
        return self.store.end_of_day.get(self.tenant)

    async def configure(self, config: EndOfDay) -> None:
        self.store.end_of_day[self.tenant] = config

    async def claim(self, day: date, *, by: str, at: datetime) -> bool:
        if (self.tenant, day) in self.store.end_of_day_runs:
            return False
        self.store.end_of_day_runs[(self.tenant, day)] = EndOfDayRun(
            day=day, by=by, ran_at=at, moved=0
        )
        return True

    async def finish(self, day: date, moved: int) -> None:
        run = self.store.end_of_day_runs[(self.tenant, day)]
        self.store.end_of_day_runs[(self.tenant, day)] = run.model_copy(update={"moved": moved})

    async def run(self, day: date) -> EndOfDayRun | None:
        return self.store.end_of_day_runs.get((self.tenant, day))


class FakeUnitOfWork:
    def __init__(self, store: Store, tenant: str, policy: FakePolicy, now: datetime) -> None:
        self.store, self.tenant_id = store, tenant
        self.transaction = self  # the fake policy logs through this
        self._staged: dict[str, Ticket] = {}
        self._staged_plans: dict[str, MaintenancePlan] = {}
        self._events: list[tuple[str, int | None, EventData]] = []
        self._decisions: list[Decision] = []
        self._policy = policy
        self.repos = TicketsRepositories(
            tickets=FakeTickets(store, tenant, self._staged),
            jobs=FakePastJobs(store, tenant, now),
            routing=FakeRouting(store, tenant),
            technicians=FakeTechnicians(store, tenant),
            end_of_day=FakeEndOfDay(store, tenant),
            plans=FakePlans(store, tenant, self._staged_plans),
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
        self._staged_plans.clear()
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
        self._events.append((subject, sequence, data))

    def log_decision(self, decision: Decision) -> None:
        self._decisions.append(decision)

    async def commit(self) -> None:
        for ticket_id, ticket in self._staged.items():
            self.store.tickets[(self.tenant_id, ticket_id)] = copy.deepcopy(ticket)
        for plan_id, plan in self._staged_plans.items():
            self.store.plans[(self.tenant_id, plan_id)] = copy.deepcopy(plan)
        self._staged_plans.clear()
        self.store.events += self._events
        self._policy.log += self._decisions
        self._staged.clear()
        self._events = []
        self._decisions = []


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


def fake_deps(now: datetime) -> tuple[TicketsDeps, Store, FakePolicy, Clock]:
    store, policy, clock = Store(), FakePolicy(), Clock(now)
    deps = TicketsDeps(
        unit_of_work=lambda tenant: FakeUnitOfWork(store, tenant, policy, clock.now),
        policy=policy,
        clock=clock,
    )
    return deps, store, policy, clock
