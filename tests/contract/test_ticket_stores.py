"""The tickets ports against both adapters: the fakes the handler unit tests use
(tests/unit/tickets/fakes.py) and the SQL repositories (services/tickets/tables.py) on the real
PostgreSQL, each case run on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.tickets.domain import Customer, LineItem, PastJob, Ticket, Visit
from services.tickets.domain.end_of_day import EndOfDay, EndOfDayRun
from services.tickets.domain.plans import MaintenancePlan
from services.tickets.ports import TicketFilter, TicketsRepositories
from services.tickets.tables import repositories, tickets
from shared.platform.storage.db import create_engine, drop_schema
from shared.platform.storage.migrations import migrate
from tests.contract.adapters import row_is_locked
from tests.support.harness import settings_for
from tests.unit.tickets.fakes import (
    FakeEndOfDay,
    FakePastJobs,
    FakePlans,
    FakeRouting,
    FakeTechnicians,
    FakeTickets,
    Store,
)

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
DANA = Customer(name="Dana Reyes", property_address="12 Elm St", phone="555-0100")
LEE = Customer(name="Lee Park", property_address="4 Oak Ave")


@pytest.fixture(scope="module")
async def tickets_engine(namespace: str, database_url: str) -> AsyncIterator[AsyncEngine]:
    """A tickets schema of this module's own, migrated to head (no broker is reached)."""
    settings = settings_for("tickets", f"{namespace}t", database_url, "127.0.0.1:9")
    await asyncio.to_thread(migrate, settings, "services.tickets")
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await drop_schema(engine, settings.schema_name)
        await engine.dispose()


@dataclass
class Stores:
    """Repositories by tenant, all in one transaction (the SQL ones on one connection)."""

    of: object
    engine: AsyncEngine | None = None
    connection: AsyncConnection | None = None

    def __call__(self, tenant: str) -> TicketsRepositories:
        return self.of(tenant)  # type: ignore[operator]


@pytest.fixture(params=["fake", "sql"])
def stores_engine(request: pytest.FixtureRequest) -> AsyncEngine | None:
    """None for the fake; the database is started only when an "sql" test runs."""
    return request.getfixturevalue("tickets_engine") if request.param == "sql" else None


@pytest.fixture
async def stores(stores_engine: AsyncEngine | None) -> AsyncIterator[Stores]:
    if stores_engine is None:
        store = Store()
        staged: dict[str, dict[str, Ticket]] = {}
        staged_plans: dict[str, dict[str, MaintenancePlan]] = {}

        def fake(tenant: str) -> TicketsRepositories:
            return TicketsRepositories(
                tickets=FakeTickets(store, tenant, staged.setdefault(tenant, {})),
                jobs=FakePastJobs(store, tenant, NOW),
                routing=FakeRouting(store, tenant),
                technicians=FakeTechnicians(store, tenant),
                end_of_day=FakeEndOfDay(store, tenant),
                plans=FakePlans(store, tenant, staged_plans.setdefault(tenant, {})),
            )

        yield Stores(fake)
        return
    async with stores_engine.connect() as connection:
        await connection.begin()
        try:
            yield Stores(lambda tenant: repositories(connection, tenant), stores_engine, connection)
        finally:
            if connection.in_transaction():
                await connection.rollback()


def ticket(ticket_id: str, customer: Customer = DANA, **fields) -> Ticket:
    opened, _ = Ticket.open(
        **{
            "tenant_id": "acme",
            "ticket_id": ticket_id,
            "ticket_number": f"T-{ticket_id}",
            "type": "service_call",
            "customer": customer,
            "job": None,
            "line_items": [LineItem(description="Visit", unit_price=Decimal("95.00"))],
            "opened_by": "sue",
            "at": NOW,
            **fields,
        }
    )
    return opened


async def test_a_ticket_reads_back_as_stored_and_only_in_its_tenant(stores: Stores) -> None:
    saved = ticket("t1", queue="issues", follow_up_due=date(2026, 12, 2), issue="complaint")
    await stores("acme").tickets.add(saved)
    assert await stores("acme").tickets.get("t1") == saved
    assert await stores("other").tickets.get("t1") is None
    saved.schedule(date(2026, 12, 2), date(2026, 12, 2), by="sue", at=NOW)
    await stores("acme").tickets.save(saved, at=NOW)
    assert (await stores("acme").tickets.get("t1", for_update=True)) == saved


async def test_numbers_count_per_tenant(stores: Stores) -> None:
    assert [await stores("acme").tickets.next_number(2026) for _ in range(2)] == [
        "T-2026-0001",
        "T-2026-0002",
    ]
    assert await stores("other").tickets.next_number(2026) == "T-2026-0001"


async def test_lists_filter_and_page(stores: Stores) -> None:
    repo = stores("acme").tickets
    first = ticket("t1", DANA, queue="issues")
    first.assign(technician_ids=["tom"], crew_id=None, admin_id=None, by="sue")
    second = ticket("t2", LEE)
    second.opened_at = NOW + timedelta(hours=1)
    second.schedule(date(2026, 12, 5), date(2026, 12, 5), by="sue", at=NOW)
    second.assign(technician_ids=[], crew_id="c1", admin_id=None, by="sue")
    for each in (first, second):
        await repo.add(each)

    async def ids(**where) -> list[str]:
        return [t.ticket_id for t in await repo.find(TicketFilter(**where), limit=10, offset=0)]

    assert await ids() == ["t2", "t1"]  # the most recently opened first
    assert await ids(queue="issues") == ["t1"]
    assert await ids(status="scheduled") == ["t2"]
    assert await ids(technician_id="tom") == ["t1"]
    assert await ids(customer="oak") == ["t2"]
    assert await ids(customer="100%") == []  # matched literally
    assert await ids(scheduled_from=date(2026, 12, 1), scheduled_to=date(2026, 12, 5)) == ["t2"]
    assert await ids(visible_to=("tom", ())) == ["t1"]
    assert await ids(visible_to=("ian", ("c1",))) == ["t2"]
    page = await repo.find(TicketFilter(), limit=1, offset=1)
    assert [t.ticket_id for t in page] == ["t1"]


async def test_follow_ups_due_are_those_before_the_day(stores: Stores) -> None:
    repo = stores("acme").tickets
    await repo.add(ticket("t1", queue="issues", follow_up_due=date(2026, 12, 1)))
    await repo.add(ticket("t2", queue="issues", follow_up_due=date(2026, 12, 3)))
    await repo.add(ticket("t3"))
    assert await repo.follow_ups_due(date(2026, 12, 2), limit=10) == ["t1"]
    assert await repo.follow_ups_due(date(2026, 12, 4), limit=10) == ["t1", "t2"]


async def test_follow_ups_due_are_locked_for_the_sweeper_that_took_them(stores: Stores) -> None:
    if stores.engine is None or stores.connection is None:
        pytest.skip("row locks are the database's")
    # Committed, as the sweeper finds it; the sweeper's own transaction is the test's.
    async with stores.engine.begin() as setup:
        await repositories(setup, "acme").tickets.add(
            ticket("t-locked", queue="issues", follow_up_due=date(2026, 12, 1))
        )
    try:
        due = await stores("acme").tickets.follow_ups_due(date(2026, 12, 2), limit=10)
        assert due == ["t-locked"]
        assert await row_is_locked(stores.engine, tickets, "ticket_id", "t-locked")
    finally:
        await stores.connection.rollback()  # the sweeper's transaction ends, its locks with it
        async with stores.engine.begin() as cleanup:
            await cleanup.execute(sa.delete(tickets).where(tickets.c.ticket_id == "t-locked"))


async def test_what_tickets_keeps_of_a_job(stores: Stores) -> None:
    jobs = stores("acme").jobs
    lead = PastJob(job_id="j1", customer=DANA)
    await jobs.put_many([lead, PastJob(job_id="j2", customer=LEE)])
    kept = await jobs.customer("j1")
    assert kept is not None and (kept.customer_name, kept.property_address) == (
        "Dana Reyes",
        "12 Elm St",
    )
    installed = lead.model_copy(
        update={
            "job_number": "2026-0042",
            "trades": ("roofing", "gutters"),
            "crew_id": "c1",
            "crew_name": "Alpha",
            "crew_member_ids": ("ian", "ivy"),
        }
    )
    await jobs.put_many([installed])
    await jobs.set_crews({"c1": ["ian", "ivy"]})
    assert await jobs.get_many(["j1", "j2", "j3"]) == {
        "j1": installed,
        "j2": PastJob(job_id="j2", customer=LEE),
    }
    assert await jobs.get("j1") == installed
    assert (await jobs.customer("j1")).recorded_at == kept.recorded_at  # type: ignore[union-attr]
    assert await jobs.crews_of("ian") == ("c1",)
    await jobs.set_crews({"c1": ["ivy"], "c2": ["ian"]})  # ian moved to crew c2
    assert (await jobs.crews_of("ian"), await jobs.crews_of("ivy")) == (("c2",), ("c1",))
    assert await stores("other").jobs.get("j1") is None
    assert await stores("other").jobs.crews_of("ian") == ()


async def test_the_routing_table_per_tenant(stores: Stores) -> None:
    routing = stores("acme").routing
    await routing.route("metal", "mia")
    await routing.route("siding", "sid")
    await routing.route("metal", "max")
    await routing.route("siding", None)
    assert await routing.table() == {"metal": "max"}
    assert await stores("other").routing.table() == {}


async def test_technicians_capacity_and_bookings(stores: Stores) -> None:
    techs = stores("acme").technicians
    assert await techs.capacity("tom") is None
    await techs.set_capacity("tom", 2)
    await techs.set_capacity("tina", None)  # known, not limited
    assert (await techs.capacity("tom", for_update=True), await techs.capacities()) == (
        2,
        {"tom": 2},
    )
    dec2, dec3 = date(2026, 12, 2), date(2026, 12, 3)
    await techs.book(
        "t1", [Visit(day=dec2, technician_id="tom"), Visit(day=dec3, technician_id="tom")]
    )
    await techs.book(
        "t2", [Visit(day=dec2, technician_id="tom"), Visit(day=dec2, technician_id="tina")]
    )
    assert await techs.booked("tom", [dec2, dec3, date(2026, 12, 4)]) == {dec2: 2, dec3: 1}
    assert await techs.bookings(dec2, dec2) == [
        (dec2, "tina", "t2"),
        (dec2, "tom", "t1"),
        (dec2, "tom", "t2"),
    ]
    assert await techs.bookings(dec3, dec3, "tina") == []
    assert await stores("other").technicians.booked("tom", [dec2]) == {}


async def test_the_end_of_day_is_claimed_once_per_tenant_and_day(stores: Stores) -> None:
    eod = stores("acme").end_of_day
    assert await eod.config() is None
    config = EndOfDay(timezone="America/Chicago", at=time(17, 30))
    await eod.configure(config)
    assert await eod.config() == config
    dec2 = date(2026, 12, 2)
    assert await eod.claim(dec2, by="end of day", at=NOW)
    assert not await eod.claim(dec2, by="sue", at=NOW)
    await eod.finish(dec2, 4)
    assert await eod.run(dec2) == EndOfDayRun(day=dec2, by="end of day", ran_at=NOW, moved=4)
    assert await stores("other").end_of_day.claim(dec2, by="end of day", at=NOW)
    assert await eod.run(date(2026, 12, 3)) is None


def plan(plan_id: str) -> MaintenancePlan:
    proposed, _ = MaintenancePlan.propose(
        tenant_id="acme",
        plan_id=plan_id,
        customer=DANA,
        job_id=None,
        weekday=2,
        technician_id="tom",
        monthly_price=Decimal("120.00"),
        first_visit=date(2026, 12, 2),
        tracking_ticket_id=f"{plan_id}-tracking",
        tech_ticket_id=f"{plan_id}-tech",
        by="sue",
    )
    return proposed


async def test_plans_read_back_and_those_to_fill(stores: Stores) -> None:
    repo = stores("acme").plans
    trial, active = plan("p1"), plan("p2")
    active.approve(today=date(2026, 12, 3), by="sue", at=NOW)
    await repo.add(trial)
    await repo.add(active)
    assert await repo.get("p2", for_update=True) == active
    assert await stores("other").plans.get("p2") is None
    assert [p.plan_id for p in await repo.find(status="active", limit=10, offset=0)] == ["p2"]
    horizon = active.generated_through
    assert horizon is not None
    assert await repo.to_fill(horizon, limit=10) == []
    assert await repo.to_fill(horizon + timedelta(days=1), limit=10) == [active]
    active.end(today=date(2026, 12, 10), by="sue")
    trial.decline(by="sue")
    await repo.save_many([active, trial])
    assert await repo.to_fill(horizon + timedelta(days=1), limit=10) == []
    statuses = [p.status for p in await repo.find(status=None, limit=10, offset=0)]
    assert sorted(statuses) == ["declined", "ended"]


async def test_unbooking_frees_the_technicians_day(stores: Stores) -> None:
    techs = stores("acme").technicians
    dec2, dec9 = date(2026, 12, 2), date(2026, 12, 9)
    await techs.book(
        "t1", [Visit(day=dec2, technician_id="tom"), Visit(day=dec9, technician_id="tom")]
    )
    await techs.unbook("t1", "tom", [dec9])
    assert await techs.bookings(dec2, dec9) == [(dec2, "tom", "t1")]
