"""What the tickets handlers depend on, as interfaces: the unit of work with its repositories,
and the policy layer. ``app.py`` wires the real ones; unit tests pass fakes (tests/unit/tickets),
and a contract test runs the same cases against both (tests/contract)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Protocol

from services.tickets.domain import JobCustomerRecord, PastJob, Ticket, Visit
from services.tickets.domain.end_of_day import EndOfDay, EndOfDayRun
from services.tickets.domain.plans import MaintenancePlan
from services.tickets.domain.values import Queue, TicketStatus, TicketType
from services.tickets.metrics import TicketsMetrics
from shared.platform.storage.uow import ServiceUnitOfWork
from shared.policy.decider import Decider


@dataclass(frozen=True)
class TicketFilter:
    """What a ticket list is narrowed to; ``visible_to`` limits it to a field user's own work
    (their user id as a technician, their crews as an installer)."""

    queue: Queue | None = None
    type: TicketType | None = None
    status: TicketStatus | None = None
    technician_id: str | None = None
    job_id: str | None = None
    customer: str | None = None  # text in the customer's name or address
    scheduled_from: date | None = None
    scheduled_to: date | None = None
    visible_to: tuple[str, tuple[str, ...]] | None = None


class TicketStore(Protocol):
    async def add(self, ticket: Ticket) -> None: ...
    async def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None: ...
    async def save(self, ticket: Ticket, *, at: datetime) -> None: ...
    async def next_number(self, year: int) -> str: ...
    async def find(self, where: TicketFilter, *, limit: int, offset: int) -> list[Ticket]: ...
    async def follow_ups_due(
        self, before: date, *, limit: int, skip_locked: bool = True
    ) -> list[str]:
        """Ids of tickets whose next follow-up was due before ``before``, locked for this
        transaction; those another transaction holds are skipped (one sweeper acts on each),
        or with ``skip_locked=False`` waited for (the end-of-day move, which runs once)."""
        ...


class PastJobStore(Protocol):
    async def customer(self, job_id: str) -> JobCustomerRecord | None: ...
    async def get(self, job_id: str) -> PastJob | None: ...
    async def get_many(self, job_ids: Sequence[str]) -> dict[str, PastJob]: ...
    async def put_many(self, jobs: Sequence[PastJob]) -> None:
        """Keep each job as given (inserted, or replacing what was kept)."""
        ...

    async def set_crews(self, members: Mapping[str, Sequence[str]]) -> None:
        """Each crew's members are now these (jobs names them on each crew assignment): one
        who left a crew no longer sees its work."""
        ...

    async def crews_of(self, user_id: str) -> tuple[str, ...]: ...


class TechnicianStore(Protocol):
    """Technicians' daily capacity and their booked visits."""

    async def capacity(self, user_id: str, *, for_update: bool = False) -> int | None:
        """Visits a day, None if none is set; ``for_update`` locks the technician's row, so a
        booking counts their days while no other booking for them can."""
        ...

    async def set_capacity(self, user_id: str, visits_a_day: int | None) -> None: ...
    async def capacities(self) -> dict[str, int]: ...
    async def booked(self, user_id: str, days: Sequence[date]) -> dict[date, int]:
        """Visits already booked for the technician on each of ``days`` (absent: none)."""
        ...

    async def book(self, ticket_id: str, visits: Sequence[Visit]) -> None: ...
    async def book_many(self, bookings: Sequence[tuple[str, Visit]]) -> None:
        """(ticket id, visit) pairs, at once; one already booked stays as it is."""
        ...

    async def unbook(self, ticket_id: str, technician_id: str, days: Sequence[date]) -> None: ...
    async def release(self, ticket_id: str, from_day: date) -> None:
        """Free the ticket's visits on and after ``from_day`` (it was closed)."""
        ...

    async def booked_for(self, ticket_id: str) -> list[Visit]:
        """Every visit booked for the ticket (its own and, for a plan's tech work order, the
        plan's)."""
        ...

    async def bookings(
        self, start: date, end: date, user_id: str | None = None
    ) -> list[tuple[date, str, str]]:
        """(day, technician, ticket id) of every visit booked from ``start`` to ``end``."""
        ...


class PlanStore(Protocol):
    async def add(self, plan: MaintenancePlan) -> None: ...
    async def get(self, plan_id: str, *, for_update: bool = False) -> MaintenancePlan | None: ...
    async def save(self, plan: MaintenancePlan) -> None: ...
    async def find(
        self, *, status: str | None, limit: int, offset: int
    ) -> list[MaintenancePlan]: ...
    async def save_many(self, plans: Sequence[MaintenancePlan]) -> None: ...
    async def to_fill(self, through: date, *, limit: int) -> list[MaintenancePlan]:
        """Active plans generated only up to before ``through``, locked for this transaction
        and skipped if another holds them (one filler acts on each)."""
        ...


class EndOfDayStore(Protocol):
    async def config(self) -> EndOfDay | None: ...
    async def configure(self, config: EndOfDay) -> None: ...
    async def claim(self, day: date, *, by: str, at: datetime) -> bool:
        """Record that ``day``'s move runs now; False if it already ran (or runs now in another
        transaction, which this one waits for): the move happens once per tenant and day."""
        ...

    async def finish(self, day: date, moved: int) -> None: ...
    async def run(self, day: date) -> EndOfDayRun | None: ...


class RoutingStore(Protocol):
    """The tenant's routing table: which product admin takes tickets of a trade or product."""

    async def table(self) -> dict[str, str]: ...
    async def route(self, key: str, admin_id: str | None) -> None: ...


@dataclass(frozen=True)
class TicketsRepositories:
    tickets: TicketStore
    jobs: PastJobStore
    routing: RoutingStore
    technicians: TechnicianStore
    end_of_day: EndOfDayStore
    plans: PlanStore


# One transaction: a tenant's tickets, what it knows of jobs, the events recorded, the decisions.
TicketsUnitOfWork = ServiceUnitOfWork[TicketsRepositories]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TicketsDeps:
    """Everything a handler needs, built once by the composition root."""

    unit_of_work: Callable[[str], TicketsUnitOfWork]  # by tenant
    policy: Decider
    metrics: TicketsMetrics = field(default_factory=TicketsMetrics)
    clock: Callable[[], datetime] = field(default=utc_now)
