"""The CrewStore port (services/jobs/ports.py), as the jobs handlers use it: the same checks on
the fake (tests/unit/jobs/fakes.py) and on the SQL repository (services/jobs/tables.py)."""

from __future__ import annotations

import asyncio
from datetime import date

import sqlalchemy as sa

from services.jobs.domain import Crew
from services.jobs.tables import crews as crews_table
from tests.contract.adapters import Adapter, SqlAdapter, row_is_locked

MON, TUE, WED, THU, FRI = (date(2026, 3, d) for d in range(2, 7))


def crew(
    crew_id: str, name: str | None = None, *, tenant: str = "acme", members: tuple[str, ...] = ()
) -> Crew:
    return Crew(
        crew_id=crew_id,
        tenant_id=tenant,
        name=name or f"Crew {crew_id}",
        trades=["roofing"],
        home_latitude=30.0,
        home_longitude=-97.0,
        member_ids=list(members),
    )


async def test_an_added_crew_reads_back_with_every_field(adapter: Adapter) -> None:
    store = adapter.crews("acme")
    added = Crew(
        crew_id="c1",
        tenant_id="acme",
        name="North Roofers",
        trades=["roofing", "metal", "gutters"],
        home_latitude=30.2672,
        home_longitude=-97.7431,
        daily_capacity=3,
        max_complexity=2,
        member_ids=["ivan", "ines"],
    )
    await store.add(added)
    got = await store.get("c1")
    assert got == added
    assert got is not None and got.model_dump(mode="json") == added.model_dump(mode="json")
    assert await store.get("c2") is None


async def test_all_crews_by_name(adapter: Adapter) -> None:
    store = adapter.crews("acme")
    assert await store.all() == []
    await store.add(crew("c1", "Zulu"))
    await store.add(crew("c2", "Alpha"))
    await store.add(crew("c3", "Mike"))
    assert [(c.crew_id, c.name) for c in await store.all()] == [
        ("c2", "Alpha"),
        ("c3", "Mike"),
        ("c1", "Zulu"),
    ]
    assert (await store.all())[0] == crew("c2", "Alpha")


async def test_the_crews_of_an_installer(adapter: Adapter) -> None:
    store = adapter.crews("acme")
    await store.add(crew("c1", members=("ivan", "ines")))
    await store.add(crew("c2", members=("ines",)))
    await store.add(crew("c3"))
    assert await store.of_member("ivan") == ["c1"]
    assert sorted(await store.of_member("ines")) == ["c1", "c2"]
    assert await store.of_member("iv") == []  # a member is a whole user id
    assert await store.of_member("nobody") == []


async def test_another_tenants_crews_are_invisible(adapter: Adapter) -> None:
    acme, globex = adapter.crews("acme"), adapter.crews("globex")
    await globex.add(crew("c1", "Globex Crew", tenant="globex", members=("ivan",)))
    await globex.book("c1", "job-g", [MON, TUE])

    assert await acme.get("c1") is None
    assert await acme.all() == []
    assert await acme.of_member("ivan") == []
    assert await acme.calendar(MON, FRI) == []

    # the same crew id in acme is acme's own: globex's bookings do not fill it
    await acme.add(crew("c1", "Acme Crew"))
    assert await acme.busiest_day("c1", [MON, TUE], other_than="x") == 0
    got = await acme.get("c1")
    assert got is not None and got.name == "Acme Crew"
    assert [c.name for c in await globex.all()] == ["Globex Crew"]

    # booking a job of the same id in acme leaves globex's booking alone
    await acme.book("c1", "job-g", [WED])
    assert await globex.calendar(MON, FRI) == [(MON, "c1", "job-g"), (TUE, "c1", "job-g")]
    assert await acme.calendar(MON, FRI) == [(WED, "c1", "job-g")]


async def test_the_calendar_lists_bookings_in_a_range_by_day_crew_and_job(
    adapter: Adapter,
) -> None:
    store = adapter.crews("acme")
    for crew_id in ("c1", "c2"):
        await store.add(crew(crew_id))
    await store.book("c2", "j2", [TUE, MON])
    await store.book("c1", "j3", [TUE])
    await store.book("c1", "j1", [TUE, WED, FRI])

    assert await store.calendar(MON, FRI) == [
        (MON, "c2", "j2"),
        (TUE, "c1", "j1"),
        (TUE, "c1", "j3"),
        (TUE, "c2", "j2"),
        (WED, "c1", "j1"),
        (FRI, "c1", "j1"),
    ]
    # both ends are in the range
    assert await store.calendar(TUE, WED) == [
        (TUE, "c1", "j1"),
        (TUE, "c1", "j3"),
        (TUE, "c2", "j2"),
        (WED, "c1", "j1"),
    ]
    assert await store.calendar(THU, THU) == []
    assert await store.calendar(FRI, MON) == []


async def test_booking_a_job_again_replaces_its_days(adapter: Adapter) -> None:
    store = adapter.crews("acme")
    for crew_id in ("c1", "c2"):
        await store.add(crew(crew_id))
    await store.book("c1", "j1", [MON, TUE])
    await store.book("c1", "j2", [MON])

    await store.book("c1", "j1", [WED])  # rescheduled
    assert await store.calendar(MON, FRI) == [(MON, "c1", "j2"), (WED, "c1", "j1")]

    await store.book("c2", "j1", [THU])  # reassigned to another crew
    assert await store.calendar(MON, FRI) == [(MON, "c1", "j2"), (THU, "c2", "j1")]

    await store.book("c2", "j1", [])  # unassigned
    assert await store.calendar(MON, FRI) == [(MON, "c1", "j2")]


async def test_the_busiest_day_of_a_crew(adapter: Adapter) -> None:
    store = adapter.crews("acme")
    for crew_id in ("c1", "c2"):
        await store.add(crew(crew_id))
    await store.book("c1", "j1", [MON, TUE])
    await store.book("c1", "j2", [TUE, WED])
    await store.book("c1", "j3", [TUE])
    await store.book("c2", "j4", [MON, THU])
    await store.book("c2", "j5", [THU])

    assert await store.busiest_day("c1", [MON, TUE, WED], other_than="new") == 3
    assert await store.busiest_day("c1", [MON, WED], other_than="new") == 1
    assert await store.busiest_day("c1", [MON, WED, TUE], other_than="j2") == 2
    assert await store.busiest_day("c1", [THU, FRI], other_than="new") == 0
    assert await store.busiest_day("c2", [MON, THU], other_than="new") == 2
    assert await store.busiest_day("c2", [THU], other_than="j4") == 1
    assert await store.busiest_day("c1", [], other_than="new") == 0
    assert await store.busiest_day("unknown", [MON, TUE], other_than="new") == 0


async def test_busiest_day_locks_the_crews_row(sql_adapter: SqlAdapter) -> None:
    """Two assignments to one crew queue on its row, so both cannot take a day's last slot."""
    store = sql_adapter.crews("acme")
    await store.add(crew("locked"))
    await store.add(crew("free"))
    await sql_adapter.connection.commit()  # the other connection has to see the rows
    try:
        await sql_adapter.connection.begin()
        assert await store.busiest_day("locked", [MON], other_than="j") == 0
        assert await store.get("free") is not None

        assert await asyncio.wait_for(
            row_is_locked(sql_adapter.engine, crews_table, "crew_id", "locked"), 10
        )
        assert not await asyncio.wait_for(
            row_is_locked(sql_adapter.engine, crews_table, "crew_id", "free"), 10
        )
    finally:
        await sql_adapter.connection.rollback()
        async with sql_adapter.engine.begin() as cleanup:
            await cleanup.execute(sa.delete(crews_table).where(crews_table.c.tenant_id == "acme"))
