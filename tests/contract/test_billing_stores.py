"""The billing ports against both adapters: the fakes the handler unit tests use
(tests/unit/billing/fakes.py) and the SQL repositories (services/billing/tables.py) on the real
PostgreSQL, each case run on both. The stores of one test share one transaction (the SQL ones one
connection, rolled back when the test ends), as the repositories of a unit of work do; the
cross-tenant reads (the deadline watch's claims, the gauges' figures) read the same."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.billing.domain import Financing, Folder, MoneyRecord
from services.billing.domain.collections import Escalation, Standing, TimelineLine
from services.billing.domain.costs import Expense
from services.billing.domain.exports import (
    CustomerDocument,
    ExportRecord,
    PaymentDocument,
    SaleLine,
    WorkOrder,
)
from services.billing.domain.financing import FinancingApplication, Offer
from services.billing.domain.folder import JobLine
from services.billing.domain.insurance import Claim, ClaimIn, ReportedTotals, Supplement
from services.billing.domain.invoices import Invoice, InvoiceLine
from services.billing.domain.returned_checks import ReturnedCheck
from services.billing.ports import BillingFigures, BillingRepositories, KeptAnswer
from services.billing.stats import BillingStats
from services.billing.tables import claims_to_watch, repositories
from shared.contracts.money import PaymentReference
from shared.platform.storage.db import create_engine, drop_schema
from shared.platform.storage.migrations import migrate
from tests.support.harness import settings_for
from tests.unit.billing import fakes

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


class FakeStores:
    """The fakes over one in-memory state."""

    def __init__(self) -> None:
        self.state = fakes.State()

    def __call__(self, tenant: str) -> BillingRepositories:
        return fakes.fake_repositories(self.state, tenant)

    async def claims_to_watch(self) -> list[tuple[str, str]]:
        return fakes.claims_to_watch(self.state)

    async def figures(self) -> BillingFigures:
        return fakes.figures(self.state)

    @contextlib.asynccontextmanager
    async def refused(self) -> AsyncIterator[None]:
        """What the database's keys refuse, the fake refuses too."""
        with pytest.raises(fakes.DuplicateRow):
            yield


class SqlStores:
    """The SQL repositories on one connection, in one transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    def __call__(self, tenant: str) -> BillingRepositories:
        return repositories(self.connection, tenant)

    async def claims_to_watch(self) -> list[tuple[str, str]]:
        return await claims_to_watch(self.connection)

    async def figures(self) -> BillingFigures:
        return await BillingStats(self.connection).figures()

    @contextlib.asynccontextmanager
    async def refused(self) -> AsyncIterator[None]:
        # In a savepoint, so the test's transaction goes on after the refusal.
        with pytest.raises(sa.exc.IntegrityError):
            async with self.connection.begin_nested():
                yield


Stores = FakeStores | SqlStores


@pytest.fixture(scope="module")
async def billing_engine(namespace: str, database_url: str) -> AsyncIterator[AsyncEngine]:
    """A billing schema of this module's own, migrated to head (no broker is reached)."""
    settings = settings_for("billing", f"{namespace}bs", database_url, "127.0.0.1:9")
    await asyncio.to_thread(migrate, settings, "services.billing")
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await drop_schema(engine, settings.schema_name)
        await engine.dispose()


@pytest.fixture(params=["fake", "sql"])
def stores_engine(request: pytest.FixtureRequest) -> AsyncEngine | None:
    """None for the fake; the database is started only when an "sql" test runs."""
    return request.getfixturevalue("billing_engine") if request.param == "sql" else None


@pytest.fixture
async def stores(stores_engine: AsyncEngine | None) -> AsyncIterator[Stores]:
    if stores_engine is None:
        yield FakeStores()
        return
    async with stores_engine.connect() as connection:
        await connection.begin()
        try:
            yield SqlStores(connection)
        finally:
            await connection.rollback()


def minutes(n: int) -> datetime:
    return NOW + timedelta(minutes=n)


# -- finance folders ---------------------------------------------------------------------------


def folder(
    job_id: str, name: str = "Dana Reyes", email: str | None = "dana@home.example", opened: int = 0
) -> Folder:
    return Folder(
        job_id=job_id, customer_name=name, customer_email=email, opened_at=minutes(opened)
    )


async def test_a_folder_is_opened_once_per_job_and_only_in_its_tenant(stores: Stores) -> None:
    folders = stores("acme").folders
    assert await folders.add(folder("job-1"))
    assert not await folders.add(folder("job-1", name="Someone Else"))  # a replayed lead
    assert await folders.get("job-1") == folder("job-1")
    assert await folders.get("job-1", for_update=True) == folder("job-1")
    assert await folders.get("job-2") is None
    assert await stores("other").folders.get("job-1") is None
    assert await stores("other").folders.add(folder("job-1", name="Other's"))
    assert (await folders.get("job-1")).customer_name == "Dana Reyes"  # type: ignore[union-attr]


async def test_a_folder_is_saved_whole_and_an_unopened_one_is_not_created(stores: Stores) -> None:
    folders = stores("acme").folders
    await folders.add(folder("job-1"))
    line = JobLine(
        line_item_id="li-1",
        description="Shingles",
        quantity=Decimal("32.5"),
        unit_price=Decimal("120.00"),
        total=Decimal("3900.00"),
        insurance_line_ref="1",
        completed=True,
    )
    saved = folder("job-1").model_copy(
        update={
            "contract_price": Decimal("12480.00"),
            "financing": Financing(
                cash_amount=Decimal("2480.00"),
                loan_amount=Decimal("10000.00"),
                lender="Hearth",
                loan_status="approved",
                notes="60 months",
            ),
            "completed": True,
            "released_on": date(2026, 12, 3),
            "standing": Standing(
                open_issues={"t-1": "complaint", "t-2": "field_issue"},
                rating=2,
                held_since=minutes(5),
                hold_reasons=("open complaint",),
                refusals=1,
            ),
            "expenses_entered": True,
            "costs_settled": True,
            "payment_on_file": PaymentReference(kept_in="quickbooks", reference="cust-88"),
            "line_items": (line,),
        }
    )
    await folders.save(saved)
    assert await folders.get("job-1") == saved
    await folders.save(folder("job-9"))
    assert await folders.get("job-9") is None


async def test_a_customers_folders_by_email_else_name_oldest_first(stores: Stores) -> None:
    folders = stores("acme").folders
    await folders.add(folder("job-2", email="Dana@Home.example", opened=10))
    await folders.add(folder("job-1", opened=5))
    await folders.add(folder("job-3", email=None, opened=1))  # known by name only
    await folders.add(folder("job-4", name="Lee", email="lee@home.example"))
    assert [f.job_id for f in await folders.of_customer("dana@home.example")] == ["job-1", "job-2"]
    assert [f.job_id for f in await folders.of_customer("dana reyes")] == ["job-3"]
    assert await stores("other").folders.of_customer("dana@home.example") == []


# -- money records -----------------------------------------------------------------------------


def record(record_id: str, at: int, kind: str = "payment", amount: str = "100.00") -> MoneyRecord:
    return MoneyRecord(
        record_id=record_id,
        kind=kind,
        amount=Decimal(amount),
        on=date(2026, 12, 1),  # type: ignore[arg-type]
        description=f"record {record_id}",
        method="check" if kind == "payment" else None,
        by="bea",
        recorded_at=minutes(at),
    )


async def test_records_are_kept_once_and_read_oldest_first(stores: Stores) -> None:
    records = stores("acme").records
    assert await records.add(record("r-3", at=20), "job-1")
    assert await records.add(record("r-2", at=10, kind="change_order", amount="-250.00"), "job-1")
    assert await records.add(record("r-b", at=30), "job-1")
    assert await records.add(record("r-a", at=30), "job-1")  # the same time: by id
    assert await records.add(record("r-9", at=0), "job-2")
    assert not await records.add(record("r-3", at=40, amount="999.00"), "job-1")  # a replay
    assert not await records.add(record("r-9", at=0), "job-1")  # unique in the tenant
    kept = await records.of_job("job-1")
    assert [r.record_id for r in kept] == ["r-2", "r-3", "r-a", "r-b"]
    assert kept[0] == record("r-2", at=10, kind="change_order", amount="-250.00")
    assert kept[1].amount == Decimal("100.00")
    assert await stores("other").records.of_job("job-1") == []
    assert await stores("other").records.add(record("r-3", at=0), "job-1")


async def test_a_run_writes_records_at_once_and_reads_them_per_job_and_summed(
    stores: Stores,
) -> None:
    records = stores("acme").records
    await records.add(record("r-1", at=0), "job-1")
    await records.add_many(
        [
            ("job-1", record("r-3", at=20, kind="change_order", amount="750.00")),
            ("job-2", record("r-2", at=10)),
            ("job-1", record("r-1", at=30, amount="999.00")),  # kept before: left as it is
            ("job-1", record("r-0", at=20, kind="refund", amount="40.10")),
        ]
    )
    await records.add_many([])
    found = await records.of_jobs(["job-1", "job-2", "job-3"])
    assert {job: [r.record_id for r in kept] for job, kept in found.items()} == {
        "job-1": ["r-1", "r-0", "r-3"],
        "job-2": ["r-2"],
    }
    assert await records.totals("job-1") == {
        "payment": Decimal("100.00"),
        "change_order": Decimal("750.00"),
        "refund": Decimal("40.10"),
    }
    assert await records.totals("job-3") == {}
    assert await records.totals_of(["job-2", "job-3"]) == {"job-2": {"payment": Decimal("100.00")}}
    assert await stores("other").records.of_jobs(["job-1"]) == {}


async def test_a_run_puts_folders_whole_and_reads_them_by_job(stores: Stores) -> None:
    folders = stores("acme").folders
    await folders.add(folder("job-1"))
    priced = folder("job-1").model_copy(
        update={"contract_price": Decimal("12000.00"), "completed": True}
    )
    await folders.put_many([priced, folder("job-2", name="Sam Lee", email=None, opened=5)])
    await folders.put_many([])
    found = await folders.get_many(["job-2", "job-1", "job-9"], for_update=True)
    assert found == {
        "job-1": priced,
        "job-2": folder("job-2", name="Sam Lee", email=None, opened=5),
    }
    assert [f.job_id for f in await folders.of_customer("sam lee")] == ["job-2"]
    assert await stores("other").folders.get_many(["job-1"]) == {}


# -- idempotency -------------------------------------------------------------------------------


async def test_an_answer_is_kept_once_per_key_and_tenant(stores: Stores) -> None:
    keys = stores("acme").idempotency
    assert await keys.get("k-1") is None
    answer = KeptAnswer(
        request="abc123",
        status=201,
        response={"record": {"record_id": "r-1", "amount": "1000.00"}, "balance": {"n": [1, 2]}},
    )
    await keys.put("k-1", answer, NOW)
    assert await keys.get("k-1") == answer
    assert await stores("other").idempotency.get("k-1") is None
    async with stores.refused():
        await keys.put("k-1", answer.model_copy(update={"status": 200}), NOW)
    assert await keys.get("k-1") == answer


# -- escalations -------------------------------------------------------------------------------


def escalation(escalation_id: str, job_id: str, at: int) -> Escalation:
    return Escalation(
        escalation_id=escalation_id, job_id=job_id, reason="refuses to pay", opened_at=minutes(at)
    )


async def test_one_open_escalation_per_job_listed_oldest_first(stores: Stores) -> None:
    queue = stores("acme").escalations
    assert await queue.open(escalation("e-1", "job-1", at=10))
    assert not await queue.open(escalation("e-2", "job-1", at=20))  # job-1 has one open
    assert not await queue.open(escalation("e-1", "job-3", at=20))  # the id is taken
    assert await queue.open(escalation("e-3", "job-2", at=5))
    assert await queue.get("e-2") is None
    assert [e.escalation_id for e in await queue.listed(open_only=True)] == ["e-3", "e-1"]

    decided = escalation("e-1", "job-1", at=10).model_copy(
        update={
            "decision": "write_off",
            "note": "not worth it",
            "decided_by": "mia",
            "decided_at": minutes(30),
        }
    )
    await queue.save(decided)
    assert await queue.get("e-1", for_update=True) == decided
    assert [e.escalation_id for e in await queue.listed(open_only=True)] == ["e-3"]
    assert await queue.open(escalation("e-4", "job-1", at=40))  # decided: a new one may open
    assert [e.escalation_id for e in await queue.listed(open_only=False)] == ["e-3", "e-1", "e-4"]
    assert await stores("other").escalations.listed(open_only=False) == []
    assert await stores("other").escalations.open(escalation("e-2", "job-1", at=0))


# -- the billing timeline ----------------------------------------------------------------------


async def test_a_runs_timeline_lines_follow_in_order(stores: Stores) -> None:
    timeline = stores("acme").timeline
    first = TimelineLine(at=minutes(5), kind="hold", text="held", by="billing")
    then = TimelineLine(at=minutes(1), kind="payment", text="paid", by="bea")
    await timeline.add("job-1", first)
    await timeline.add_many([("job-2", then), ("job-1", then), ("job-1", first)])
    await timeline.add_many([])
    assert await timeline.of_job("job-1") == [first, then, first]
    assert await timeline.of_job("job-2") == [then]


async def test_the_timeline_is_read_in_the_order_it_was_written(stores: Stores) -> None:
    timeline = stores("acme").timeline
    # A step may carry an earlier time than the line before it (a returned check's own step).
    for n, at in enumerate((30, 10, 20)):
        await timeline.add("job-1", TimelineLine(at=minutes(at), kind="k", text=f"{n}", by="bea"))
    await timeline.add("job-2", TimelineLine(at=NOW, kind="k", text="other job", by="bea"))
    lines = await timeline.of_job("job-1")
    assert [line.text for line in lines] == ["0", "1", "2"]
    assert lines[0] == TimelineLine(at=minutes(30), kind="k", text="0", by="bea")
    assert await stores("other").timeline.of_job("job-1") == []


# -- expenses ----------------------------------------------------------------------------------


def expense(expense_id: str, at: int, amount: str = "410.25") -> Expense:
    return Expense(
        expense_id=expense_id,
        category="materials",
        vendor="ABC Supply",
        amount=Decimal(amount),
        incurred_on=date(2026, 11, 28),
        note="",
        by="bea",
        recorded_at=minutes(at),
    )


async def test_expenses_are_added_saved_and_read_in_the_order_recorded(stores: Stores) -> None:
    kept = stores("acme").expenses
    await kept.add("job-1", expense("x-2", at=10))
    await kept.add("job-1", expense("x-1", at=10, amount="75.00"))
    await kept.add("job-1", expense("x-0", at=20))
    await kept.add("job-2", expense("x-9", at=0))
    paid = expense("x-2", at=10).model_copy(update={"paid_on": date(2026, 12, 2)})
    await kept.save(paid)
    assert await kept.of_job("job-1") == [expense("x-1", 10, "75.00"), paid, expense("x-0", 20)]
    assert await stores("other").expenses.of_job("job-1") == []
    async with stores.refused():
        await kept.add("job-1", expense("x-0", at=30))


# -- invoices ----------------------------------------------------------------------------------


async def test_invoice_numbers_per_tenant_never_repeated_credit_notes_apart(
    stores: Stores,
) -> None:
    acme, other = stores("acme").invoices, stores("other").invoices
    assert await acme.next_number(2026) == "INV-2026-0001"
    assert await acme.next_number(2026) == "INV-2026-0002"
    assert await other.next_number(2026) == "INV-2026-0001"
    assert await acme.next_number(2026, credit_note=True) == "CN-2026-0001"
    assert await acme.next_number(2026) == "INV-2026-0003"
    # One counter per tenant across the years: a number is never handed out twice.
    assert await acme.next_number(2027) == "INV-2027-0004"
    assert await acme.next_number(2027, credit_note=True) == "CN-2027-0002"


def invoice(
    invoice_id: str, number: str, job_id: str = "job-1", credits: str | None = None
) -> Invoice:
    line = InvoiceLine(
        description="Shingles",
        quantity=Decimal("32.5"),
        unit_price=Decimal("120.00"),
        amount=Decimal("3900.00"),
        source="li-1",
    )
    return Invoice(
        invoice_id=invoice_id,
        number=number,
        job_id=job_id,
        kind="credit_note" if credits else "customer",
        bill_to="Dana Reyes",
        lines=(line,),
        total=Decimal("3900.00"),
        paid=Decimal("1000.00"),
        due=Decimal("2900.00"),
        created_at=NOW,
        by="bea",
        credits=credits,
        reason="wrong colour" if credits else "",
    )


async def test_invoices_round_trip_by_job_in_number_order_with_their_credit_notes(
    stores: Stores,
) -> None:
    kept = stores("acme").invoices
    await kept.add(invoice("i-2", "INV-2026-0002"))
    await kept.add(invoice("i-1", "INV-2026-0001"))
    await kept.add(invoice("i-3", "INV-2026-0003", job_id="job-2"))
    await kept.add(invoice("c-2", "CN-2026-0002", credits="INV-2026-0001"))
    await kept.add(invoice("c-1", "CN-2026-0001", credits="INV-2026-0001"))
    sent = invoice("i-1", "INV-2026-0001").model_copy(update={"status": "sent", "sent_at": NOW})
    await kept.save(sent)
    assert await kept.get("i-1", for_update=True) == sent
    assert [i.number for i in await kept.of_job("job-1")] == [
        "CN-2026-0001",
        "CN-2026-0002",
        "INV-2026-0001",
        "INV-2026-0002",
    ]
    notes = await kept.credit_notes_of("INV-2026-0001")
    assert sorted(n.number for n in notes) == ["CN-2026-0001", "CN-2026-0002"]
    assert await kept.credit_notes_of("INV-2026-0002") == []
    assert await stores("other").invoices.get("i-1") is None
    async with stores.refused():
        await kept.add(invoice("i-9", "INV-2026-0002"))  # a number is used once


# -- returned checks ---------------------------------------------------------------------------


def check(check_id: str, at: int) -> ReturnedCheck:
    return ReturnedCheck(
        returned_check_id=check_id,
        job_id="job-1",
        reason="not_signed",
        amount=Decimal("1800.55"),
        check_number="1042",
        payer="Acme Mutual",
        payment_id=None,
        opened_at=minutes(at),
        opened_by="bea",
    )


async def test_returned_checks_open_ones_listed_oldest_first(stores: Stores) -> None:
    kept = stores("acme").returned_checks
    await kept.put(check("rc-2", at=20))
    await kept.put(check("rc-1", at=10))
    await kept.put(check("rc-3", at=30))
    mailed = check("rc-3", at=30).model_copy(
        update={
            "called_at": minutes(31),
            "call_note": "told",
            "mailed_at": minutes(32),
            "tracking_number": "9400-1",
            "carrier": "USPS",
            "follow_up_by": minutes(4000),
        }
    )
    await kept.put(mailed)
    closed = check("rc-1", at=10).model_copy(
        update={"closed_at": minutes(50), "delivered": True, "outcome": "signed and back"}
    )
    await kept.put(closed)
    assert await kept.get("rc-3", for_update=True) == mailed
    assert [c.returned_check_id for c in await kept.listed(open_only=True)] == ["rc-2", "rc-3"]
    assert [c.returned_check_id for c in await kept.listed(open_only=False)] == [
        "rc-1",
        "rc-2",
        "rc-3",
    ]
    assert await stores("other").returned_checks.listed(open_only=False) == []


# -- insurance claims --------------------------------------------------------------------------


def claim(job_id: str = "job-1", carrier: str = "Acme Mutual") -> Claim:
    summary = ClaimIn.model_validate(
        {
            "carrier": carrier,
            "claim_number": "C-77",
            "date_of_loss": "2026-09-01",
            "deductible": "1000.00",
            "lines": [
                {
                    "code": "1",
                    "description": "Shingles",
                    "quantity": "32.5",
                    "rcv": "9000.00",
                    "depreciation": "1840.50",
                    "line_item_id": "li-1",
                },
                {"code": "2", "description": "Gutters", "rcv": "1200.10", "depreciation": "300.05"},
            ],
        }
    )
    supplement = Supplement(
        supplement_id="s-1",
        description="Ice and water shield",
        amount=Decimal("640.33"),
        justification="code upgrade",
        requested_by="bea",
        requested_at=NOW,
    )
    kept = Claim(job_id=job_id, carrier=carrier, claim_number="C-77").recorded(summary)
    return kept.released_lines(["2"], date(2026, 11, 30), "INV-2026-0007").model_copy(
        update={
            "supplements": (supplement,),
            "reported": ReportedTotals(rcv=Decimal("10200.10"), depreciation=Decimal("2140.55")),
            "notice": "notify",
        }
    )


async def test_a_claim_round_trips_with_its_lines_supplements_and_exact_cents(
    stores: Stores,
) -> None:
    claims = stores("acme").claims
    assert await claims.get("job-1") is None
    await claims.put(claim(), date(2027, 9, 1))
    kept = await claims.get("job-1", for_update=True)
    assert kept == claim()
    assert kept is not None
    assert [str(line.depreciation) for line in kept.lines] == ["1840.50", "300.05"]
    assert str(kept.supplements[0].amount) == "640.33"
    assert (kept.depreciation, kept.released, kept.outstanding) == (
        Decimal("2140.55"),
        Decimal("300.05"),
        Decimal("1840.50"),
    )
    assert kept.lines[1].released_by_invoice == "INV-2026-0007"
    changed = claim().model_copy(update={"deductible": Decimal("500.00"), "notice": "escalate"})
    await claims.put(changed, None)  # a second put replaces the first
    assert await claims.get("job-1") == changed
    assert await stores("other").claims.get("job-1") is None


async def test_the_deadline_watch_sees_claims_owed_depreciation_soonest_first(
    stores: Stores,
) -> None:
    await stores("acme").claims.put(claim("job-1"), date(2027, 9, 1))
    await stores("other").claims.put(claim("job-1"), date(2027, 3, 1))
    await stores("acme").claims.put(claim("job-2"), None)  # no deadline known yet
    settled = claim("job-3")
    settled = settled.released_lines([ln.code for ln in settled.lines], NOW.date(), "INV-9")
    await stores("acme").claims.put(settled, date(2027, 1, 1))  # nothing left to claim
    assert await stores.claims_to_watch() == [("other", "job-1"), ("acme", "job-1")]


# -- financing applications --------------------------------------------------------------------


def application(application_id: str, at: int, job_id: str = "job-1") -> FinancingApplication:
    return FinancingApplication(
        application_id=application_id,
        job_id=job_id,
        lender="Hearth",
        lender_ref=f"ref-{application_id}",
        amount=Decimal("8420.17"),
        link=f"https://lender.example/{application_id}",
        channel="email",
        status="pending",
        created_at=minutes(at),
        updated_at=minutes(at),
        by="bea",
    )


async def test_financing_applications_round_trip_oldest_first(stores: Stores) -> None:
    kept = stores("acme").financing
    await kept.put(application("a-2", at=10))
    await kept.put(application("a-1", at=10))
    await kept.put(application("a-0", at=20))
    await kept.put(application("a-9", at=0, job_id="job-2"))
    offer = Offer(
        offer_id="o-60",
        amount=Decimal("8420.17"),
        apr=Decimal("7.99"),
        term_months=60,
        monthly_payment=Decimal("170.68"),
    )
    chosen = application("a-1", at=10).model_copy(
        update={
            "status": "offer_selected",
            "offers": (offer,),
            "chosen_offer_id": "o-60",
            "updated_at": minutes(15),
        }
    )
    await kept.put(chosen)
    found = await kept.get("a-1", for_update=True)
    assert found == chosen and found is not None and str(found.offers[0].apr) == "7.99"
    assert [a.application_id for a in await kept.of_job("job-1")] == ["a-1", "a-2", "a-0"]
    assert await stores("other").financing.of_job("job-1") == []
    assert await stores("other").financing.get("a-1") is None


# -- the accounting export ---------------------------------------------------------------------


def export(doc_type: str, doc_id: str, at: int, document: object, **update: object) -> ExportRecord:
    return ExportRecord.model_validate(
        {
            "doc_type": doc_type,
            "doc_id": doc_id,
            "request_id": f"req-{doc_id}",
            "next_attempt_at": minutes(at),
            "document": document,
            "created_at": minutes(at),
            "updated_at": minutes(at),
            **update,
        }
    )


def paying(invoice: str | None, applied: str) -> PaymentDocument:
    return PaymentDocument(
        amount=Decimal("5000.00"),
        on=date(2026, 12, 1),
        customer="cust-1",
        reference="chk 1",
        invoice=invoice,
        applied=Decimal(applied),
    )


async def test_a_document_is_queued_once_listed_latest_first_and_payments_summed(
    stores: Stores,
) -> None:
    kept = stores("acme").exports
    customer = CustomerDocument(name="Dana Reyes", email="dana@home.example")
    assert await kept.queue(export("customer", "cust-1", 0, customer))
    assert not await kept.queue(export("customer", "cust-1", 5, customer))  # queued before
    await kept.queue(export("payment", "p-1", 1, paying("inv-1", "3000.10")))
    await kept.queue(export("payment", "p-2", 2, paying("inv-1", "1999.90")))
    await kept.queue(export("payment", "p-3", 3, paying(None, "0.00")))
    failed = export(
        "payment", "p-1", 1, paying("inv-1", "3000.10"),
        status="failed", attempts=3, last_error="ValidationFault: bad ref", updated_at=minutes(9),
    )  # fmt: skip
    await kept.save(failed)
    assert await kept.get("payment", "p-1", for_update=True) == failed
    assert await kept.applied_to("inv-1") == Decimal("5000.00")
    assert await kept.applied_to("inv-2") == Decimal("0.00")
    listed = await kept.listed(None, None, 10, 0)
    assert [r.doc_id for r in listed] == ["p-1", "p-3", "p-2", "cust-1"]
    assert [r.doc_id for r in await kept.listed("failed", None, 10, 0)] == ["p-1"]
    assert [r.doc_id for r in await kept.listed(None, "payment", 2, 1)] == ["p-3", "p-2"]
    assert await stores("other").exports.get("customer", "cust-1") is None
    assert await stores("other").exports.applied_to("inv-1") == Decimal("0.00")


async def test_a_work_order_is_kept_whole_per_tenant(stores: Stores) -> None:
    orders = stores("acme").work_orders
    order = WorkOrder(ticket_id="t-1", number="T-0001", customer_name="Dana Reyes")
    await orders.put(order)
    done = order.model_copy(
        update={
            "status": "complete",
            "completed_on": date(2026, 12, 2),
            "lines": (
                SaleLine(
                    description="Leak repair",
                    quantity=Decimal("1.5"),
                    unit_price=Decimal("95.00"),
                    amount=Decimal("142.50"),
                ),
            ),
        }
    )
    await orders.put(done)
    assert await orders.get("t-1", for_update=True) == done
    assert await stores("other").work_orders.get("t-1") is None


# -- the gauges' figures -----------------------------------------------------------------------


async def test_the_figures_count_every_tenant(stores: Stores) -> None:
    acme, other = stores("acme"), stores("other")
    empty = await stores.figures()
    assert (empty.held_jobs, empty.held_balance, empty.escalations_open) == (0, 0, 0)
    assert empty.payments_by_method == {} and empty.oldest_escalation_at is None

    held = Standing(held_since=NOW, hold_reasons=("open complaint",))
    for repos, job_id, price in ((acme, "job-1", "10000.00"), (other, "job-1", "500.00")):
        opened = folder(job_id).model_copy(update={"contract_price": Decimal(price)})
        await repos.folders.add(opened.model_copy(update={"standing": held}))
    await acme.folders.add(folder("job-2").model_copy(update={"contract_price": Decimal("7.00")}))
    await acme.records.add(record("p-1", at=1, amount="2500.50"), "job-1")
    await acme.records.add(record("p-2", at=2, kind="reversal", amount="100.00"), "job-1")
    await acme.records.add(record("p-3", at=3, amount="1.00"), "job-2")
    await other.records.add(record("p-1", at=1, amount="0.25"), "job-1")
    await acme.escalations.open(escalation("e-1", "job-1", at=30))
    await other.escalations.open(escalation("e-1", "job-1", at=20))
    await acme.escalations.open(
        escalation("e-2", "job-2", at=10).model_copy(update={"decision": "legal"})
    )
    await acme.claims.put(claim("job-1"), date(2027, 9, 1))
    await other.claims.put(claim("job-1").model_copy(update={"notice": "escalate"}), None)
    await acme.returned_checks.put(check("rc-1", at=0))

    figures = await stores.figures()
    assert figures.held_jobs == 2
    # acme job-1: 10000.00 - 2500.50 + 100.00; other job-1: 500.00 - 0.25.
    assert figures.held_balance == Decimal("7599.50") + Decimal("499.75")
    assert (figures.escalations_open, figures.oldest_escalation_at) == (2, minutes(20))
    assert figures.depreciation_outstanding == Decimal("3681.00")
    assert (figures.depreciation_near_deadline, figures.depreciation_past_deadline) == (1, 1)
    assert figures.payments_by_method == {"check": (3, Decimal("2501.75"))}
    assert figures.returned_checks_open == 1
