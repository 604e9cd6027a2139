"""The JobStore port (services/jobs/ports.py), as the jobs handlers use it: the same checks on
the fake (tests/unit/jobs/fakes.py) and on the SQL repository (services/jobs/tables.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from services.jobs.domain import Job
from services.jobs.domain.values import (
    Address,
    ApprovalRequest,
    ChangeOrder,
    Customer,
    Document,
    Financials,
    Inspection,
    InsuranceClaim,
    LineItem,
    Materials,
    Measurements,
    Milestone,
    Permits,
    ProductionStatus,
    Scheduling,
    StatusChange,
    Team,
)
from services.jobs.tables import jobs as jobs_table
from tests.contract.adapters import Adapter, SqlAdapter, row_is_locked

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_serial = iter(range(1_000_000))


def job(
    tenant: str = "acme",
    *,
    job_id: str | None = None,
    customer: str = "Dana Reyes",
    address: str = "12 Elm St",
    created_at: datetime = NOW,
    milestone: Milestone = Milestone.LEAD,
    production: ProductionStatus | None = None,
    sales_rep: str | None = "sam",
    crew: str | None = None,
    job_number: str | None = None,
    price: str | None = None,
    change_orders: tuple[str, ...] = (),
) -> Job:
    """A job with the fields the columns and queries read; the rest left at their defaults."""
    return Job(
        tenant_id=tenant,
        job_id=job_id or f"job-{next(_serial):06d}",
        created_by="sam",
        created_at=created_at,
        customer=Customer(name=customer),
        address=Address(line=address),
        milestone=milestone,
        production_status=production,
        team=Team(sales_rep_id=sales_rep, crew_id=crew),
        job_number=job_number,
        financials=Financials(base_contract_price=Decimal(price) if price else None),
        change_orders=[
            ChangeOrder(signed_on=date(2026, 3, 1), amount=Decimal(amount), note="co", by="ann")
            for amount in change_orders
        ],
    )


def full_job(tenant: str = "acme") -> Job:
    """Every group of a job's fields filled in, with values JSON has to work to keep (decimals,
    dates, aware datetimes, tuples, floats, nested lists)."""
    at = datetime(2026, 3, 2, 14, 30, 15, 123456, tzinfo=UTC)
    return Job(
        tenant_id=tenant,
        job_id="job-full",
        version=7,
        created_by="sam",
        created_at=at - timedelta(days=30),
        customer=Customer(name="Dana Reyes", phone="555-0100", email="dana@example.com"),
        address=Address(
            line="12 Elm St",
            city="Austin",
            state="TX",
            postal_code="78701",
            latitude=30.2672,
            longitude=-97.7431,
        ),
        branch="north",
        lead_source="referral",
        trades=["roofing", "gutters"],
        team=Team(
            sales_rep_id="sam",
            csa_id="ann",
            production_manager_id="pat",
            project_manager_id="pete",
            crew_id="crew-1",
        ),
        milestone=Milestone.APPROVED,
        production_status=ProductionStatus.SCHEDULED,
        job_number="2026-0042",
        scheduling=Scheduling(
            sold_on=date(2026, 2, 20),
            order_date=date(2026, 2, 22),
            start_date=date(2026, 3, 9),
            completion_date=date(2026, 3, 10),
            duration_days=2,
            complexity=2,
        ),
        financials=Financials(
            sale_price=Decimal("12000.00"),
            base_contract_price=Decimal("12500.00"),
            contract_signed_on=date(2026, 2, 20),
        ),
        permits=Permits(
            permit_status="approved",
            permit_number="P-77",
            inspections=(Inspection(kind="framing", on=date(2026, 3, 3), result="passed"),),
        ),
        materials=Materials(
            manufacturer="GAF",
            product="Timberline",
            colour="Charcoal",
            quantity_squares=Decimal("32.50"),
            supplier="ABC Supply",
            colour_confirmed=True,
            order_date=date(2026, 2, 22),
            delivery_date=date(2026, 3, 6),
            supplier_status="confirmed",
        ),
        measurements=Measurements(
            roof_squares=Decimal("31.75"), pitch="6/12", measured_on=date(2026, 2, 10)
        ),
        insurance=InsuranceClaim(
            carrier="Acme Mutual",
            claim_number="C-1",
            deductible=Decimal("1000.00"),
            rcv=Decimal("15000.00"),
            acv=Decimal("11000.00"),
            recoverable_depreciation=Decimal("4000.00"),
        ),
        line_items=[
            LineItem(
                description="Roof",
                quantity=Decimal("31.75"),
                unit_price=Decimal("350.00"),
                trade="roofing",
                insurance_line_ref="RFG-1",
                completed=True,
                completed_at=at,
            )
        ],
        documents=[
            Document(
                type="photo",
                checklist="property",
                uploaded_by="ann",
                uploaded_by_roles=["csa"],
                uploaded_at=at,
                location="https://files.example/1.jpg",
                name="front.jpg",
            )
        ],
        change_orders=[
            ChangeOrder(
                signed_on=date(2026, 2, 25),
                amount=Decimal("-250.00"),
                note="no skylight",
                by="ann",
                adjustment=True,
            )
        ],
        approval_requests=[
            ApprovalRequest(
                to_milestone=Milestone.COMPLETED,
                requested_by="pete",
                requested_at=at,
                status="rejected",
                decided_by="boss",
                decided_at=at + timedelta(hours=1),
                decision_note="not yet",
            )
        ],
        history=[
            StatusChange(
                scale="milestone",
                from_status="prospect",
                to_status="approved",
                at=at,
                by="ann",
                reason="sold",
            )
        ],
        handed_off_at=at,
        handed_off_by="ann",
        final_payment_received_at=at + timedelta(days=20),
        cancel_reason=None,
    )


# -- add, get, save -------------------------------------------------------------------------------


async def test_an_added_job_reads_back_with_every_field(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    added = full_job()
    await store.add(added)

    for for_update in (False, True):
        got = await store.get("job-full", for_update=for_update)
        assert got == added
        assert got is not None and got.version == 7
        assert got.model_dump(mode="json") == added.model_dump(mode="json")


async def test_a_job_that_is_not_there_is_none(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    await store.add(job(job_id="job-1"))
    assert await store.get("job-2") is None
    assert await store.get("job-2", for_update=True) is None


async def test_a_saved_job_reads_back_as_saved(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    await store.add(job(job_id="job-1"))

    loaded = await store.get("job-1", for_update=True)
    assert loaded is not None
    loaded.milestone = Milestone.APPROVED
    loaded.production_status = ProductionStatus.SOLD
    loaded.job_number = "2026-0001"
    loaded.team = Team(sales_rep_id="sam", crew_id="crew-9")
    loaded.financials = Financials(base_contract_price=Decimal("9000.00"))
    loaded.version += 2
    await store.save(loaded, at=NOW + timedelta(hours=1))

    again = await store.get("job-1")
    assert again == loaded
    assert again is not None and again.version == 2
    assert (again.milestone, again.production_status, again.team.crew_id) == (
        Milestone.APPROVED,
        ProductionStatus.SOLD,
        "crew-9",
    )
    # and the columns the queries filter on follow the document
    assert [j.job_id for j in await store.find(text="2026-0001")] == ["job-1"]
    assert [j.job_id for j in await store.find(crew_ids=["crew-9"])] == ["job-1"]


async def test_the_store_keeps_what_was_added_or_saved_not_later_changes(
    adapter: Adapter,
) -> None:
    """A handler changes the job it loaded; until it saves, the store still has the old one."""
    store = adapter.jobs("acme")
    added = job(job_id="job-1", customer="Dana")
    await store.add(added)
    added.customer = Customer(name="Changed after add")

    loaded = await store.get("job-1")
    assert loaded is not None and loaded.customer.name == "Dana"
    loaded.customer = Customer(name="Changed after get")
    loaded.version = 5
    reloaded = await store.get("job-1")
    assert reloaded is not None
    assert (reloaded.customer.name, reloaded.version) == ("Dana", 0)

    await store.save(reloaded, at=NOW)
    reloaded.customer = Customer(name="Changed after save")
    [found] = await store.find()
    found.customer = Customer(name="Changed after find")
    final = await store.get("job-1")
    assert final is not None and final.customer.name == "Dana"


async def test_saving_a_job_that_was_never_added_stores_nothing(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    await store.save(job(job_id="ghost"), at=NOW)
    assert await store.get("ghost") is None
    assert await store.find() == []


# -- tenants --------------------------------------------------------------------------------------


async def test_another_tenants_job_is_invisible(adapter: Adapter) -> None:
    acme, globex = adapter.jobs("acme"), adapter.jobs("globex")
    theirs = job("globex", job_id="job-1", customer="Globex Customer", crew="crew-g", price="500")
    await globex.add(theirs)
    await globex.audit("job-1", actor="gus", action="created", at=NOW, detail={})
    await globex.acknowledge("job-1", "billing", "billing.x.v1", "e1", NOW)

    assert await acme.get("job-1") is None
    assert await acme.get("job-1", for_update=True) is None
    assert await acme.find() == []
    assert await acme.find(text="Globex") == []
    assert await acme.find(crew_ids=["crew-g"]) == []
    assert await acme.audit_trail("job-1") == []
    assert await acme.acknowledgements("job-1") == {}
    assert await acme.board("milestone") == []
    assert await acme.board("production_status") == []

    # acme saving a job of the same id does not touch globex's
    await acme.save(job("acme", job_id="job-1", customer="Overwritten"), at=NOW)
    kept = await globex.get("job-1")
    assert kept is not None and kept.customer.name == "Globex Customer"


async def test_two_tenants_may_use_the_same_job_id(adapter: Adapter) -> None:
    acme, globex = adapter.jobs("acme"), adapter.jobs("globex")
    await acme.add(job("acme", job_id="job-1", customer="Acme Customer"))
    await globex.add(job("globex", job_id="job-1", customer="Globex Customer"))

    mine, theirs = await acme.get("job-1"), await globex.get("job-1")
    assert mine is not None and mine.customer.name == "Acme Customer"
    assert theirs is not None and theirs.customer.name == "Globex Customer"
    assert [j.customer.name for j in await acme.find()] == ["Acme Customer"]


# -- job numbers ----------------------------------------------------------------------------------


async def test_job_numbers_count_up_per_tenant_and_never_repeat_across_years(
    adapter: Adapter,
) -> None:
    """One counter per tenant; the year is the prefix (a new year does not restart it)."""
    acme, globex = adapter.jobs("acme"), adapter.jobs("globex")
    assert await acme.next_job_number(2026) == "2026-0001"
    assert await acme.next_job_number(2026) == "2026-0002"
    assert await globex.next_job_number(2026) == "2026-0001"
    assert await acme.next_job_number(2027) == "2027-0003"
    assert await adapter.jobs("acme").next_job_number(2027) == "2027-0004"


# -- audit ----------------------------------------------------------------------------------------


async def test_the_audit_trail_lists_a_jobs_entries_in_the_order_written(
    adapter: Adapter,
) -> None:
    store = adapter.jobs("acme")
    # written out of time order on purpose: the trail is in the order written
    await store.audit("job-1", actor="sam", action="created", at=NOW, detail={"customer": "Dana"})
    await store.audit("job-2", actor="sam", action="created", at=NOW, detail={})
    await store.audit(
        "job-1",
        actor="ann",
        action="milestone",
        at=NOW - timedelta(hours=1),
        detail={"to": "approved", "price": "12500.00", "items": [1, 2]},
        reason="signed",
    )

    trail = await store.audit_trail("job-1")
    assert [
        (e["job_id"], e["actor"], e["action"], e["at"], e["detail"], e["reason"]) for e in trail
    ] == [
        ("job-1", "sam", "created", NOW, {"customer": "Dana"}, None),
        (
            "job-1",
            "ann",
            "milestone",
            NOW - timedelta(hours=1),
            {"to": "approved", "price": "12500.00", "items": [1, 2]},
            "signed",
        ),
    ]
    # the whole row, as the audit endpoint returns it
    assert [set(e) for e in trail] == [
        {"id", "tenant_id", "job_id", "at", "actor", "action", "reason", "detail"}
    ] * 2
    assert {e["tenant_id"] for e in trail} == {"acme"}
    assert trail[0]["id"] < trail[1]["id"]
    assert await store.audit_trail("job-3") == []


# -- acknowledgements ----------------------------------------------------------------------------


async def test_acknowledgements_keep_the_first_of_each_service(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    assert await store.acknowledgements("job-1") == {}

    first = NOW + timedelta(minutes=1)
    await store.acknowledge("job-1", "billing", "billing.account_opened.v1", "e1", first)
    # a redelivered (or a second) event of the service changes nothing
    await store.acknowledge(
        "job-1", "billing", "billing.account_opened.v1", "e2", first + timedelta(hours=1)
    )
    await store.acknowledge("job-1", "tickets", "tickets.opened.v1", "e3", first)
    await store.acknowledge("job-2", "messaging", "messaging.sent.v1", "e4", first)

    acks = await store.acknowledgements("job-1")
    assert acks == {"billing": first, "tickets": first}
    assert all(at.utcoffset() == timedelta(0) for at in acks.values())
    # what the caller does with the answer is not the store's
    acks["commissions"] = NOW
    assert await store.acknowledgements("job-1") == {"billing": first, "tickets": first}
    assert await store.acknowledgements("job-2") == {"messaging": first}


# -- find -----------------------------------------------------------------------------------------


async def _three_jobs(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    await store.add(
        job(
            job_id="a",
            customer="Dana Reyes",
            address="12 Elm St",
            created_at=NOW - timedelta(days=2),
            crew="crew-1",
            job_number="2026-0007",
        )
    )
    await store.add(
        job(
            job_id="b",
            customer="Rita O'Hara",
            address="8 Quarry Rd",
            created_at=NOW,
            crew="crew-2",
        )
    )
    await store.add(
        job(
            job_id="c",
            customer="Elmer 100% Fudd_",
            address="1 Oak Ave",
            created_at=NOW - timedelta(days=1),
        )
    )


async def test_find_lists_the_newest_first(adapter: Adapter) -> None:
    await _three_jobs(adapter)
    store = adapter.jobs("acme")
    assert [j.job_id for j in await store.find()] == ["b", "c", "a"]
    assert [j.job_id for j in await store.find(text=None)] == ["b", "c", "a"]
    assert [j.job_id for j in await store.find(text="")] == ["b", "c", "a"]
    found = await store.find()
    assert found[0] == await store.get("b")


async def test_find_breaks_ties_by_job_id(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    for job_id in ("m", "z", "a"):
        await store.add(job(job_id=job_id, created_at=NOW))
    await store.add(job(job_id="old", created_at=NOW - timedelta(seconds=1)))
    assert [j.job_id for j in await store.find()] == ["a", "m", "z", "old"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("dana", ["a"]),  # customer, any case
        ("QUARRY", ["b"]),  # address
        ("2026-0007", ["a"]),  # job number
        ("elm", ["c", "a"]),  # Elmer (customer) and Elm St (address)
        ("  o'hara ", ["b"]),  # the text is trimmed
        ("100%", ["c"]),  # % and _ are literal, not wildcards
        ("%", ["c"]),
        ("_", ["c"]),
        ("d_na", []),
        ("nobody", []),
    ],
)
async def test_find_by_text(adapter: Adapter, text: str, expected: list[str]) -> None:
    await _three_jobs(adapter)
    assert [j.job_id for j in await adapter.jobs("acme").find(text=text)] == expected


async def test_find_matches_the_whole_address_line(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    await store.add(
        job(job_id="x", address="12 Elm St").model_copy(
            update={"address": Address(line="12 Elm St", city="Austin", postal_code="78701")}
        )
    )
    assert [j.job_id for j in await store.find(text="st, austin, 787")] == ["x"]


async def test_find_by_crews(adapter: Adapter) -> None:
    await _three_jobs(adapter)
    store = adapter.jobs("acme")
    assert [j.job_id for j in await store.find(crew_ids=["crew-1"])] == ["a"]
    assert [j.job_id for j in await store.find(crew_ids=["crew-2", "crew-1"])] == ["b", "a"]
    assert [j.job_id for j in await store.find(crew_ids=("crew-2",))] == ["b"]
    # an installer in no crew finds nothing (not everything)
    assert await store.find(crew_ids=[]) == []
    assert await store.find(text="dana", crew_ids=["crew-2"]) == []
    assert [j.job_id for j in await store.find(text="r", crew_ids=["crew-1", "crew-2"])] == [
        "b",
        "a",
    ]


async def test_find_pages_with_limit_and_offset(adapter: Adapter) -> None:
    await _three_jobs(adapter)
    store = adapter.jobs("acme")
    assert [j.job_id for j in await store.find(limit=2)] == ["b", "c"]
    assert [j.job_id for j in await store.find(limit=2, offset=2)] == ["a"]
    assert [j.job_id for j in await store.find(limit=1, offset=1)] == ["c"]
    assert await store.find(offset=3) == []
    assert [j.job_id for j in await store.find(text="elm", limit=1, offset=1)] == ["a"]


async def test_find_returns_fifty_by_default(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    for n in range(51):
        await store.add(job(job_id=f"j{n:02d}", created_at=NOW + timedelta(minutes=n)))
    found = await store.find()
    assert len(found) == 50
    assert found[0].job_id == "j50" and found[-1].job_id == "j01"


# -- board ----------------------------------------------------------------------------------------


def _board(rows: list[tuple[str | None, bool, int, Decimal]]) -> set[tuple[Any, ...]]:
    assert all(isinstance(total, Decimal) for *_, total in rows)
    assert len({(status, assigned) for status, assigned, _, _ in rows}) == len(rows)
    return set(rows)


async def test_the_board_counts_and_totals_per_status_and_assignment(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    assert await store.board("milestone") == []

    await store.add(job(milestone=Milestone.LEAD, sales_rep=None))
    await store.add(job(milestone=Milestone.LEAD, sales_rep=None))
    await store.add(job(milestone=Milestone.LEAD))
    await store.add(
        job(
            milestone=Milestone.APPROVED,
            production=ProductionStatus.SOLD,
            price="1000.50",
            change_orders=("-0.50", "99.99"),
        )
    )
    await store.add(
        job(milestone=Milestone.APPROVED, production=ProductionStatus.SOLD, price="250.00")
    )
    await store.add(
        job(milestone=Milestone.APPROVED, production=ProductionStatus.SCHEDULED, price="10.00")
    )
    await store.add(
        job(milestone=Milestone.CANCELED, production=ProductionStatus.SOLD, price="7000.00")
    )

    assert _board(await store.board("milestone")) == {
        ("lead", False, 2, Decimal("0")),
        ("lead", True, 1, Decimal("0")),
        ("approved", True, 3, Decimal("1359.99")),
        ("canceled", True, 1, Decimal("7000.00")),
    }
    # the production board leaves canceled jobs out, and lists the unsold (None)
    assert _board(await store.board("production_status")) == {
        (None, False, 2, Decimal("0")),
        (None, True, 1, Decimal("0")),
        ("sold", True, 2, Decimal("1349.99")),
        ("scheduled", True, 1, Decimal("10.00")),
    }


async def test_the_board_follows_saved_changes(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    added = job(job_id="j", milestone=Milestone.PROSPECT, price="100.00")
    await store.add(added)
    added.milestone = Milestone.APPROVED
    added.production_status = ProductionStatus.SOLD
    added.financials = Financials(base_contract_price=Decimal("300.00"))
    await store.save(added, at=NOW)
    assert _board(await store.board("milestone")) == {("approved", True, 1, Decimal("300.00"))}
    assert _board(await store.board("production_status")) == {("sold", True, 1, Decimal("300.00"))}


# -- deadlines ------------------------------------------------------------------------------------


async def test_deadlines_due_by_a_time_soonest_first_with_their_job(adapter: Adapter) -> None:
    store = adapter.jobs("acme")
    await store.add(job(job_id="j1", customer="Dana", job_number="2026-0001"))
    await store.add(job(job_id="j2", customer="Rita"))
    await adapter.add_deadline(
        "acme", "j1", "schedule", NOW + timedelta(days=2), escalate_to="production_manager"
    )
    await adapter.add_deadline("acme", "j2", "schedule", NOW - timedelta(days=1), status="passed")
    await adapter.add_deadline("acme", "gone", "schedule", NOW + timedelta(hours=1))
    # not listed: later than asked, met, canceled, met late, another tenant's
    await adapter.add_deadline("acme", "j1", "order", NOW + timedelta(days=4))
    await adapter.add_deadline("acme", "j2", "order", NOW, status="met")
    await adapter.add_deadline("acme", "j1", "permit", NOW, status="canceled")
    await adapter.add_deadline("acme", "j2", "permit", NOW, status="met_late")
    await adapter.add_deadline("globex", "j1", "schedule", NOW)

    rows = await store.deadlines(NOW + timedelta(days=2))
    assert rows == [
        {
            "job_id": "j2",
            "task": "schedule",
            "due_at": NOW - timedelta(days=1),
            "status": "passed",
            "escalate_to": None,
            "job_number": None,
            "customer_name": "Rita",
        },
        {
            # a deadline whose job this store does not have still shows
            "job_id": "gone",
            "task": "schedule",
            "due_at": NOW + timedelta(hours=1),
            "status": "open",
            "escalate_to": None,
            "job_number": None,
            "customer_name": None,
        },
        {
            "job_id": "j1",
            "task": "schedule",
            "due_at": NOW + timedelta(days=2),  # due exactly then: included
            "status": "open",
            "escalate_to": "production_manager",
            "job_number": "2026-0001",
            "customer_name": "Dana",
        },
    ]
    assert await store.deadlines(NOW - timedelta(days=2)) == []


async def test_deadlines_name_the_job_of_their_own_tenant_only(adapter: Adapter) -> None:
    await adapter.jobs("globex").add(job("globex", job_id="j1", customer="Globex Customer"))
    await adapter.add_deadline("acme", "j1", "schedule", NOW)
    rows = await adapter.jobs("acme").deadlines(NOW)
    assert [(r["job_id"], r["customer_name"]) for r in rows] == [("j1", None)]


# -- what only the database shows -----------------------------------------------------------------


async def test_get_for_update_locks_the_jobs_row(sql_adapter: SqlAdapter) -> None:
    store = sql_adapter.jobs("acme")
    await store.add(job(job_id="locked"))
    await store.add(job(job_id="free"))
    await sql_adapter.connection.commit()  # the other connection has to see the rows
    try:
        await sql_adapter.connection.begin()
        assert await store.get("locked", for_update=True) is not None
        assert await store.get("free") is not None  # no lock without for_update

        assert await asyncio.wait_for(
            row_is_locked(sql_adapter.engine, jobs_table, "job_id", "locked"), 10
        )
        assert not await asyncio.wait_for(
            row_is_locked(sql_adapter.engine, jobs_table, "job_id", "free"), 10
        )
    finally:
        await sql_adapter.connection.rollback()
        async with sql_adapter.engine.begin() as cleanup:
            await cleanup.execute(sa.delete(jobs_table).where(jobs_table.c.tenant_id == "acme"))
