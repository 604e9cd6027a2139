"""The commissions ports against both adapters: the fakes the handler unit tests use
(tests/unit/commissions/fakes.py) and the SQL repositories on the real PostgreSQL, each case run
on both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.commissions.domain.activity import ActivityRecord, CommissionJob, Share
from services.commissions.domain.figures import Evaluation, JobFigures
from services.commissions.domain.statements import Payout
from services.commissions.ports import CommissionsRepositories
from services.commissions.tables import repositories
from shared.platform.storage.db import create_engine, drop_schema
from shared.platform.storage.migrations import migrate
from tests.support.harness import settings_for
from tests.unit.commissions.fakes import State, fake_repositories

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
Stores = Callable[[str], CommissionsRepositories]


@pytest.fixture(scope="module")
async def commissions_engine(namespace: str, database_url: str) -> AsyncIterator[AsyncEngine]:
    """A commissions schema of this module's own, migrated to head (no broker is reached)."""
    settings = settings_for("commissions", f"{namespace}cs", database_url, "127.0.0.1:9")
    await asyncio.to_thread(migrate, settings, "services.commissions")
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await drop_schema(engine, settings.schema_name)
        await engine.dispose()


@pytest.fixture(params=["fake", "sql"])
def stores_engine(request: pytest.FixtureRequest) -> AsyncEngine | None:
    return request.getfixturevalue("commissions_engine") if request.param == "sql" else None


@pytest.fixture
async def stores(stores_engine: AsyncEngine | None) -> AsyncIterator[Stores]:
    if stores_engine is None:
        state = State()
        yield lambda tenant: fake_repositories(state, tenant)
        return
    async with stores_engine.connect() as connection:
        await connection.begin()
        try:
            yield lambda tenant: repositories(connection, tenant)
        finally:
            await connection.rollback()


def record(
    record_id: str, salesman: str, on: date, amount: str, *, kind: str = "released", at: int = 0
) -> ActivityRecord:
    evaluation = Evaluation(
        plan_id="standard",
        plan_version="2",
        plan_hash="ab12cd34",
        amount=Decimal("1200.00"),
        lines=("10% of 12,000.00 = 1,200.00",),
        figures={"base": "12000.00", "rate": "10"},
    )
    return ActivityRecord(
        record_id=record_id,
        job_id="job-1",
        salesman_id=salesman,
        kind=kind,  # type: ignore[arg-type]
        effective_on=on,
        amount=Decimal(amount),
        due=Decimal(amount),
        volume=Decimal("6000.00"),
        share=Decimal("50"),
        notes="final payment received",
        evaluation=evaluation if kind == "released" else None,
        by="commissions",
        recorded_at=NOW + timedelta(minutes=at),
    )


async def test_a_job_is_kept_whole_per_tenant(stores: Stores) -> None:
    job = CommissionJob(
        figures=JobFigures(
            job_id="job-1",
            contract_price=Decimal("12000.00"),
            change_orders=Decimal("-600.10"),
            approved_on=date(2026, 11, 3),
        ),
        shares=(Share(salesman_id="sam", percent=Decimal("66.6667")),),
    )
    await stores("acme").jobs.put(job)
    released = job.model_copy(update={"released_on": date(2026, 12, 1)})
    await stores("acme").jobs.put(released)
    assert await stores("acme").jobs.get("job-1", for_update=True) == released
    assert await stores("acme").jobs.get_many(["job-1", "job-9"]) == {"job-1": released}
    assert await stores("other").jobs.get("job-1") is None


async def test_records_by_job_salesman_and_period_with_the_months_released_volume(
    stores: Stores,
) -> None:
    activity = stores("acme").activity
    await activity.add(record("r-2", "sam", date(2026, 12, 1), "800.00", at=1))
    await activity.add(record("r-1", "ria", date(2026, 12, 1), "400.00", at=1))
    await activity.add(record("r-3", "sam", date(2026, 12, 20), "-40.00", kind="adjustment", at=2))
    await activity.add(record("r-4", "sam", date(2027, 1, 2), "100.00", at=3))
    assert [r.record_id for r in await activity.of_job("job-1")] == ["r-1", "r-2", "r-3", "r-4"]
    assert [r.record_id for r in await activity.of_jobs(["job-1", "job-9"])] == [
        "r-1",
        "r-2",
        "r-3",
        "r-4",
    ]
    kept = await activity.get("r-2")
    assert kept == record("r-2", "sam", date(2026, 12, 1), "800.00", at=1)
    december = (date(2026, 12, 1), date(2027, 1, 1))
    assert [r.record_id for r in await activity.of_salesman("sam", *december)] == ["r-2", "r-3"]
    assert [r.record_id for r in await activity.of_period(*december)] == ["r-1", "r-2", "r-3"]
    assert await activity.volume("sam", *december) == Decimal("6000.00")  # released only
    await activity.assign_payout(["r-2", "r-3"], "p-1")
    assert [r.payout_id for r in await activity.of_salesman("sam", *december)] == ["p-1", "p-1"]
    assert (await activity.get("r-1")).payout_id is None  # type: ignore[union-attr]
    assert await stores("other").activity.of_job("job-1") == []
    assert await stores("other").activity.volume("sam", *december) == Decimal("0")


async def test_payouts_listed_by_salesman_and_the_paid_ones_known(stores: Stores) -> None:
    payouts = stores("acme").payouts

    def payout(payout_id: str, salesman: str, at: int) -> Payout:
        return Payout(
            payout_id=payout_id,
            salesman_id=salesman,
            start=date(2026, 12, 1),
            end=date(2027, 1, 1),
            amount=Decimal("760.00"),
            record_ids=("r-2", "r-3"),
            requested_by=salesman,
            requested_at=NOW + timedelta(minutes=at),
        )

    await payouts.put(payout("p-2", "sam", 2))
    await payouts.put(payout("p-1", "sam", 1))
    await payouts.put(payout("p-3", "ria", 0))
    paid = payout("p-1", "sam", 1).model_copy(update={"status": "paid", "paid_by": "max"})
    await payouts.put(paid)
    assert await payouts.get("p-1", for_update=True) == paid
    assert [p.payout_id for p in await payouts.listed("sam")] == ["p-1", "p-2"]
    assert [p.payout_id for p in await payouts.listed(None)] == ["p-3", "p-1", "p-2"]
    assert await payouts.paid() == {"p-1"}
    assert await stores("other").payouts.paid() == set()
